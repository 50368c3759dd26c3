"""What the staff operations page shows: queues, graders, work in flight, recent internal errors."""

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from huashen.grading.models import Status, Submission, Verdict
from huashen.grading.redis_client import redis_client
from huashen.grading.selectors import graders_online

logger = logging.getLogger(__name__)

QUEUES = ("cpu", "gpu", "platform")
# Kombu's Redis transport keeps a message of priority step p > 0 in the list "<queue>\x06\x16<p>".
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)


@dataclass
class QueueDepth:
    name: str
    live: int
    low_priority: int

    @property
    def total(self) -> int:
        return self.live + self.low_priority


@dataclass
class OpsSnapshot:
    queues: list[QueueDepth] | None  # None: no Redis (embedded mode) or it did not answer
    graders: list[dict[str, Any]] | None
    in_flight: dict[str, int]
    oldest_in_flight: dt.datetime | None
    recent_errors: list[Submission] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def queue_depths() -> list[QueueDepth]:
    """LLEN of each Celery queue's lists, the live (priority 0) one apart from the low-priority ones."""
    client = redis_client()
    pipe = client.pipeline()
    for queue in QUEUES:
        for step in PRIORITY_STEPS:
            pipe.llen(queue if step == 0 else f"{queue}{PRIORITY_SEPARATOR}{step}")
    lengths = pipe.execute()
    depths = []
    for index, queue in enumerate(QUEUES):
        counts = lengths[index * len(PRIORITY_STEPS) : (index + 1) * len(PRIORITY_STEPS)]
        depths.append(QueueDepth(queue, int(counts[0]), sum(int(n) for n in counts[1:])))
    return depths


def ops_snapshot(*, errors_since: dt.timedelta = dt.timedelta(hours=24)) -> OpsSnapshot:
    problems = []
    queues = None
    if settings.REDIS_URL:
        try:
            queues = queue_depths()
        except Exception as error:  # the page must still show the database side
            logger.warning("ops page: could not read queue depths", exc_info=True)
            problems.append(f"redis: {error}")
    try:
        graders: list[dict[str, Any]] | None = graders_online()
    except Exception as error:
        logger.warning("ops page: could not read grader heartbeats", exc_info=True)
        problems.append(f"heartbeats: {error}")
        graders = None
    in_flight_rows = (
        Submission.objects.filter(status__in=[Status.QUEUED, Status.RUNNING])
        .values("status")
        .annotate(n=Count("id"), oldest=Min("created_at"))
    )
    in_flight = {Status.QUEUED.value: 0, Status.RUNNING.value: 0}
    oldest = None
    for row in in_flight_rows:
        in_flight[row["status"]] = row["n"]
        oldest = min(oldest, row["oldest"]) if oldest else row["oldest"]
    recent_errors = list(
        Submission.objects.filter(
            verdict=Verdict.INTERNAL_ERROR, finished_at__gte=timezone.now() - errors_since
        )
        .select_related("user", "exercise")
        .order_by("-finished_at")[:20]
    )
    return OpsSnapshot(queues, graders, in_flight, oldest, recent_errors, problems)
