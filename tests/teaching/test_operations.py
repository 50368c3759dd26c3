"""The staff operations page: queue depths (live and low priority apart), graders, in flight, errors."""

import pytest
from django.test import Client
from django.utils import timezone

from huashen.grading.models import Status, Submission, Verdict
from huashen.ops import operations
from tests.conftest import Personas
from tests.teaching.conftest import graded

pytestmark = pytest.mark.django_db


class FakePipeline:
    def __init__(self, lists: dict[str, int]) -> None:
        self.lists, self.asked = lists, []

    def llen(self, key: str) -> None:
        self.asked.append(key)

    def execute(self) -> list[int]:
        return [self.lists.get(key, 0) for key in self.asked]


class FakeRedis:
    def __init__(self, lists: dict[str, int]) -> None:
        self.lists = lists

    def pipeline(self) -> FakePipeline:
        return FakePipeline(self.lists)


def test_queue_depths_count_live_and_low_priority_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    lists = {"cpu": 4, "cpu\x06\x169": 7, "cpu\x06\x163": 1, "platform": 2}
    monkeypatch.setattr(operations, "redis_client", lambda: FakeRedis(lists))
    depths = {d.name: (d.live, d.low_priority) for d in operations.queue_depths()}
    assert depths == {"cpu": (4, 8), "gpu": (0, 0), "platform": (2, 0)}


def test_the_page_shows_graders_work_in_flight_and_recent_internal_errors(
    personas: Personas, trials: dict, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operations, "redis_client", lambda: FakeRedis({"cpu": 3}))
    monkeypatch.setattr(
        operations, "graders_online",
        lambda: [{"hostname": "grader-7", "queues": ["cpu"], "device": "cpu", "slots": 2, "load": 0.5}],
    )  # fmt: skip
    broken = graded(personas.alice, trials["a1"])
    Submission.objects.filter(pk=broken.pk).update(
        verdict=Verdict.INTERNAL_ERROR,
        message={"zh": "评测机崩溃", "en": "grader crashed"},
        finished_at=timezone.now(),
    )
    waiting = graded(personas.bob, trials["a1"])
    Submission.objects.filter(pk=waiting.pk).update(status=Status.QUEUED)
    settings.REDIS_URL = "redis://unused"  # only the fake above answers

    client = Client()
    client.force_login(personas.erin)
    page = client.get("/staff/ops/").content.decode()
    assert "grader-7" in page and "评测机崩溃" in page
    assert 'data-testid="queues"' in page
    snapshot = operations.ops_snapshot()
    assert snapshot.in_flight == {"queued": 1, "running": 0}
    assert [q.live for q in snapshot.queues or []] == [3, 0, 0]


def test_the_page_survives_redis_being_away(
    personas: Personas, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REDIS_URL = "redis://unused"

    def refuse() -> None:
        raise ConnectionError("refused")

    monkeypatch.setattr(operations, "redis_client", refuse)
    monkeypatch.setattr(operations, "graders_online", refuse)
    client = Client()
    client.force_login(personas.erin)
    response = client.get("/staff/ops/")
    assert response.status_code == 200 and "refused" in response.content.decode()
