"""POST /api/v1/exercises/<slug>/analyze/: the coach's findings for the code in the editor."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from huashen.grading.models import Submission
from huashen.practice.models import Draft
from tests.api.shapes import error_of
from tests.conftest import Personas

pytestmark = pytest.mark.django_db

SOFTMAX = (
    "import torch\nimport torch.nn.functional as F\n\n"
    "def loss_of(model, x, y):\n    return F.cross_entropy(F.softmax(model(x), dim=1), y)\n"
)


@pytest.fixture(autouse=True)
def fresh_rate_counters() -> None:
    cache.clear()


def analyze(client: APIClient, slug: str, body: object):
    return client.post(f"/api/v1/exercises/{slug}/analyze/", body, format="json")


def test_a_finding_names_the_rule_its_place_why_and_the_trial(
    personas: Personas, curriculum, client_for
) -> None:
    response = analyze(client_for(personas.alice), curriculum["r1t1"].slug, {"code": SOFTMAX})
    assert response.status_code == 200
    body = response.json()
    assert body["parse_error"] is None and body["complete"] is True
    (finding,) = body["findings"]
    assert finding["rule"] == "softmax-before-cross-entropy"
    assert (finding["line"], finding["column"], finding["end_line"]) == (5, 27, 5)
    assert finding["end_column"] == len("    return F.cross_entropy(F.softmax(model(x), dim=1)")
    assert "CrossEntropyLoss" in finding["why"]["en"] and "logits" in finding["why"]["zh"]
    assert finding["trial"]["slug"] == "custom-module" and finding["trial"]["url"] == "/trials/custom-module/"
    # the test curriculum has no trial of that slug: the link stays, its title is unknown
    assert finding["trial"]["title"] is None
    # nothing is stored: analysis is not a submission and not a draft
    assert not Submission.objects.exists() and not Draft.objects.exists()


def test_a_syntax_error_is_an_answer_not_an_error(personas: Personas, curriculum, client_for) -> None:
    response = analyze(client_for(personas.alice), curriculum["r1t1"].slug, {"code": "def f(:\n"})
    assert response.status_code == 200
    body = response.json()
    assert body["findings"] == []
    assert body["parse_error"]["line"] == 1 and body["parse_error"]["message"]


def test_an_empty_editor_has_nothing_to_say(personas: Personas, curriculum, client_for) -> None:
    response = analyze(client_for(personas.alice), curriculum["r1t1"].slug, {"code": "  \n"})
    assert response.status_code == 200
    assert response.json() == {"findings": [], "parse_error": None, "complete": True}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"code": "x" * (64 * 1024 + 1)}, 413, "too_large"),
        ({"code": "a = '\x00'"}, 400, "null_characters_not_allowed"),
        ({"code": 12}, 400, "invalid"),
        ({}, 400, "required"),
    ],
)
def test_bad_input_is_refused_in_the_one_error_body(
    personas: Personas, curriculum, client_for, body, status, code
) -> None:
    response = analyze(client_for(personas.alice), curriculum["r1t1"].slug, body)
    assert response.status_code == status
    error = error_of(response)
    assert (error["code"], error["field"]) == (code, "code")


def test_unknown_unpublished_and_anonymous_are_refused(personas: Personas, curriculum, client_for) -> None:
    exercise = curriculum["r1t2"]
    exercise.is_published = False
    exercise.save(update_fields=["is_published"])
    client = client_for(personas.alice)
    for slug in (exercise.slug, "no-such-trial"):
        response = analyze(client, slug, {"code": SOFTMAX})
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert analyze(APIClient(), curriculum["r1t1"].slug, {"code": SOFTMAX}).status_code in (401, 403)


def test_the_rate_limit_answers_429_with_retry_after(
    personas: Personas, curriculum, client_for, settings, monkeypatch
) -> None:
    # given a limit of 3 a minute and a clock pinned 20 s into a minute
    settings.COACH_ANALYSES_PER_MINUTE = 3
    now = [60.0 * 1000 + 20]
    monkeypatch.setattr("huashen.coach.services.time.time", lambda: now[0])
    alice, bob = client_for(personas.alice), client_for(personas.bob)
    slug = curriculum["r1t1"].slug
    assert [analyze(alice, slug, {"code": "x = 1\n"}).status_code for _ in range(3)] == [200, 200, 200]
    # the fourth in the same minute is refused, saying when to come back
    response = analyze(alice, slug, {"code": "x = 1\n"})
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert int(response["Retry-After"]) == 41
    # bob has his own allowance
    assert analyze(bob, slug, {"code": "x = 1\n"}).status_code == 200
    # and the next minute starts a fresh count
    now[0] += 41
    assert analyze(alice, slug, {"code": "x = 1\n"}).status_code == 200


def test_the_schema_documents_the_endpoint(client: object) -> None:
    from django.test import Client

    schema = Client().get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/exercises/{slug}/analyze/"]["post"]
    assert {"200", "429", "413"} <= set(operation["responses"])
    assert "AnalyzeOutput" in str(operation["responses"]["200"])


def test_run_and_submit_answers_carry_the_coach_and_store_nothing_of_it(
    personas: Personas, curriculum, client_for
) -> None:
    client = client_for(personas.alice)
    for mode in ("run", "submit"):
        response = client.post(
            "/api/v1/submissions/",
            {"exercise": curriculum["r1t1"].slug, "code": SOFTMAX, "mode": mode},
            format="json",
        )
        assert response.status_code == 201
        coach = response.json()["coach"]
        assert [finding["rule"] for finding in coach["findings"]] == ["softmax-before-cross-entropy"]
    # the submission detail (and so the score) knows nothing of the advice
    detail = client.get(f"/api/v1/submissions/{Submission.objects.first().pk}/").json()
    assert "coach" not in detail
