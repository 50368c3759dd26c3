"""Embedded grading: the one local executor of this process and the platform's side of its callbacks.

`dispatch.send_grade_request` hands requests here when HUASHEN_EXECUTOR is `local`. The grader runs in an
executor thread; its events go into the event log (`eventlog.put`), from which WebSocket followers on the
ASGI loop are woken thread-safely; its result is recorded by the same services as a Celery grader's. The
callbacks run in the executor thread, so each call gets its own fresh database connection.

Embedded mode has no Celery beat, so the executor also starts a reaper thread: a submission orphaned by a
restart (its executor thread died with the process) is failed once past its deadline, as in production.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from huashen.grading.dispatch import dispatch_sweep
from huashen.grading.eventlog import get_event_log
from huashen.grading.outages import through_outages
from huashen.grading.services import submission_mark_running, submission_record_result, submissions_reap
from workers.local import LocalExecutor
from workers.protocol import GradeEvent, GradeRequest, GradeResult

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_executor: LocalExecutor | None = None
_stop_reaper = threading.Event()


def executor() -> LocalExecutor:
    """The process-wide executor (LOCAL_GRADER_CONCURRENCY threads), made on first use."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = LocalExecutor(settings.LOCAL_GRADER_CONCURRENCY, exercises_dir=settings.EXERCISES_DIR)
            _start_reaper(settings.GRADING_REAP_INTERVAL_SECONDS)
        return _executor


def submit(request: GradeRequest) -> "Future[None]":
    run = _Run(request.submission_id)
    return executor().submit(request, on_event=run.on_event, on_result=run.on_result)


class _Run:
    """One submission's callbacks: the first event marks it running, every event is stored."""

    def __init__(self, submission_id: int) -> None:
        self.submission_id = submission_id
        self.started = False

    def on_event(self, event: GradeEvent) -> None:
        if not self.started:
            self.started = True
            # A failed note costs only the "running" status (the reaper's deadline counts from creation).
            _with_fresh_connection(submission_mark_running, submission_id=self.submission_id)
        get_event_log().put(self.submission_id, event)

    def on_result(self, result: GradeResult) -> None:
        # There is no queue to hand a result back to here: ride out a locked or restarting database for
        # as long as a grading may take, rather than drop a finished run.
        through_outages(
            lambda: _with_fresh_connection(submission_record_result, result=result),
            what=f"recording the result of submission {result.submission_id}",
            patience_seconds=settings.GRADING_HARD_LIMIT_SECONDS,
        )


def _with_fresh_connection(function: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a service from a thread Django's request cycle never cleans up after."""
    close_old_connections()
    try:
        return function(**kwargs)
    finally:
        close_old_connections()


def _start_reaper(interval: int) -> None:
    threading.Thread(target=_reap_forever, args=(interval,), name="huashen-reaper", daemon=True).start()


def _reap_forever(interval: int) -> None:
    while not _stop_reaper.wait(interval):
        try:
            # The outbox first: a submission whose hand-over failed is sent, not left for the reaper.
            _with_fresh_connection(dispatch_sweep)
            reaped = _with_fresh_connection(submissions_reap)
        except Exception:  # one failed sweep is logged; the next one tries again
            logger.exception("the embedded reaper failed")
            continue
        if reaped:
            logger.warning("the embedded reaper failed %s stuck submission(s)", reaped)
