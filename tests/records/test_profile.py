"""The profile page: overall progress, passes per realm, recent activity, language, account links."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from huashen.practice.services import activity_record
from tests.conftest import Personas
from tests.records.builders import graded, make_curriculum_from, queries_of, review_graded
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


def test_the_profile_shows_progress_and_activity(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    # given alice opened trial 1.1, saved drafts on it three times, then passed it and failed 1.2
    start = timezone.now() - dt.timedelta(minutes=30)
    activity_record(user_id=personas.alice.pk, exercise_id=curriculum["r1t1"].pk, kind="opened", now=start)
    for minute in (1, 2, 3):
        activity_record(
            user_id=personas.alice.pk,
            exercise_id=curriculum["r1t1"].pk,
            kind="draft_saved",
            now=start + dt.timedelta(minutes=minute),
        )
    passed = graded(personas.alice, curriculum["r1t1"])
    graded(personas.alice, curriculum["r1t2"], verdict=WireVerdict.FAILED, score=30.0)
    graded(personas.bob, curriculum["r1t3"])
    client.force_login(personas.alice)
    # when she opens her profile
    response = client.get("/profile/")
    assert response.status_code == 200
    content = response.content.decode()
    # then her progress: one of ten passed, realm 1 with trial 1.1, realm 2 locked
    assert "共通过 1 / 10 道试炼" in content
    assert 'data-realm="realm-1" data-passed="1"' in content
    assert "试炼 1.1" in content
    assert "在试炼页上学习了约 3 分钟。" in content
    # and her activity, newest first: the two submissions, then the folded draft saves, then the opening
    kinds = [kind for kind in content.split('data-testid="activity-row" data-kind="')[1:]]
    assert [kind.split('"')[0] for kind in kinds] == ["submit", "submit", "draft_saved", "opened"]
    assert f'href="/submissions/{passed.pk}/"' in content
    assert "保存草稿 ×3" in content
    assert "试炼 1.3" not in content.split('data-testid="profile-activity"')[1]  # bob's work is not hers
    # and her account: cohort, language switch, password change
    assert "<dd>A</dd>" in content
    assert 'action="/language/"' in content and 'name="language"' in content
    assert 'href="/password/"' in content


def test_the_profile_shows_trials_under_review(client: Client, personas: Personas, curriculum: dict) -> None:
    review_graded(curriculum["r1t2"])
    graded(personas.alice, curriculum["r1t2"])
    client.force_login(personas.alice)
    content = client.get("/profile/").content.decode()
    assert '<span class="tag">评审中</span>' in content


def test_the_profile_of_a_newcomer(client: Client, personas: Personas, curriculum: dict) -> None:
    client.force_login(personas.alice)
    content = client.get("/profile/").content.decode()
    assert "共通过 0 / 10 道试炼" in content
    assert "还没有活动：打开一道试炼，运行或提交你的代码吧。" in content


def test_the_profile_without_trials(client: Client, personas: Personas) -> None:
    client.force_login(personas.bob)
    assert "还没有开放的试炼。" in client.get("/profile/").content.decode()


def test_the_profile_in_english_and_the_language_switch(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    graded(personas.alice, curriculum["r1t1"])
    client.force_login(personas.alice)
    response = client.post("/language/", {"language": "en", "next": "/profile/"})
    assert (response.status_code, response["Location"]) == (302, "/profile/")
    content = client.get("/profile/").content.decode()
    assert "<h1>Profile · alice</h1>" in content
    assert "1 of 10 trials passed" in content
    assert "Recent activity" in content and "Change password" in content
    assert "个人主页" not in content and "最近活动" not in content


def test_the_profile_links_tokens_only_when_that_page_exists(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    from django.urls import Resolver404, resolve

    client.force_login(personas.alice)
    content = client.get("/profile/").content.decode()
    try:
        resolve("/profile/tokens/")
        exists = True
    except Resolver404:
        exists = False
    assert ('href="/profile/tokens/"' in content) is exists


def test_the_profile_needs_a_sign_in(client: Client) -> None:
    response = client.get("/profile/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/profile/"


def test_the_profile_is_a_constant_number_of_queries(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    # given one pass and a review-graded trial (with none, the review lookup is skipped altogether)
    graded(personas.alice, curriculum["r1t1"])
    review_graded(curriculum["r1t5"])
    client.force_login(personas.alice)
    few = queries_of(client, "/profile/")
    # when more realms, passes, reviews, runs and trial-page events pile up
    more = make_curriculum_from(order=3, realms=2)
    for key in ("r1t2", "r1t3"):
        graded(personas.alice, curriculum[key])
        activity_record(user_id=personas.alice.pk, exercise_id=curriculum[key].pk, kind="opened")
    review_graded(more["r3t1"])
    for tier in (1, 2, 3):
        graded(personas.alice, curriculum[f"r2t{tier}"], mode="run")
        activity_record(
            user_id=personas.alice.pk, exercise_id=curriculum[f"r2t{tier}"].pk, kind="hint_revealed"
        )
    # then the profile costs the same
    assert queries_of(client, "/profile/") == few <= 14
