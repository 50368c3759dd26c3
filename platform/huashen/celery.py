"""The platform's Celery app: sends GradeRequests to graders and runs the platform queue's tasks."""

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huashen.settings")

app = Celery("huashen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = "platform"
app.autodiscover_tasks(["huashen.grading", "huashen.similarity"])


@signals.setup_logging.connect
def use_django_logging(**_kwargs: Any) -> None:
    """Keep settings.LOGGING (JSON lines with request ids, workers.logs) rather than Celery's format:
    connecting this signal is what stops Celery from configuring logging itself."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.beat_embedded_init.connect
def die_with_the_worker(**_kwargs: Any) -> None:
    """The beat of `worker -B` runs in a child process; make the kernel end it when the worker dies.

    Without this a worker killed with SIGKILL (an OOM kill, `kill -9`) leaves its beat running as an
    orphan, and the worker started in its place brings a second one: two beats, every periodic task
    sent twice. A warm shutdown stops the beat itself; this covers the deaths that skip it.
    """
    import ctypes
    import signal

    parent = os.getppid()
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:  # pragma: no cover - Linux only
        return
    if os.getppid() != parent:  # the worker died before the line above: go too
        os._exit(0)
