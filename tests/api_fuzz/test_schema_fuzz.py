"""Schemathesis against the live OpenAPI schema, in-process: no 5xx, and every answer is the documented one.

The schema is read from the running app (`/api/v1/schema/`), so an endpoint added anywhere is fuzzed
without touching this file. Calls go through Django's WSGI handler in the test's own database
transaction, authenticated with an API token as the student alice (every operation) and as her
instructor carol (the teaching operations, where an instructor sees more). Nothing reaches a grader: a
submission would only be sent on commit, which never comes inside the test transaction, and the
dispatch is replaced by a list besides. Bounded and reproducible: a few examples per operation,
derandomized.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from huashen.accounts.models import ApiToken, User
from huashen.accounts.tokens import api_token_create
from huashen.grading import dispatch
from huashen.grading.services import submission_create
from tests.conftest import Personas, SentRequests

MAX_EXAMPLES = 25
# DRF coerces scalars into the declared type (`{"name": 0}` is the name "0"), so a body the schema calls
# invalid can be accepted; every other check runs, the server-error and response-conformance ones first.
LENIENT_BY_DESIGN = [schemathesis.checks.negative_data_rejection]

# Where an instructor sees more than a student: fuzzed a second time as carol (alice's instructor).
INSTRUCTOR_PATHS = r"^/api/v1/(cohorts|reviews|submissions/\{)"
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())


@pytest.fixture
def wsgi_in_test_transaction() -> Iterator[None]:
    """Keep the test's connection (and its transaction) open across requests, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(
    personas: Personas, curriculum: dict, monkeypatch: pytest.MonkeyPatch, settings_override: None
) -> Personas:
    """The personas, and a few of alice's submissions (queued) for the instructor views to find."""
    sent = SentRequests()
    monkeypatch.setattr(dispatch, "send_grade_request", sent)
    for mode in ("run", "submit"):
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode=mode)
    return personas


@pytest.fixture
def student_auth(seeded: Personas) -> "TokenAuth":
    return TokenAuth(seeded.alice)


@pytest.fixture
def instructor_auth(seeded: Personas) -> "TokenAuth":
    return TokenAuth(seeded.carol)


@pytest.fixture
def settings_override(settings) -> None:
    # Fuzzing explores the API, not the throttle (tests/api/test_hardening.py covers the 429).
    settings.SUBMISSIONS_PER_MINUTE = 100_000


class TokenAuth:
    """A persona's token, re-made with the same secret whenever the fuzzer revokes it through DELETE."""

    def __init__(self, user: User) -> None:
        new = api_token_create(user=user, name="fuzz")
        self.row = {
            field.attname: getattr(new.token, field.attname) for field in ApiToken._meta.concrete_fields
        }
        self.headers = {"Authorization": f"Token {new.secret}"}

    def ensure(self) -> dict[str, str]:
        if not ApiToken.objects.filter(pk=self.row["id"]).exists():
            ApiToken.objects.create(**self.row)
        return self.headers


@pytest.mark.django_db
@schema.parametrize()
@FUZZ_SETTINGS
def test_the_api_answers_every_generated_request_as_documented(
    case: schemathesis.Case, wsgi_in_test_transaction: None, student_auth: TokenAuth
) -> None:
    case.call_and_validate(headers=student_auth.ensure(), excluded_checks=LENIENT_BY_DESIGN)


@pytest.mark.django_db
@schema.include(path_regex=INSTRUCTOR_PATHS).parametrize()
@settings(FUZZ_SETTINGS, max_examples=15)  # a second pass over operations the first already covers
def test_the_teaching_endpoints_answer_an_instructor_as_documented(
    case: schemathesis.Case, wsgi_in_test_transaction: None, instructor_auth: TokenAuth
) -> None:
    case.call_and_validate(headers=instructor_auth.ensure(), excluded_checks=LENIENT_BY_DESIGN)
