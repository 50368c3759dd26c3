"""Routing by grader heartbeats (GPU trials fall back to the CPU queue) and the /readyz answers."""

import json
import logging
from typing import Any

import pytest
from django.test import Client

from huashen.grading import dispatch, selectors
from huashen.grading.selectors import graders_online
from huashen.ops import health
from workers.protocol import HEARTBEAT_KEY_PREFIX, GradeRequest, Mode


class FakeRedis:
    """Heartbeat keys as a grader's Heartbeat thread writes them."""

    def __init__(self, beats: dict[str, Any] | None = None, *, down: bool = False) -> None:
        self.values = {HEARTBEAT_KEY_PREFIX + host: beat for host, beat in (beats or {}).items()}
        self.down = down

    def _check(self) -> None:
        if self.down:
            import redis

            raise redis.ConnectionError("connection refused")

    def ping(self) -> bool:
        self._check()
        return True

    def scan_iter(self, match: str, count: int = 10) -> list[bytes]:
        self._check()
        prefix = match.rstrip("*")
        return [key.encode() for key in self.values if key.startswith(prefix)]

    def mget(self, keys: list[bytes]) -> list[bytes | None]:
        raw = [self.values.get(key.decode()) for key in keys]
        return [None if value is None else (value if isinstance(value, bytes) else json.dumps(value).encode())
                for value in raw]  # fmt: skip


def beat(*queues: str) -> dict[str, Any]:
    return {
        "hostname": "h",
        "queues": list(queues),
        "device": "gpu" if "gpu" in queues else "cpu",
        "slots": 1,
    }


@pytest.fixture
def distributed(settings, monkeypatch: pytest.MonkeyPatch):
    """The distributed shape with a fake Redis holding the given heartbeats."""
    settings.HUASHEN_EXECUTOR = "celery"
    settings.REDIS_URL = "redis://fake:6379/0"

    def install(fake: FakeRedis) -> FakeRedis:
        monkeypatch.setattr(selectors, "redis_client", lambda: fake)
        monkeypatch.setattr(health, "redis_client", lambda: fake)
        return fake

    return install


def request(device: str) -> GradeRequest:
    return GradeRequest(
        submission_id=5, trial="t", content_hash="h", mode=Mode.SUBMIT, code="x", device=device
    )


def test_cpu_trials_go_to_the_cpu_queue(distributed) -> None:
    distributed(FakeRedis({"gpu-1": beat("gpu")}))
    assert dispatch.queue_for(request("cpu")) == "cpu"


def test_a_gpu_trial_goes_to_the_gpu_queue_while_a_gpu_grader_beats(distributed) -> None:
    distributed(FakeRedis({"cpu-1": beat("cpu"), "gpu-1": beat("gpu")}))
    assert dispatch.queue_for(request("gpu")) == "gpu"


def test_a_gpu_trial_falls_back_to_cpu_without_a_gpu_heartbeat(
    distributed, caplog: pytest.LogCaptureFixture
) -> None:
    distributed(FakeRedis({"cpu-1": beat("cpu")}))
    with caplog.at_level(logging.WARNING, logger="huashen.grading.dispatch"):
        assert dispatch.queue_for(request("gpu")) == "cpu"
    assert "no gpu grader is online" in caplog.text and "submission 5" in caplog.text


def test_unreadable_heartbeats_route_to_cpu(distributed) -> None:
    distributed(FakeRedis({"gpu-1": beat("gpu")}, down=True))
    assert dispatch.queue_for(request("gpu")) == "cpu"


def test_send_grade_request_uses_the_routed_queue(distributed, monkeypatch: pytest.MonkeyPatch) -> None:
    from huashen.celery import app

    distributed(FakeRedis({"cpu-1": beat("cpu")}))
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append({"name": name, **options}))
    dispatch.send_grade_request(request("gpu"))
    assert [(message["name"], message["queue"]) for message in sent] == [("huashen.grade", "cpu")]


def test_graders_online_reads_heartbeats_and_skips_what_it_cannot_read(distributed) -> None:
    distributed(FakeRedis({"a": beat("cpu"), "b": beat("gpu"), "c": b"not json", "d": {"queues": "cpu"}}))
    assert sorted(tuple(g["queues"]) for g in graders_online()) == [("cpu",), ("gpu",)]


def test_embedded_mode_has_the_local_executor_as_its_grader(settings) -> None:
    settings.HUASHEN_EXECUTOR = "local"
    settings.LOCAL_GRADER_CONCURRENCY = 3
    (grader,) = graders_online()
    assert (grader["queues"], grader["slots"], grader["embedded"]) == (["cpu"], 3, True)


@pytest.mark.django_db
def test_readyz_embedded_is_ready(settings) -> None:
    settings.HUASHEN_EXECUTOR = "local"
    settings.REDIS_URL = ""
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["redis"], body["graders"]["cpu"]) == (
        "ready", "ok", "not configured", 1,
    )  # fmt: skip


@pytest.mark.django_db
def test_readyz_distributed_with_a_cpu_grader_is_ready(distributed) -> None:
    distributed(FakeRedis({"cpu-1": beat("cpu")}))
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["graders"] == {"cpu": 1, "gpu": 0}
    assert response.json()["redis"] == "ok"


@pytest.mark.django_db
def test_readyz_without_a_cpu_grader_is_unavailable(distributed) -> None:
    distributed(FakeRedis({"gpu-1": beat("gpu")}))  # a GPU grader alone cannot take every trial
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["reasons"] == ["graders: none seen for the cpu queue"]


@pytest.mark.django_db
def test_readyz_with_redis_down_is_unavailable(distributed) -> None:
    distributed(FakeRedis({"cpu-1": beat("cpu")}, down=True))
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["redis: not answering"]


@pytest.mark.django_db
def test_readyz_with_the_database_down_is_unavailable(distributed, monkeypatch: pytest.MonkeyPatch) -> None:
    distributed(FakeRedis({"cpu-1": beat("cpu")}))

    from django.db import OperationalError

    class BrokenConnection:
        def cursor(self) -> None:
            raise OperationalError("could not connect")

    monkeypatch.setattr(health, "connection", BrokenConnection())
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["database: not answering"]
    assert "could not connect" not in response.content.decode()  # no error text on a public endpoint


def test_healthz_stays_plain_liveness() -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}
