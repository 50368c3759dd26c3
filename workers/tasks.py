"""The grader's Celery task: unpack the request, grade it, send the result to the platform queue."""

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from celery.exceptions import Reject, SoftTimeLimitExceeded

from workers import env
from workers.celery_app import HARD_LIMIT_SECONDS, REDIS_URL, app
from workers.claims import claim_submission, lease_seconds
from workers.events import RedisStreamSink
from workers.grader import grade
from workers.logs import log_context
from workers.protocol import GRADE_TASK, MARK_RUNNING_TASK, RESULT_TASK, GradeRequest, GradeResult, Verdict
from workers.slot import grader

logger = logging.getLogger(__name__)

T = TypeVar("T")

_client: Any = None


def _claims_client() -> Any:
    """This process's client for claims and events. It fails fast: event writes happen on the thread that
    reads the job's output, so a Redis that is away must cost a refused write (kept and retried by the
    sink), never seconds of redis-py's own backoff or a socket hung while the job's pipe fills. One
    immediate retry on a fresh connection covers the stale pooled one a Redis restart leaves."""
    global _client
    if _client is None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        _client = redis.Redis.from_url(
            REDIS_URL, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 1)
        )
    return _client


# How long a grader keeps trying to claim a submission, or to send its result, through a Redis outage
# before it hands the request back to the queue (a copy is graded later; nothing is dropped).
OUTAGE_PATIENCE_SECONDS = env.outage_patience_seconds()


def _through_outage(what: str, function: Callable[[], T], submission_id: int) -> T:
    """`function()`, repeated with backoff while Redis (the broker, the claim store) does not answer;
    past OUTAGE_PATIENCE_SECONDS the request goes back on its queue (`Reject(requeue=True)`)."""
    deadline = time.monotonic() + OUTAGE_PATIENCE_SECONDS
    backoff = 0.25
    while True:
        try:
            return function()
        except Exception as error:
            if not _is_outage(error):
                raise
            if time.monotonic() + backoff > deadline:
                logger.error("submission %s: could not %s for %d s; handing the request back to the queue",
                             submission_id, what, OUTAGE_PATIENCE_SECONDS)  # fmt: skip
                raise Reject(f"could not {what}", requeue=True) from error
            logger.warning("submission %s: could not %s (%s); trying again in %.2f s",
                           submission_id, what, error, backoff)  # fmt: skip
            time.sleep(backoff)
            backoff = min(backoff * 2, 8.0)


def _is_outage(error: BaseException) -> bool:
    import kombu.exceptions
    import redis.exceptions

    return isinstance(
        error,
        redis.exceptions.ConnectionError
        | redis.exceptions.TimeoutError
        | kombu.exceptions.OperationalError
        | ConnectionError
        | TimeoutError,
    )


@app.task(
    name=GRADE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=HARD_LIMIT_SECONDS - 30,
    time_limit=HARD_LIMIT_SECONDS,
)
def grade_task(wire: dict[str, Any]) -> None:
    request = GradeRequest.from_wire(wire)
    hostname = str(grade_task.request.hostname or "")
    # Every line this job logs (ours, the grader's, the sandbox runner's) carries the submission's ids.
    with log_context(request_id=request.request_id, submission_id=request.submission_id):
        client = _claims_client()
        # One grading per submission: a redelivered or recovered copy finds the claim taken and stops here.
        claim = _through_outage(
            "claim the submission",
            lambda: claim_submission(
                client, request.submission_id, request_id=request.request_id, lease_seconds=lease_seconds()
            ),
            request.submission_id,
        )
        if claim is None:
            logger.info("submission %s is claimed by another run or already recorded; acknowledging "
                        "this copy without running it", request.submission_id)  # fmt: skip
            return
        logger.info("grading submission %s: %s (%s) on %s, claim %s", request.submission_id, request.trial,
                    request.mode.value, hostname, claim.token)  # fmt: skip
        with claim.kept_alive():
            try:
                app.send_task(
                    MARK_RUNNING_TASK, args=[request.submission_id], kwargs={"claim": claim.token},
                    queue="platform",
                )  # fmt: skip
            except Exception:  # only the "running" status waits; the run itself goes on
                logger.warning("submission %s: could not send the running note", request.submission_id)
            sink = RedisStreamSink(client, request.submission_id, claim=claim.token, claim_key=claim.key)
            try:
                result = grade(request, grader(), sink)
            except SoftTimeLimitExceeded:
                logger.error("submission %s exceeded the task's soft time limit", request.submission_id)
                result = GradeResult(
                    submission_id=request.submission_id, verdict=Verdict.INTERNAL_ERROR, score=0.0
                )
            sink.flush()
            if sink.dropped:
                logger.warning("submission %s: %d live event(s) were dropped while Redis was away",
                               request.submission_id, sink.dropped)  # fmt: skip
        if claim.lost.is_set() or sink.fenced:
            # Another run holds the submission now; its result is the one the platform waits for.
            logger.error("submission %s: the claim was taken over during the run; its result is not sent",
                         request.submission_id)  # fmt: skip
            return
        result = dataclasses.replace(
            result, request_id=request.request_id, grader=hostname, claim=claim.token
        )
        logger.info("submission %s graded: %s (%.0f) in %.2f s", request.submission_id,
                    result.verdict.value, result.score, result.duration)  # fmt: skip
        _through_outage(
            "send the result",
            lambda: app.send_task(RESULT_TASK, args=[result.to_wire()], queue="platform"),
            request.submission_id,
        )
        # Held until the platform records the result and marks the claim done: a copy of this request
        # restored meanwhile (the broker's redelivery) must not run again.
        claim.hold_for_result(HARD_LIMIT_SECONDS + 60)
