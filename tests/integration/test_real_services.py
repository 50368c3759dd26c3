"""The real parts: PostgreSQL, Redis as Celery broker, a Celery platform worker process.

The WebSocket over Redis Streams is in test_streaming.py.

These run only through `make test`, which starts PostgreSQL and Redis; without them they fail.
"""

import json
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from huashen.grading.models import ExerciseProgress, Status
from huashen.grading.services import submission_create
from tests.conftest import Personas, SentRequests
from tests.integration.conftest import WorkerProcess, wait_for_result
from workers.events import RedisStreamSink
from workers.protocol import EventKind, GradeRequest, GradeResult, Verdict, event_stream_key

ROOT = Path(__file__).resolve().parents[2]


def test_the_database_is_postgresql(services: dict, db: None) -> None:
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        version = cursor.fetchone()[0]
    print(f"database: {version}")
    assert version.startswith("PostgreSQL")


def test_redis_is_the_broker_and_channel_layer(services: dict) -> None:
    assert redis.Redis.from_url(services["redis"]).ping()
    assert services["redis"] == settings.CELERY_BROKER_URL
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert settings.HUASHEN_EXECUTOR == "celery"


def test_a_submission_reaches_the_cpu_queue_in_redis_on_commit(
    services: dict, transactional_db: None, personas: Personas, curriculum: dict
) -> None:
    broker = redis.Redis.from_url(services["redis"])
    broker.delete("cpu")
    submission = submission_create(
        user=personas.alice, exercise=curriculum["r1t1"], code="x = 1\n", mode="submit"
    )
    messages = [json.loads(raw) for raw in broker.lrange("cpu", 0, -1)]
    assert len(messages) == 1
    message = messages[0]
    assert message["headers"]["task"] == "huashen.grade"
    body = json.loads(__import__("base64").b64decode(message["body"]))
    request = GradeRequest.from_wire(body[0][0])
    assert (request.submission_id, request.trial, request.code) == (
        submission.pk,
        "realm-1-trial-1",
        "x = 1\n",
    )


def test_a_platform_worker_process_records_results_from_redis(
    platform_worker_process: WorkerProcess,
    personas: Personas,
    curriculum: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from huashen.celery import app
    from huashen.grading import dispatch

    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())
    submission = submission_create(
        user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit"
    )
    # the grader's live events, in the stream the worker will copy the log from
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(event_stream_key(submission.pk))
    sink = RedisStreamSink(broker, submission.pk)
    sink.emit(EventKind.STATUS, {"status": "running", "device": "cpu"})
    sink.emit(EventKind.STDOUT, "hello\n")
    result = GradeResult(submission_id=submission.pk, verdict=Verdict.PASSED, score=100.0, device="cpu")
    # delivered twice, as a redelivery after a lost acknowledgement would: recorded once
    for _ in range(2):
        app.send_task("huashen.record_result", args=[result.to_wire()], queue="platform")
    submission = wait_for_result(submission, platform_worker_process, timeout=60)
    assert (submission.status, submission.verdict, submission.score) == (Status.DONE, "passed", 100.0)
    time.sleep(1)  # let the duplicate delivery run too
    progress = ExerciseProgress.objects.get(user=personas.alice, exercise=curriculum["r1t1"])
    assert (progress.attempts, progress.passed) == (1, True)
    assert [(wire["seq"], wire["kind"]) for wire in submission.log] == [
        (1, "status"),
        (2, "stdout"),
        (3, "status"),
    ]
    stream = broker.xrange(event_stream_key(submission.pk))
    assert len(stream) == 3  # one final event, not two
    broker.delete(event_stream_key(submission.pk))
