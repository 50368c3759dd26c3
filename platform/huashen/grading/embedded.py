"""Embedded grading: the one local executor of this process and the platform's side of its callbacks.

`dispatch.send_grade_request` hands requests here when HUASHEN_EXECUTOR is `local`. The grader runs in an
executor thread; its events go into the event log (`eventlog.put`), from which WebSocket followers on the
ASGI loop are woken thread-safely; its result is recorded by the same services as a Celery grader's. The
callbacks run in the executor thread, so each call gets its own fresh database connection.

It only reports (to `results.py`); the upkeep thread that sweeps the outbox and reaps in place of Celery
beat is started by `dispatch.py` at its first local hand-over.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from huashen.grading.eventlog import get_event_log
from huashen.grading.outages import through_outages
from huashen.grading.results import submission_mark_running, submission_record_result
from workers.local import LocalExecutor, confinement_possible
from workers.protocol import GradeEvent, GradeRequest, GradeResult

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_executor: LocalExecutor | None = None


def executor() -> LocalExecutor:
    """The process-wide executor (LOCAL_GRADER_CONCURRENCY threads), made on first use (or as the server
    starts: `start_with_the_server`). Confined, with the warm pool, where this process can confine runs."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = LocalExecutor(
                settings.LOCAL_GRADER_CONCURRENCY,
                exercises_dir=settings.EXERCISES_DIR,
                confine=confinement_possible() is None,
            )
        return _executor


def start_with_the_server() -> None:
    """Make the executor as the web server starts (LOCAL_GRADER_START=1, `make run`), so its warm pool
    is starting while a newcomer reads the first statement, and its banner (confined or rlimits only)
    is in the server's first lines."""
    if settings.HUASHEN_EXECUTOR == "local" and settings.LOCAL_GRADER_START:
        executor()


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
            with_fresh_connection(submission_mark_running, submission_id=self.submission_id)
        get_event_log().put(self.submission_id, event)

    def on_result(self, result: GradeResult) -> None:
        # There is no queue to hand a result back to here: ride out a locked or restarting database for
        # as long as a grading may take, rather than drop a finished run.
        through_outages(
            lambda: with_fresh_connection(submission_record_result, result=result),
            what=f"recording the result of submission {result.submission_id}",
            patience_seconds=settings.GRADING_HARD_LIMIT_SECONDS,
        )


def with_fresh_connection(function: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a service from a thread Django's request cycle never cleans up after."""
    close_old_connections()
    try:
        return function(**kwargs)
    finally:
        close_old_connections()
