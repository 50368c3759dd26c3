"""The embedded executor: grading in threads of the web process, for the one-command shape (`make run`).

    LocalExecutor(2).submit(request, on_event=..., on_result=...)

The same `grade()` and sandbox as a Celery grader, with bounded concurrency (a thread pool). Confined
(`confine=True`, what the platform asks for when `confinement_possible()`: root, the sandbox account,
bubblewrap and cgroups) it grades as a Celery grader does, cgroup limits and the warm pool included, and
starts the pool at once so a newcomer's first Submit finds it warm. Otherwise runs get rlimit-only limits
and a cold sandbox, and it says so loudly. Events go to a callback instead of a Redis Stream; the
platform stores them in its in-process event log. No Django here: the platform passes callbacks in.
"""

import dataclasses
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from workers.events import CallbackSink
from workers.grader import Grader, grade
from workers.logs import log_context
from workers.protocol import GradeEvent, GradeRequest, GradeResult

logger = logging.getLogger(__name__)

BANNER = (
    "EMBEDDED GRADING: student code runs in the bubblewrap sandbox inside this web process's machine; "
    "without root or delegated cgroups its memory and process limits are rlimits only. "
    "Never expose an embedded server to untrusted users: run distributed graders for that."
)
CONFINED = (
    "EMBEDDED GRADING, CONFINED: cgroups limit each run's memory, processes and CPU; the warm sandbox pool "
    "starts now (runs are cold until it passes its self-test)."
)
RLIMITS_ONLY = (
    "EMBEDDED GRADING, RLIMITS ONLY ({reason}): memory and processes are limited by rlimits, not cgroups, "
    "and every run starts a cold sandbox (no warm pool). Run as root for cgroup limits and the warm pool."
)


def confinement_possible() -> str | None:
    """None when this process can confine runs as a Celery grader does (and so run the warm pool);
    otherwise why not."""
    from workers.sandbox.warm.pool import warm_possible

    return warm_possible()


class LocalExecutor:
    """At most `max_workers` submissions graded at once; the rest wait in the pool's queue, in order."""

    def __init__(
        self, max_workers: int = 1, *, exercises_dir: Path | None = None, confine: bool = False
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers}")
        self.max_workers = max_workers
        self.grader = (
            Grader(require_cgroups=confine, exercises_dir=Path(exercises_dir))
            if exercises_dir is not None
            else Grader(require_cgroups=confine)
        )
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="huashen-grade")
        logger.warning(BANNER)
        if confine:
            logger.warning(CONFINED)
            self.grader.warm_pool()  # in the background: the web server does not wait for it
            threading.Thread(target=self._start_checker, name="huashen-warm-checker", daemon=True).start()
        else:
            logger.warning(RLIMITS_ONLY.format(reason=confinement_possible() or "not asked to confine"))

    def submit(
        self,
        request: GradeRequest,
        *,
        on_event: Callable[[GradeEvent], None],
        on_result: Callable[[GradeResult], None],
    ) -> "Future[None]":
        """Queue one request. `on_event` gets each event as it happens, `on_result` the result, both
        in the executor's thread; what they raise is logged, never allowed to change the verdict."""
        return self._pool.submit(self._run, request, on_event, on_result)

    def _start_checker(self) -> None:
        """The long-lived checker too (torch imported once), so the first check does not start it."""
        checker = self.grader.warm_checker()
        if checker is None:
            return
        try:
            with checker.lock:
                if checker.process is None:
                    checker.process = checker._start()
        except Exception:  # the first check starts it (or runs cold) as before
            logger.warning("the warm checker did not start with the executor", exc_info=True)

    def shutdown(self, *, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
        if wait:  # nothing runs any more: the warm pool's processes and the lib dir can go
            self.grader.close()

    def _run(
        self,
        request: GradeRequest,
        on_event: Callable[[GradeEvent], None],
        on_result: Callable[[GradeResult], None],
    ) -> None:
        def deliver(event: GradeEvent) -> None:
            # grade() turns anything raised inside it into an internal error: a failing event consumer
            # (a database hiccup) must cost a line of log, not the student's verdict.
            try:
                on_event(event)
            except Exception:
                logger.exception("submission %s: an event could not be delivered", request.submission_id)

        # The pool's threads do not inherit the submitting request's context: name the job's ids again.
        with log_context(request_id=request.request_id or None, submission_id=request.submission_id):
            result = grade(request, self.grader, CallbackSink(deliver))
            result = dataclasses.replace(result, request_id=request.request_id, grader="embedded")
            try:
                on_result(result)
            except Exception:
                logger.exception("submission %s: the result could not be recorded", request.submission_id)
