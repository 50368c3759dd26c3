"""The real parts: PostgreSQL, Redis as Celery broker, a Celery platform worker process, Channels over Redis.

These run only through `make test`, which starts PostgreSQL and Redis; without them they fail.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from huashen.asgi import application
from huashen.grading.models import ExerciseProgress, Status, Submission
from huashen.grading.services import submission_create, submission_record_result
from tests.conftest import PASSWORD, Personas
from workers.protocol import GradeRequest, GradeResult, Verdict

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


@pytest.fixture
def platform_worker(services: dict, transactional_db: None):
    """A real Celery worker process on the platform queue, using this test's database."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": services["redis"],
    }
    redis.Redis.from_url(services["redis"]).delete("platform")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "huashen", "worker", "-Q", "platform", "-P", "solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


def test_a_platform_worker_process_records_results_from_redis(
    platform_worker: subprocess.Popen, personas: Personas, curriculum: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huashen.celery import app
    from huashen.grading import dispatch

    monkeypatch.setattr(dispatch, "send_grade_request", lambda request: None)
    submission = submission_create(
        user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit"
    )
    result = GradeResult(submission_id=submission.pk, verdict=Verdict.PASSED, score=100.0, device="cpu")
    # delivered twice, as a redelivery after a lost acknowledgement would: recorded once
    for _ in range(2):
        app.send_task("huashen.record_result", args=[result.to_wire(), [{"seq": 1, "kind": "stdout"}]],
                      queue="platform")  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        submission.refresh_from_db()
        if submission.status == Status.DONE and platform_worker.poll() is None:
            break
        assert platform_worker.poll() is None, platform_worker.stdout.read()  # type: ignore[union-attr]
        time.sleep(0.2)
    assert (submission.status, submission.verdict, submission.score) == (Status.DONE, "passed", 100.0)
    time.sleep(1)  # let the duplicate delivery run too
    progress = ExerciseProgress.objects.get(user=personas.alice, exercise=curriculum["r1t1"])
    assert (progress.attempts, progress.passed) == (1, True)


def _session_cookie(username: str) -> bytes:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@override_settings(ALLOWED_HOSTS=["testserver", "localhost"])
def test_websocket_follows_a_submission_over_the_redis_channel_layer(
    services: dict,
    transactional_db: None,
    personas: Personas,
    curriculum: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from huashen.grading import dispatch

    monkeypatch.setattr(dispatch, "send_grade_request", lambda request: None)
    submission = submission_create(
        user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit"
    )

    async def follow(cookie: bytes) -> list[dict]:
        communicator = WebsocketCommunicator(
            application,
            f"/ws/submissions/{submission.pk}/",
            headers=[(b"cookie", cookie), (b"origin", b"http://localhost"), (b"host", b"localhost")],
        )
        connected, code = await communicator.connect(timeout=10)
        if not connected:
            return [{"closed": code}]
        received = [await communicator.receive_json_from(timeout=10)]
        result = GradeResult(submission_id=submission.pk, verdict=Verdict.FAILED, score=25.0)
        await database_sync_to_async(submission_record_result)(result=result)
        received.append(await communicator.receive_json_from(timeout=10))
        await communicator.disconnect()
        return received

    snapshot, update = async_to_sync(follow)(_session_cookie("alice"))
    assert (snapshot["type"], snapshot["status"]) == ("snapshot", "queued")
    assert (update["type"], update["status"], update["verdict"], update["score"]) == (
        "status",
        "done",
        "failed",
        25.0,
    )
    # bob may not follow alice's submission: the connection is refused
    Submission.objects.filter(pk=submission.pk).update(status=Status.QUEUED)
    assert async_to_sync(follow)(_session_cookie("bob")) == [{"closed": 4404}]
