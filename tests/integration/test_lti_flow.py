"""LTI 1.3 end to end over real HTTP: the stand-in LMS launches a student into Huashen (daphne, PostgreSQL,
Redis), the student submits trial 1.1's reference through the API, a grader worker passes it, and the
platform worker sends the score to the LMS's line item — which receives it once."""

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from lti_tool.models import LtiUser

from huashen.accounts.models import CohortMembership
from huashen.curriculum.services import exercises_sync
from huashen.grading.models import Submission
from huashen.lti import receivers, services
from huashen.lti.models import ScoreAttempt, ScorePublication
from tests.integration.conftest import (
    WorkerProcess,
    free_port,
    result_summary,
    start_grader,
    start_platform_worker,
    start_web_server,
    wait_for_200,
    wait_for_result,
)
from tests.lti.standin import StandInProcess, id_token_form

ROOT = Path(__file__).resolve().parents[2]
TRIAL = "tensor-basics"
REFERENCE = next((ROOT / "exercises").glob("01-*/01-tensor-basics/reference/solution.py"))
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


@dataclass
class Classroom:
    host: str
    standin: StandInProcess
    processes: list[WorkerProcess]

    def tails(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.output()[-3000:]}" for p in self.processes)


@pytest.fixture
def classroom(
    services: dict, transactional_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Classroom]:
    result = exercises_sync()
    assert result.ok, result.errors
    client = redis.Redis.from_url(services["redis"])
    for key in client.scan_iter("huashen:submission:*"):
        client.delete(key)
    monkeypatch.setenv("LTI_SCORE_RETRY_BASE_SECONDS", "1")  # the platform worker's retries, in seconds
    started: list[WorkerProcess] = []
    standin = None
    try:
        started.append(start_platform_worker(services, tmp_path / "platform-worker.log"))
        started.append(start_grader(services, ROOT / "exercises", tmp_path / "grader.log"))
        web, host = start_web_server(services, tmp_path / "web.log", secret_key=secrets.token_urlsafe(40))
        started.append(web)
        wait_for_200(f"http://{host}/readyz", web)
        standin = StandInProcess(
            port=free_port(), tool_base=f"http://{host}", log=tmp_path / "lms.log",
            tool_jwks=f"http://{host}/lti/jwks.json",
        )  # fmt: skip
        services_registration = services_register(standin)
        assert services_registration.deployments.filter(is_active=True).count() == 1
        yield Classroom(host=host, standin=standin, processes=started)
    finally:
        if standin is not None:
            standin.stop()
        for process in reversed(started):
            process.stop()


def services_register(standin: StandInProcess):  # type: ignore[no-untyped-def]
    return services.registration_create(**standin.registration_fields())


def test_an_lms_launch_a_pass_and_the_score_in_the_lms_gradebook(classroom: Classroom) -> None:
    browser = httpx.Client(timeout=30)

    def tool_get(url: str) -> tuple[int, str, str]:
        response = browser.get(url)
        return response.status_code, response.headers.get("location", ""), response.text

    sub = f"lms-student-{secrets.token_hex(3)}"
    spec = {
        "sub": sub, "roles": [LEARNER], "name": "Zhang San", "given_name": "San", "family_name": "Zhang",
        "email": "zhangsan@example.edu", "custom": {"huashen_trial": TRIAL},
        "resource_link": {"id": "placement-tensor-basics", "title": "1.1"},
    }  # fmt: skip
    action, fields = id_token_form(classroom.standin, spec, tool_get)
    assert action == f"http://{classroom.host}/lti/launch/"
    landed = browser.post(action, data=fields)
    assert landed.status_code == 302, landed.text[:2000]
    assert landed.headers["location"] == f"/trials/{TRIAL}/"
    trial_page = browser.get(f"http://{classroom.host}/trials/{TRIAL}/")
    assert trial_page.status_code == 200, trial_page.text[:1000]

    user = LtiUser.objects.get(sub=sub).auth_user
    assert user is not None and user.first_name == "San"
    assert CohortMembership.objects.filter(student=user, cohort__lti_context__isnull=False).count() == 1

    response = browser.post(
        f"http://{classroom.host}/api/v1/submissions/",
        json={"exercise": TRIAL, "code": REFERENCE.read_text(encoding="utf-8"), "mode": "submit"},
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
    )
    assert response.status_code == 201, response.text[:2000]
    submission = wait_for_result(Submission.objects.get(pk=response.json()["id"]), *classroom.processes)
    assert submission.verdict == "passed", result_summary(submission)

    deadline = time.monotonic() + 60
    received: list[dict] = []
    while time.monotonic() < deadline and not received:
        received = [score for score in classroom.standin.received()["scores"] if score["userId"] == sub]
        time.sleep(0.3)
    assert received, f"the LMS received no score\n{classroom.tails()}"
    assert received[0]["scoreGiven"] == 100.0 and received[0]["scoreMaximum"] == 100.0
    assert received[0]["lineitem"].endswith("/placement-tensor-basics")

    # The same pass announced again queues nothing: the LMS holds the score once.
    receivers.on_submission_finished(
        None, submission_id=submission.pk, user_id=user.pk, exercise_id=submission.exercise_id,
        mode="submit", purpose="attempt", verdict="passed", score=100.0,
    )  # fmt: skip
    time.sleep(2)
    assert len([score for score in classroom.standin.received()["scores"] if score["userId"] == sub]) == 1
    (publication,) = ScorePublication.objects.filter(user=user)
    assert publication.state == "sent" and publication.submission_id == submission.pk
    assert list(
        ScoreAttempt.objects.filter(publication=publication).values_list("outcome", "http_status")
    ) == [("sent", 200)]
