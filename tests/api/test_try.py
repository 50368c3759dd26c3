"""The Try cell's API: a snippet runs beside the editor's code as a try, never an attempt, never listed
with the student's submissions, with its own rate limit; bad snippets are refused before anything is
stored."""

import pytest
from rest_framework.test import APIClient

from huashen.grading.models import ExerciseProgress, Mode, Status, Submission
from huashen.grading.results import submission_record_result
from huashen.practice.models import ActivityEvent
from huashen.practice.selectors import latest_submission_id
from tests.conftest import Personas, SentRequests
from workers.protocol import GradeResult, Verdict
from workers.protocol import Mode as ProtocolMode

# The in-memory event store, emptied around each test: ids repeat across rolled-back tests.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("memory_events")]

TRIAL = "realm-1-trial-1"
URL = f"/api/v1/exercises/{TRIAL}/try/"
CODE = "def double(x):\n    return 2 * x\n"


def try_post(client: APIClient, snippet: str, code: str = CODE):
    return client.post(URL, {"code": code, "snippet": snippet}, format="json")


def test_a_try_is_sent_with_its_snippet_and_counts_nothing(
    personas: Personas,
    curriculum: dict,
    client_for,
    sent_requests: SentRequests,
    django_capture_on_commit_callbacks,
) -> None:
    alice = client_for(personas.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = try_post(alice, "solution.double(21)\n")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["output"], body["artifacts"]) == ("queued", [], [])
    [request] = sent_requests
    assert (request.mode, request.snippet, request.code) == (ProtocolMode.TRY, "solution.double(21)\n", CODE)
    # no attempt, no activity, not among the submissions, not what the trial page reopens
    assert ExerciseProgress.objects.count() == 0 and ActivityEvent.objects.count() == 0
    assert alice.get("/api/v1/submissions/").json()["results"] == []
    assert latest_submission_id(user=personas.alice, exercise=curriculum["r1t1"]) is None


def test_a_finished_try_gives_its_output_and_figures_and_still_counts_nothing(
    personas: Personas, curriculum: dict, client_for, sent_requests: SentRequests
) -> None:
    from huashen.grading.eventlog import get_event_log
    from workers.protocol import EventKind

    alice = client_for(personas.alice)
    try_id = try_post(alice, "print('hi')\nsolution.double(21)\n").json()["id"]
    store = get_event_log()
    store.append(try_id, EventKind.STDOUT, "hi\n")
    store.append(try_id, EventKind.STDOUT, "42\n")
    store.append(try_id, EventKind.STDERR, "a warning\n")
    png = {"name": "figure-1", "media_type": "image/png", "data": "iVBORw0KGgo="}
    submission_record_result(
        result=GradeResult(submission_id=try_id, verdict=Verdict.PASSED, score=0.0, artifacts=[png])
    )
    body = alice.get(f"{URL}{try_id}/").json()
    assert body["status"] == Status.DONE and body["verdict"] == "passed"
    assert body["output"] == [
        {"stream": "stdout", "text": "hi\n42\n"},
        {"stream": "stderr", "text": "a warning\n"},
    ]
    assert body["artifacts"] == [png]
    assert ExerciseProgress.objects.count() == 0 and ActivityEvent.objects.count() == 0
    # someone else's try, or a Run's id, is not found
    assert client_for(personas.bob).get(f"{URL}{try_id}/").status_code == 404
    run = alice.post("/api/v1/submissions/", {"exercise": TRIAL, "code": CODE, "mode": "run"}, format="json")
    assert alice.get(f"{URL}{run.json()['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("snippet", "status", "code", "field"),
    [
        ("", 400, "empty_snippet", "snippet"),
        ("   \n", 400, "empty_snippet", "snippet"),
        ("x = 1\n" * 5000, 413, "too_large", "snippet"),
        ("print(solution.double(\n", 400, "syntax_error", "snippet"),
    ],
)
def test_a_bad_snippet_is_refused_before_anything_is_stored(
    personas: Personas,
    curriculum: dict,
    client_for,
    sent_requests: SentRequests,
    snippet,
    status,
    code,
    field,
) -> None:
    response = try_post(client_for(personas.alice), snippet)
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert Submission.objects.count() == 0 and sent_requests == []


def test_a_snippet_syntax_error_names_its_line(personas: Personas, curriculum: dict, client_for) -> None:
    error = try_post(client_for(personas.alice), "x = 1\ny = (\n").json()["error"]
    assert (error["field"], error["line"]) == ("snippet", 2)


def test_code_that_cannot_compile_is_the_editors_syntax_error(
    personas: Personas, curriculum: dict, client_for, sent_requests: SentRequests
) -> None:
    error = try_post(client_for(personas.alice), "1\n", code="def f(:\n").json()["error"]
    assert (error["code"], error["field"], error["line"]) == ("syntax_error", "code", 1)
    assert sent_requests == []


def test_tries_have_their_own_rate_limit_and_leave_submits_alone(
    personas: Personas, curriculum: dict, client_for, sent_requests: SentRequests, settings
) -> None:
    settings.TRIES_PER_MINUTE = 3
    alice = client_for(personas.alice)
    assert [try_post(alice, "1\n").status_code for _ in range(3)] == [201, 201, 201]
    refused = try_post(alice, "1\n")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    # the Submits of the minute are untouched by the tries
    submit = alice.post("/api/v1/submissions/", {"exercise": TRIAL, "code": CODE}, format="json")
    assert submit.status_code == 201
    assert Submission.objects.filter(mode=Mode.TRY).count() == 3


def test_the_submissions_endpoint_takes_no_try(personas: Personas, curriculum: dict, client_for) -> None:
    response = client_for(personas.alice).post(
        "/api/v1/submissions/", {"exercise": TRIAL, "code": CODE, "mode": "try"}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"]["field"] == "mode"


def test_the_try_message_in_english(personas: Personas, curriculum: dict, client_for) -> None:
    personas.alice.language = "en"
    personas.alice.save()
    error = try_post(client_for(personas.alice), "").json()["error"]
    assert error["message"] == "Write a snippet to try first."
