"""The teaching pages speak both languages: Chinese by default, English for a user who chose it."""

import pytest
from django.test import Client

from huashen.accounts.services import user_set_language
from tests.conftest import Personas
from tests.teaching.conftest import graded

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", ["我的班级", "创建班级", "进度矩阵"]),
        ("en", ["My cohorts", "Create a cohort", "Progress matrix"]),
    ],
)
def test_home_in_both_languages(personas: Personas, language: str, expected: list[str]) -> None:
    user_set_language(user=personas.carol, language=language)
    client = Client()
    client.force_login(personas.carol)
    page = client.get("/teach/").content.decode()
    for text in expected:
        assert text in page


def test_english_matrix_review_and_errors(personas: Personas, trials: dict) -> None:
    work = graded(personas.alice, trials["hybrid"])
    user_set_language(user=personas.carol, language="en")
    client = Client()
    client.force_login(personas.carol)
    matrix = client.get(f"/teach/cohorts/{personas.cohort_a.pk}/matrix/").content.decode()
    assert "By last activity" in matrix and "2 students · page 1 of 1" in matrix
    form = client.post(
        f"/teach/reviews/{work.pk}/", {"score-clarity": "99", "score-evidence": "0"}
    ).content.decode()
    assert "This score must be between 0 and 60." in form
    assert "Clear" in form  # the criterion's English text
