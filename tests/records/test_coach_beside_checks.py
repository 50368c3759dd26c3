"""The coach's findings on a result: beside the failed check they most likely explain, on the server-rendered
page and in the API the live view reads (`GET /api/v1/submissions/<id>/coach/`)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from huashen.curriculum.models import Exercise
from huashen.grading.models import Submission
from tests.conftest import Personas
from tests.records.builders import a_check, graded, in_english
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db

SOFTMAX = (
    "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
    "class Net(nn.Module):\n"
    "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(784, 10)\n\n"
    "    def forward(self, x):\n        return F.softmax(self.fc(x.flatten(1)), dim=1)\n\n"
    "def loss_of(model, x, y):\n    return nn.CrossEntropyLoss()(model(x), y)\n"
)


def softmax_submission(personas: Personas, curriculum: dict, *, logits_pass: bool) -> Submission:
    exercise = curriculum["r1t1"]
    Exercise.objects.filter(pk=exercise.pk).update(slug="custom-module")
    exercise.refresh_from_db()
    return graded(
        personas.alice,
        exercise,
        verdict=WireVerdict.PASSED if logits_pass else WireVerdict.FAILED,
        score=100.0 if logits_pass else 75.0,
        code=SOFTMAX,
        checks=[a_check("output-shape", True), a_check("logits", logits_pass, "分数不对。", "Wrong scores.")],
    )


def test_the_finding_is_shown_beside_the_failed_check_it_explains(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    submission = softmax_submission(personas, curriculum, logits_pass=False)
    client.force_login(personas.alice)
    in_english(client)
    html = client.get(f"/submissions/{submission.pk}/").content.decode()
    logits = html[html.index('data-key="logits"') :]
    logits = logits[: logits.index("</li>\n      \n")] if "</li>\n      \n" in logits else logits
    assert 'data-rule="softmax-before-cross-entropy"' in logits
    assert "softmax output fed to CrossEntropyLoss" in logits and "Line 11" in logits
    assert 'href="/trials/custom-module/"' in logits
    # not beside the check that passed
    shape = html[html.index('data-key="output-shape"') : html.index('data-key="logits"')]
    assert "data-rule=" not in shape


def test_the_finding_is_said_in_chinese_by_default(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    submission = softmax_submission(personas, curriculum, logits_pass=False)
    client.force_login(personas.alice)
    html = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "把 softmax 的输出交给了 CrossEntropyLoss" in html and "第 11 行" in html


def test_nothing_is_shown_when_the_check_passed(client: Client, personas: Personas, curriculum: dict) -> None:
    submission = softmax_submission(personas, curriculum, logits_pass=True)
    client.force_login(personas.alice)
    html = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert 'data-testid="check-coach"' not in html


def test_the_api_names_the_failed_checks_each_finding_explains(personas: Personas, curriculum: dict) -> None:
    submission = softmax_submission(personas, curriculum, logits_pass=False)
    api = APIClient()
    api.force_authenticate(personas.alice)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/submissions/{submission.pk}/coach/")
    assert response.status_code == 200
    (finding,) = response.json()["findings"]
    assert finding["rule"] == "softmax-before-cross-entropy"
    assert finding["explains"] == ["logits"]
    assert finding["trial"]["title"] is not None  # the trial of that slug is in this catalogue
    assert len(queries) <= 3  # the viewer's submission, the teaching trials' titles (session-less client)


def test_another_student_cannot_read_the_coach_on_a_submission(personas: Personas, curriculum: dict) -> None:
    submission = softmax_submission(personas, curriculum, logits_pass=False)
    api = APIClient()
    api.force_authenticate(personas.bob)
    assert api.get(f"/api/v1/submissions/{submission.pk}/coach/").status_code == 404
