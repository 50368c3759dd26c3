"""The platform's Celery app: sends GradeRequests to graders and runs the platform queue's tasks."""

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huashen.settings")

app = Celery("huashen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = "platform"
app.autodiscover_tasks(["huashen.grading"])


@signals.setup_logging.connect
def use_django_logging(**_kwargs: Any) -> None:
    """Keep settings.LOGGING (JSON lines with request ids, workers.logs) rather than Celery's format:
    connecting this signal is what stops Celery from configuring logging itself."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
