"""The request id: taken from a sane X-Request-ID or made, echoed, in every log line of the request, and
stored on the submission the request creates, whose GradeRequest carries it to the grader."""

import logging
import uuid
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from huashen.grading import dispatch
from huashen.grading.models import Submission
from tests.conftest import Personas, SentRequests
from workers.logs import ContextFilter

pytestmark = pytest.mark.django_db


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    """What huashen's loggers wrote, with the ids the handlers' filter adds."""
    handler = Records()
    logger = logging.getLogger("huashen")
    saved = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(saved)


def test_a_sane_id_is_kept_and_echoed(db: None) -> None:
    given = str(uuid.uuid4())
    response = APIClient().get("/healthz", HTTP_X_REQUEST_ID=given.upper())
    assert response["X-Request-ID"] == given


@pytest.mark.parametrize("given", ["", "abc", "x" * 40, "1; DROP TABLE", "\u5316\u795e"])
def test_anything_else_is_replaced_by_a_fresh_uuid(db: None, given: str) -> None:
    response = APIClient().get("/healthz", HTTP_X_REQUEST_ID=given)
    made = response["X-Request-ID"]
    assert str(uuid.UUID(made)) == made and made != given


def test_each_request_gets_its_own_id(db: None) -> None:
    client = APIClient()
    ids = {client.get("/healthz")["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_error_responses_carry_it_too(db: None) -> None:
    response = APIClient().get("/api/v1/submissions/1/")
    assert response.status_code in {401, 403}
    assert uuid.UUID(response["X-Request-ID"])


def test_the_log_lines_of_a_request_carry_its_id(db: None, logged: list[logging.LogRecord]) -> None:
    given = str(uuid.uuid4())
    APIClient().get("/api/v1/submissions/", HTTP_X_REQUEST_ID=given)
    access = [record for record in logged if record.name == "huashen.access"]
    assert access and access[-1].request_id == given
    assert "/api/v1/submissions/" in access[-1].getMessage()
    APIClient().get("/api/v1/realms/")
    assert logged[-1].request_id not in {"", given}


def test_successful_probes_are_not_in_the_access_log(db: None, logged: list[logging.LogRecord]) -> None:
    APIClient().get("/healthz")
    APIClient().get("/metrics")  # refused: that one is worth a line
    access = [record.getMessage() for record in logged if record.name == "huashen.access"]
    assert not [line for line in access if "/healthz" in line]
    assert [line for line in access if "/metrics 401" in line]


def test_a_submission_keeps_the_id_of_the_request_that_made_it(
    personas: Personas,
    curriculum: dict,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
    logged: list[logging.LogRecord],
) -> None:
    sent = SentRequests()
    monkeypatch.setattr(dispatch, "send_grade_request", sent)
    client = APIClient()
    client.force_login(personas.alice)
    given = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/submissions/", {"exercise": "realm-1-trial-1", "code": "x = 1\n"}, format="json",
            HTTP_X_REQUEST_ID=given,
        )  # fmt: skip
    assert response.status_code == 201, response.content
    submission = Submission.objects.get(pk=response.json()["id"])
    assert str(submission.request_id) == given
    assert [request.request_id for request in sent] == [given]  # the grader logs under it
    queued = [record for record in logged if "queued" in record.getMessage()]
    assert queued and queued[-1].request_id == given


def test_outside_a_request_a_submission_gets_a_fresh_id(
    personas: Personas, curriculum: dict, monkeypatch
) -> None:
    from huashen.grading.services import submission_create

    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())
    first = submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="run")
    second = submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 2", mode="run")
    assert first.request_id != second.request_id


def test_the_platform_worker_records_a_result_under_its_request_id(
    personas: Personas, curriculum: dict, monkeypatch: pytest.MonkeyPatch, logged: list[logging.LogRecord]
) -> None:
    from huashen.grading.services import submission_create
    from huashen.grading.tasks import record_result
    from workers.protocol import GradeResult, Verdict

    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())
    submission = submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="run")
    result = GradeResult(
        submission_id=submission.pk, verdict=Verdict.PASSED, score=100.0,
        request_id=str(submission.request_id), grader="grader-1@host",
    )  # fmt: skip
    record_result(GradeResult.from_wire(result.to_wire()).to_wire())  # the task body, as the worker runs it
    recorded = [record for record in logged if "recorded" in record.getMessage()]
    assert len(recorded) == 1
    assert (recorded[0].request_id, recorded[0].submission_id) == (str(submission.request_id), submission.pk)
    assert "grader-1@host" in recorded[0].getMessage()
