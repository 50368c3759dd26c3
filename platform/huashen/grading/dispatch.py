"""Sending GradeRequests to whatever grades them: Celery graders (distributed) or the local executor.

Submissions reach the graders through an outbox (`models.Dispatch`, written with the submission):
`dispatch_send` hands one over on commit and deletes its row; `dispatch_sweep` (beat every
GRADING_DISPATCH_SWEEP_SECONDS, the reaper thread in embedded mode) sends whatever is still there. A
broker outage therefore delays a grading and never loses it, and the API never fails after the commit.
Delivery is at least once (a send whose row could not be deleted is sent again); the grader's claim on
the submission makes a repeat harmless.
"""

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from huashen.grading import embedded
from huashen.grading.models import Dispatch, Status, Submission
from huashen.grading.results import submissions_reap
from huashen.grading.selectors import graders_for_queue, graders_online
from workers.protocol import GRADE_TASK, GradeRequest, Limits
from workers.protocol import Mode as ProtocolMode

logger = logging.getLogger(__name__)


def queue_for(request: GradeRequest) -> str:
    """`gpu` for a GPU trial while a GPU grader is heartbeating; otherwise `cpu`.

    A GPU trial must still be gradable without a GPU (slower, on the CPU fallback): a request parked on a
    queue nobody consumes would only be found by the reaper, long after the student gave up waiting.
    """
    if request.device != "gpu":
        return "cpu"
    try:
        gpu_graders = graders_for_queue(graders_online(), "gpu")
    except Exception:  # routing must not fail a submission; the CPU queue is the safe answer
        logger.warning("could not read grader heartbeats; routing by fallback", exc_info=True)
        gpu_graders = []
    if gpu_graders:
        return "gpu"
    logger.warning(
        "submission %s: no gpu grader is online; trial %s falls back to the cpu queue",
        request.submission_id,
        request.trial,
    )
    return "cpu"


# Kombu's Redis transport keeps one list per priority step (0, 3, 6, 9) and a grader's BRPOP asks the
# step-0 list first: a live submission (no priority: step 0) is always taken before any waiting regrade.
REGRADE_PRIORITY = 9


def send_grade_request(request: GradeRequest, *, priority: int = 0, to_front: bool = False) -> None:
    """Hand a request over now (raises when the broker is away). Called by `dispatch_send`, after the
    submission committed, so a grader never sees an id the database has not got.

    `priority` REGRADE_PRIORITY: a regrade's re-run, on the same queue as live work at the lowest
    priority (DMOJ-style rejudges that never starve live submissions). `to_front`: a submission whose
    grader died, sent again at the front of its queue, since its student has waited once already. The
    local executor has one queue and runs everything in turn.
    """
    if settings.HUASHEN_EXECUTOR != "celery":
        _start_local_upkeep(settings.GRADING_REAP_INTERVAL_SECONDS)
        embedded.submit(request)
        logger.info("submission %s handed to the local executor", request.submission_id)
        return
    from huashen.celery import app

    queue = queue_for(request)
    sent = app.send_task(
        GRADE_TASK,
        args=[request.to_wire()],
        queue=queue,
        headers={"request_id": request.request_id},
        retry_policy=PUBLISH_RETRY_POLICY,
        **({"priority": priority} if priority else {}),
    )
    moved = 0
    if to_front:
        from huashen.grading.redis_client import redis_client

        try:
            moved = redis_client().eval(_TO_FRONT, 1, queue, sent.id)
        except Exception:  # it is queued all the same, only not first
            moved = 0
    logger.info("submission %s sent to queue %s%s%s", request.submission_id, queue,
                " at the front" if moved else "", " (regrade)" if priority else "")  # fmt: skip


# Kombu's Redis transport pushes a message on the left of the queue's list and workers pop from the
# right: move the message just sent (the leftmost, if nobody pushed since) to the right end.
_TO_FRONT = """
local message = redis.call('LINDEX', KEYS[1], 0)
if not message or not string.find(message, ARGV[1], 1, true) then return 0 end
redis.call('LPOP', KEYS[1])
redis.call('RPUSH', KEYS[1], message)
return 1
"""


# One attempt and one quick retry on a fresh connection (a pooled one may be stale after a Redis restart);
# beyond that the sweep is the retry, and an API request is not held while the broker is away.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# The sweep leaves rows this young to their on-commit sender.
SWEEP_MIN_AGE_SECONDS = 2


def grade_request_for(submission: Submission) -> GradeRequest:
    """The GradeRequest of a submission, built from the row (and its pinned version) alone."""
    version = submission.version
    return GradeRequest(
        submission_id=submission.pk,
        trial=submission.exercise.slug,
        content_hash=version.content_hash,
        mode=ProtocolMode(submission.mode),
        code=submission.code,
        limits=Limits(**version.limits),
        device=version.device,
        request_id=str(submission.request_id),
        snippet=submission.snippet,  # a try's (huashen.grading.scratch); empty for a Run or Submit
    )


def dispatch_send(*, submission_id: int) -> bool:
    """Hand one submission's request over and delete its outbox row; False if it stays for the sweep.

    Never raises: it runs after the submission committed, where an exception would turn a stored
    submission into a 500. The row is locked (and skipped when another sender holds it), so the on-commit
    sender and the sweep never both send it.
    """
    try:
        with transaction.atomic():
            row = (
                Dispatch.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("submission__exercise", "submission__version")
                .filter(submission_id=submission_id)
                .first()
            )
            if row is None:
                return True  # already sent, or being sent by another sender
            if row.submission.status != Status.DONE:  # a reaped submission needs no grading any more
                send_grade_request(
                    grade_request_for(row.submission),
                    priority=row.priority,
                    to_front=bool(row.submission.recoveries),
                )
            row.delete()
        return True
    except Exception as error:
        logger.warning("submission %s not handed to the graders yet (%s: %s); the sweep will retry",
                       submission_id, type(error).__name__, error)  # fmt: skip
        try:
            Dispatch.objects.filter(submission_id=submission_id).update(attempts=F("attempts") + 1)
        except Exception:  # the database is what failed; the row is there all the same
            logger.debug("could not count the failed attempt of submission %s", submission_id)
        return False


def dispatch_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send every outbox row older than a moment, oldest first; how many were handed over."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=SWEEP_MIN_AGE_SECONDS)
    pending = list(
        Dispatch.objects.filter(created_at__lt=cutoff)
        .order_by("priority", "created_at")
        .values_list("submission_id", flat=True)[:limit]
    )
    sent = 0
    for submission_id in pending:
        if not dispatch_send(submission_id=submission_id):
            break  # the broker (or the database) is away: the next sweep tries again
        sent += 1
    if pending:
        logger.info("dispatch sweep: %d of %d waiting submissions handed to the graders", sent, len(pending))
    return sent


# Embedded mode has no Celery beat: the first local hand-over starts one upkeep thread that does what beat
# does in production, the outbox sweep and the reaper (a submission orphaned by a restart, its executor
# thread dead with the process, is failed once past its deadline).
_upkeep_lock = threading.Lock()
_upkeep_started = False
_stop_upkeep = threading.Event()


def _start_local_upkeep(interval: int) -> None:
    global _upkeep_started
    with _upkeep_lock:
        if _upkeep_started:
            return
        _upkeep_started = True
    threading.Thread(target=_upkeep_forever, args=(interval,), name="huashen-reaper", daemon=True).start()


def _upkeep_forever(interval: int) -> None:
    while not _stop_upkeep.wait(interval):
        try:
            # The outbox first: a submission whose hand-over failed is sent, not left for the reaper.
            embedded.with_fresh_connection(dispatch_sweep)
            reaped = embedded.with_fresh_connection(submissions_reap)
        except Exception:  # one failed sweep is logged; the next one tries again
            logger.exception("the embedded reaper failed")
            continue
        if reaped:
            logger.warning("the embedded reaper failed %s stuck submission(s)", reaped)
