"""/metrics: never public (staff or the token), request latency by route, and the grading figures that
are read from the database and the heartbeats at scrape time (right with any number of web replicas)."""

import datetime as dt
import time

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from huashen.grading import selectors
from huashen.grading.models import Mode, Status, Submission, Verdict
from tests.conftest import PASSWORD, Personas

pytestmark = pytest.mark.django_db

TOKEN = "scraper-token-0123456789"


@pytest.fixture(autouse=True)
def _token(settings) -> None:
    settings.METRICS_TOKEN = TOKEN


def scrape(client: Client | None = None, **headers: str):
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def samples(families: dict, name: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of one family."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value for sample in families[name].samples
    }


def as_bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# --- access ----------------------------------------------------------------------------------------


def test_anonymous_is_refused_and_told_how(personas: Personas) -> None:
    response = Client().get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"
    assert b"huashen_" not in response.content


@pytest.mark.parametrize("name", ["alice", "carol", "dave"])
def test_students_and_instructors_are_refused(personas: Personas, name: str) -> None:
    client = Client()
    assert client.login(username=name, password=PASSWORD)
    response = client.get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_staff_may_read_it(personas: Personas) -> None:
    client = Client()
    assert client.login(username="erin", password=PASSWORD)
    assert "huashen_submissions" in scrape(client)


def test_the_token_opens_it(db: None) -> None:
    assert "huashen_submissions" in scrape(**as_bearer(TOKEN))


@pytest.mark.parametrize("token", ["wrong", TOKEN + "x", "", TOKEN[:-1]])
def test_a_wrong_token_is_refused(db: None, token: str) -> None:
    assert Client().get("/metrics", **as_bearer(token)).status_code == 403


def test_no_token_configured_opens_nothing(db: None, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", **as_bearer("")).status_code == 403
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_only_get(db: None) -> None:
    assert Client().post("/metrics", **as_bearer(TOKEN)).status_code == 405


# --- request latency -------------------------------------------------------------------------------


def test_request_latency_is_labelled_by_route_not_path(db: None) -> None:
    # The histogram is process-wide and other tests in this process make requests too: compare the
    # counts before and after this test's own requests.
    def request_counts() -> dict[tuple[str, str], float]:
        return {
            (dict(labels)["route"], dict(labels)["status"]): value
            for (name, labels), value in samples(
                scrape(**as_bearer(TOKEN)), "huashen_http_request_duration_seconds"
            ).items()
            if name.endswith("_count") and dict(labels)["method"] == "GET"
        }

    before = request_counts()
    client = Client()
    for submission_id in (987654, 987655):  # two ids, one route
        client.get(f"/api/v1/submissions/{submission_id}/")
    client.get("/no/such/page/123456")
    after = request_counts()

    assert not any("987654" in route or "123456" in route for route, _status in after), after
    grew = {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}
    assert grew.get(("api:submission", "401")) == 2, grew
    assert grew.get(("<unmatched>", "404")) == 1, grew


# --- grading figures from the database -------------------------------------------------------------


def make_done(
    user, exercise, *, verdict: str, wait: float, run: float, mode: str = Mode.SUBMIT
) -> Submission:
    created = timezone.now() - dt.timedelta(hours=1)
    submission = Submission.objects.create(
        user=user, exercise=exercise, version=exercise.current_version, code="x = 1", mode=mode,
        deadline=created + dt.timedelta(hours=1),
    )  # fmt: skip
    Submission.objects.filter(pk=submission.pk).update(
        created_at=created,
        started_at=created + dt.timedelta(seconds=wait),
        finished_at=created + dt.timedelta(seconds=wait + run),
        status=Status.DONE,
        verdict=verdict,
        score=100.0 if verdict == Verdict.PASSED else 0.0,
    )
    return submission


def test_submissions_by_verdict_and_sandbox_violations(personas: Personas, curriculum: dict) -> None:
    trial = curriculum["r1t1"]
    for verdict in (Verdict.PASSED, Verdict.PASSED, Verdict.FAILED, Verdict.SANDBOX_VIOLATION):
        make_done(personas.alice, trial, verdict=verdict, wait=1, run=2)
    make_done(personas.bob, trial, verdict=Verdict.PASSED, wait=1, run=2, mode=Mode.RUN)
    queued = Submission.objects.create(
        user=personas.bob, exercise=trial, version=trial.current_version, code="y", mode=Mode.SUBMIT,
        deadline=timezone.now(),
    )  # fmt: skip
    families = scrape(**as_bearer(TOKEN))
    by_verdict = samples(families, "huashen_submissions")
    assert by_verdict[("huashen_submissions_total", (("mode", "submit"), ("verdict", "passed")))] == 2
    assert by_verdict[("huashen_submissions_total", (("mode", "run"), ("verdict", "passed")))] == 1
    assert by_verdict[("huashen_submissions_total", (("mode", "submit"), ("verdict", "failed")))] == 1
    assert samples(families, "huashen_sandbox_violations") == {("huashen_sandbox_violations_total", ()): 1}
    in_progress = samples(families, "huashen_submissions_in_progress")
    assert in_progress[("huashen_submissions_in_progress", (("status", "queued"),))] == 1
    assert in_progress[("huashen_submissions_in_progress", (("status", "running"),))] == 0
    assert queued.status == Status.QUEUED


def test_queue_wait_and_grading_duration_histograms(personas: Personas, curriculum: dict) -> None:
    trial = curriculum["r1t1"]
    make_done(personas.alice, trial, verdict=Verdict.PASSED, wait=0.2, run=1.5)
    make_done(personas.alice, trial, verdict=Verdict.FAILED, wait=3, run=40)
    make_done(personas.alice, trial, verdict=Verdict.PASSED, wait=4000, run=4)
    families = scrape(**as_bearer(TOKEN))

    wait = samples(families, "huashen_queue_wait_seconds")
    assert wait[("huashen_queue_wait_seconds_bucket", (("le", "0.5"),))] == 1
    assert wait[("huashen_queue_wait_seconds_bucket", (("le", "5.0"),))] == 2
    assert wait[("huashen_queue_wait_seconds_bucket", (("le", "1800.0"),))] == 2
    assert wait[("huashen_queue_wait_seconds_bucket", (("le", "+Inf"),))] == 3
    assert wait[("huashen_queue_wait_seconds_count", ())] == 3
    assert wait[("huashen_queue_wait_seconds_sum", ())] == pytest.approx(4003.2)

    grading = samples(families, "huashen_grading_duration_seconds")
    assert grading[("huashen_grading_duration_seconds_bucket", (("le", "1.0"),))] == 0
    assert grading[("huashen_grading_duration_seconds_bucket", (("le", "2.0"),))] == 1
    assert grading[("huashen_grading_duration_seconds_bucket", (("le", "5.0"),))] == 2
    assert grading[("huashen_grading_duration_seconds_bucket", (("le", "60.0"),))] == 3
    assert grading[("huashen_grading_duration_seconds_sum", ())] == pytest.approx(45.5)


def test_the_scrape_costs_a_fixed_number_of_queries(
    personas: Personas, curriculum: dict, django_assert_max_num_queries
) -> None:
    for index in range(12):
        make_done(personas.alice, curriculum["r1t1"], verdict=Verdict.PASSED, wait=index, run=index)
    client = Client()
    with django_assert_max_num_queries(4):
        response = client.get("/metrics", **as_bearer(TOKEN))
    assert response.status_code == 200


# --- graders online, from the heartbeats ----------------------------------------------------------


class Heartbeats:
    def __init__(self, beats: dict[str, dict]) -> None:
        self.beats = beats

    def scan_iter(self, match: str, count: int = 10) -> list[bytes]:
        return [f"huashen:grader:{host}".encode() for host in self.beats]

    def mget(self, keys: list[bytes]) -> list[bytes]:
        import json

        return [json.dumps(self.beats[key.decode().rsplit(":", 1)[1]]).encode() for key in keys]


def test_graders_online_by_queue(db: None, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.HUASHEN_EXECUTOR = "celery"
    settings.REDIS_URL = "redis://fake:6379/0"
    settings.READY_REQUIRED_QUEUES = ["cpu", "gpu"]
    now = time.time()
    beats = {
        "a": {"queues": ["cpu"], "slots": 2, "time": now},
        "b": {"queues": ["cpu"], "slots": 1, "time": now - 5},
        "stale": {"queues": ["gpu"], "slots": 1, "time": now - 3600},  # its beat thread hung
    }
    monkeypatch.setattr(selectors, "redis_client", lambda: Heartbeats(beats))
    families = scrape(**as_bearer(TOKEN))
    assert samples(families, "huashen_graders_online") == {
        ("huashen_graders_online", (("queue", "cpu"),)): 2,
        ("huashen_graders_online", (("queue", "gpu"),)): 0,
    }
    assert samples(families, "huashen_grader_slots")[("huashen_grader_slots", (("queue", "cpu"),))] == 3
    up = samples(families, "huashen_metrics_source_up")
    assert up[("huashen_metrics_source_up", (("source", "heartbeats"),))] == 1


def test_an_unreadable_source_is_reported_not_a_500(
    db: None, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HUASHEN_EXECUTOR = "celery"
    settings.REDIS_URL = "redis://fake:6379/0"

    def down():
        raise ConnectionError("refused")

    monkeypatch.setattr(selectors, "redis_client", down)
    families = scrape(**as_bearer(TOKEN))
    up = samples(families, "huashen_metrics_source_up")
    assert up[("huashen_metrics_source_up", (("source", "heartbeats"),))] == 0
    assert up[("huashen_metrics_source_up", (("source", "database"),))] == 1
    assert "huashen_graders_online" not in families
