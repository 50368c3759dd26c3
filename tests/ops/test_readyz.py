"""/readyz against item 4: the database, Redis, and a recent grader on every required queue."""

import json
import time

import pytest
from django.test import Client

from huashen.grading import selectors

pytestmark = pytest.mark.django_db


class Heartbeats:
    def __init__(self, beats: dict[str, dict]) -> None:
        self.beats = beats

    def ping(self) -> bool:
        return True

    def scan_iter(self, match: str, count: int = 10) -> list[bytes]:
        return [f"huashen:grader:{host}".encode() for host in self.beats]

    def mget(self, keys: list[bytes]) -> list[bytes]:
        return [json.dumps(self.beats[key.decode().rsplit(":", 1)[1]]).encode() for key in keys]


@pytest.fixture
def heartbeats(settings, monkeypatch: pytest.MonkeyPatch):
    settings.HUASHEN_EXECUTOR = "celery"
    settings.REDIS_URL = "redis://fake:6379/0"

    def install(beats: dict[str, dict]) -> None:
        fake = Heartbeats(beats)
        monkeypatch.setattr(selectors, "redis_client", lambda: fake)
        from huashen.ops import health

        monkeypatch.setattr(health, "redis_client", lambda: fake)

    return install


def readyz():
    response = Client().get("/readyz")
    return response.status_code, response.json()


def test_every_required_queue_needs_a_grader(heartbeats, settings) -> None:
    settings.READY_REQUIRED_QUEUES = ["cpu", "gpu"]
    heartbeats({"c": {"queues": ["cpu"], "time": time.time()}})
    status, body = readyz()
    assert status == 503
    assert body["reasons"] == ["graders: none seen for the gpu queue"]
    assert (body["graders"], body["required_queues"]) == ({"cpu": 1, "gpu": 0}, ["cpu", "gpu"])


def test_ready_when_each_required_queue_has_one(heartbeats, settings) -> None:
    settings.READY_REQUIRED_QUEUES = ["cpu", "gpu"]
    heartbeats({"c": {"queues": ["cpu"], "time": time.time()}, "g": {"queues": ["gpu"], "time": time.time()}})
    assert readyz() == (200, {
        "status": "ready", "database": "ok", "redis": "ok", "graders": {"cpu": 1, "gpu": 1},
        "required_queues": ["cpu", "gpu"], "embedded": False,
    })  # fmt: skip


def test_a_custom_queue_can_be_required(heartbeats, settings) -> None:
    settings.READY_REQUIRED_QUEUES = ["cpu", "bigmem"]
    heartbeats({"c": {"queues": ["cpu"], "time": time.time()}})
    status, body = readyz()
    assert (status, body["reasons"], body["graders"]["bigmem"]) == (
        503, ["graders: none seen for the bigmem queue"], 0,
    )  # fmt: skip


def test_gpu_alone_is_not_required_by_default(heartbeats) -> None:
    heartbeats({"c": {"queues": ["cpu"], "time": time.time()}})
    assert readyz()[0] == 200


def test_a_heartbeat_older_than_the_max_age_does_not_count(heartbeats, settings) -> None:
    settings.READY_GRADER_MAX_AGE_SECONDS = 30
    heartbeats({"hung": {"queues": ["cpu"], "time": time.time() - 45}})
    status, body = readyz()
    assert (status, body["reasons"], body["graders"]["cpu"]) == (
        503,
        ["graders: none seen for the cpu queue"],
        0,
    )


def test_an_unreadable_beat_time_does_not_count(heartbeats) -> None:
    heartbeats({"odd": {"queues": ["cpu"], "time": "yesterday"}})
    assert readyz()[0] == 503


def test_the_answer_names_no_hosts(heartbeats) -> None:
    heartbeats({"grader-secret-host.internal": {"queues": ["cpu"], "time": time.time()}})
    response = Client().get("/readyz")
    assert b"secret-host" not in response.content


def test_healthz_needs_nothing(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken():
        raise AssertionError("healthz must not touch Redis")

    monkeypatch.setattr(selectors, "redis_client", broken)
    response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
