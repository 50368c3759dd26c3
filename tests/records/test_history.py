"""A trial's history page: only the viewer's own submissions, newest first, the compare form, empty state."""

import re

import pytest
from django.test import Client

from tests.conftest import Personas
from tests.records.builders import graded, in_english, queries_of
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


def row_ids(content: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="history-row" data-submission-id="(\d+)"', content)]


def test_the_history_lists_only_my_submissions_of_that_trial(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    # given alice ran and submitted trial 1.1, bob submitted it too, and alice submitted trial 1.2
    first = graded(personas.alice, curriculum["r1t1"], mode="run", verdict=WireVerdict.FAILED, score=50.0)
    second = graded(personas.alice, curriculum["r1t1"], verdict=WireVerdict.PASSED, score=100.0)
    graded(personas.bob, curriculum["r1t1"])
    graded(personas.alice, curriculum["r1t2"])
    client.force_login(personas.alice)
    # when she opens trial 1.1's history
    response = client.get("/trials/realm-1-trial-1/history/")
    # then she sees her two, newest first, with mode, verdict and score, each linking to its page
    assert response.status_code == 200
    content = response.content.decode()
    assert row_ids(content) == [second.pk, first.pk]
    assert f'href="/submissions/{second.pk}/"' in content
    assert "运行" in content and "提交" in content and "未通过" in content and "通过" in content
    assert 'data-verdict="failed" data-mode="run"' in content
    assert "比较所选的两次提交" in content


def test_the_history_in_english(client: Client, personas: Personas, curriculum: dict) -> None:
    graded(personas.alice, curriculum["r1t1"], verdict=WireVerdict.FAILED, score=50.0)
    client.force_login(personas.alice)
    in_english(client)
    content = client.get("/trials/realm-1-trial-1/history/").content.decode()
    assert "History · Trial 1.1" in content
    assert "Failed" in content and "Submit" in content and "Verdict" in content
    assert "提交历史" not in content


def test_the_history_without_submissions(client: Client, personas: Personas, curriculum: dict) -> None:
    graded(personas.bob, curriculum["r1t1"])
    client.force_login(personas.alice)
    content = client.get("/trials/realm-1-trial-1/history/").content.decode()
    assert row_ids(content) == []
    assert 'data-testid="history-empty"' in content
    assert "你还没有提交过这道试炼。" in content


def test_the_history_of_an_unknown_trial_is_404(client: Client, personas: Personas, curriculum: dict) -> None:
    client.force_login(personas.alice)
    assert client.get("/trials/no-such-trial/history/").status_code == 404


def test_the_history_needs_a_sign_in(client: Client, curriculum: dict) -> None:
    response = client.get("/trials/realm-1-trial-1/history/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_compare_form_opens_the_diff(client: Client, personas: Personas, curriculum: dict) -> None:
    old = graded(personas.alice, curriculum["r1t1"], code="a = 1\n")
    new = graded(personas.alice, curriculum["r1t1"], code="a = 2\n")
    client.force_login(personas.alice)
    response = client.get("/trials/realm-1-trial-1/history/", {"a": old.pk, "b": new.pk})
    assert (response.status_code, response["Location"]) == (302, f"/submissions/{old.pk}/diff/{new.pk}/")


@pytest.mark.parametrize("query", [{"a": "1", "b": "1"}, {"a": "1"}, {"a": "x", "b": "2"}])
def test_the_compare_form_needs_two_different_submissions(
    client: Client, personas: Personas, curriculum: dict, query: dict
) -> None:
    client.force_login(personas.alice)
    response = client.get("/trials/realm-1-trial-1/history/", query, follow=True)
    assert response.redirect_chain == [("/trials/realm-1-trial-1/history/", 302)]
    assert "请选择两次不同的提交来比较。" in response.content.decode()


def test_the_history_is_a_constant_number_of_queries(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    graded(personas.alice, curriculum["r1t1"])
    client.force_login(personas.alice)
    one = queries_of(client, "/trials/realm-1-trial-1/history/")
    for score in (10.0, 20.0, 30.0, 40.0):
        graded(personas.alice, curriculum["r1t1"], verdict=WireVerdict.FAILED, score=score, mode="run")
    assert queries_of(client, "/trials/realm-1-trial-1/history/") == one <= 10
