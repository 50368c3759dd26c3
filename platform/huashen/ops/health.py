"""Liveness (`/healthz`: the process serves) and readiness (`/readyz`: it can take submissions now).

A load balancer routes to a ready server only: one whose database answers, whose Redis answers (when the
shape has one) and for which, on every queue of `READY_REQUIRED_QUEUES` (default `cpu`, the queue every
trial can fall back to), at least one grader heartbeat is younger than `READY_GRADER_MAX_AGE_SECONDS`.
In embedded mode the local executor is that grader. Otherwise 503 with the reasons. Answers hold counts,
never hostnames or error texts: the endpoint is public.
"""

import logging
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from huashen.grading.redis_client import redis_client
from huashen.grading.selectors import graders_for_queue, graders_fresh

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving. Readiness (database, Redis, graders) is a separate check."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    reasons: list[str] = []
    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        logger.warning("readiness: the database does not answer", exc_info=True)
        checks["database"] = "unavailable"
        reasons.append("database: not answering")
    redis_ok = True
    if settings.REDIS_URL:
        try:
            redis_client().ping()
            checks["redis"] = "ok"
        except Exception:
            logger.warning("readiness: Redis does not answer", exc_info=True)
            checks["redis"] = "unavailable"
            reasons.append("redis: not answering")
            redis_ok = False
    else:
        checks["redis"] = "not configured"
    graders: list[dict[str, Any]] = []
    heartbeats_read = False
    if redis_ok:
        try:
            graders = graders_fresh()
            heartbeats_read = True
        except Exception:
            logger.warning("readiness: grader heartbeats unreadable", exc_info=True)
            reasons.append("graders: heartbeats unreadable")
    required = list(settings.READY_REQUIRED_QUEUES)
    queues = dict.fromkeys(["cpu", "gpu", *required])
    checks["graders"] = {queue: len(graders_for_queue(graders, queue)) for queue in queues}
    checks["required_queues"] = required
    checks["embedded"] = settings.HUASHEN_EXECUTOR == "local"
    if heartbeats_read:
        reasons.extend(
            f"graders: none seen for the {queue} queue" for queue in required if not checks["graders"][queue]
        )
    if reasons:
        return JsonResponse({"status": "unavailable", "reasons": reasons, **checks}, status=503)
    return JsonResponse({"status": "ready", **checks})
