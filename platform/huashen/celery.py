"""The platform's Celery app: sends GradeRequests to graders and runs the platform queue's tasks."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huashen.settings")

app = Celery("huashen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = "platform"
app.autodiscover_tasks(["huashen.grading"])
