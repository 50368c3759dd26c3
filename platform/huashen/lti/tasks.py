"""Sending scores to LMS gradebooks: a platform-queue task that owns its retries (never a grader's).

A failed send that may succeed later (no answer, HTTP 5xx, 408, 429, an expired token) is retried with
exponential backoff from `LTI_SCORE_RETRY_BASE_SECONDS`, up to `LTI_SCORE_MAX_RETRIES` times; a refusal
(other 4xx) fails at once. Every try is a ScoreAttempt row. In embedded mode (no Celery worker) one
thread per score does the same.
"""

import logging
import threading
import time

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections

from huashen.lti import services

logger = logging.getLogger(__name__)

SEND_SCORE_TASK = "huashen.lti_send_score"
SWEEP_SCORES_TASK = "huashen.lti_sweep_scores"


def backoff_seconds(retries: int) -> float:
    return float(min(settings.LTI_SCORE_RETRY_BASE_SECONDS * (2**retries), 3600))


@shared_task(name=SEND_SCORE_TASK, bind=True, acks_late=True, ignore_result=True, max_retries=None)
def send_score(self, publication_id: int) -> None:  # type: ignore[no-untyped-def]
    retries = self.request.retries
    final = retries >= settings.LTI_SCORE_MAX_RETRIES
    outcome = services.score_send(publication_id=publication_id, final_attempt=final)
    if not outcome.done:
        raise self.retry(countdown=backoff_seconds(retries), queue="platform")


@shared_task(name=SWEEP_SCORES_TASK, ignore_result=True)
def sweep_scores() -> int:
    """Scores queued whose send never started (the broker was down at commit)."""
    pending = services.scores_pending_older_than(seconds=60)
    for publication_id in pending:
        send_score_soon(publication_id)
    return len(pending)


def send_score_soon(publication_id: int) -> None:
    if settings.HUASHEN_EXECUTOR == "local":
        threading.Thread(
            target=_send_in_thread, args=(publication_id,), daemon=True, name="lti-score"
        ).start()
        return
    from huashen.celery import app

    try:
        app.send_task(SEND_SCORE_TASK, args=[publication_id], queue="platform")
    except Exception:  # the broker is down: the sweep sends it later
        logger.exception("could not queue LTI score %s; the sweep will", publication_id)


def _send_in_thread(publication_id: int) -> None:
    try:
        for retries in range(settings.LTI_SCORE_MAX_RETRIES + 1):
            final = retries >= settings.LTI_SCORE_MAX_RETRIES
            if services.score_send(publication_id=publication_id, final_attempt=final).done:
                return
            time.sleep(backoff_seconds(retries))
    except Exception:
        logger.exception("sending LTI score %s failed", publication_id)
    finally:
        close_old_connections()
