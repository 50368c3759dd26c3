"""The realm map: every trial's card state, what unlocks next, both languages, a constant query count."""

import re

import pytest
from django.test import Client

from tests.conftest import Personas
from tests.factories import make_curriculum
from tests.records.builders import graded, in_english, make_curriculum_from, queries_of, review_graded
from workers.protocol import Verdict as WireVerdict

pytestmark = pytest.mark.django_db


def card_states(content: str) -> dict[str, str]:
    """slug → data-state of every trial card on the page."""
    cards = re.findall(r'data-testid="trial-card" data-slug="([^"]+)" data-state="([^"]+)"', content)
    return dict(cards)


def test_every_card_state_from_the_progress(client: Client, personas: Personas, curriculum: dict) -> None:
    # given alice passed 1.1, failed 1.2, and passed the automatic checks of the hybrid 1.3 and manual 1.4
    review_graded(curriculum["r1t3"], "hybrid")
    review_graded(curriculum["r1t4"], "manual")
    graded(personas.alice, curriculum["r1t1"])
    graded(personas.alice, curriculum["r1t2"], verdict=WireVerdict.FAILED, score=40.0)
    graded(personas.alice, curriculum["r1t3"], score=90.0)
    graded(personas.alice, curriculum["r1t4"])
    client.force_login(personas.alice)
    # when she opens the map
    content = client.get("/realms/").content.decode()
    # then each card carries its state
    states = card_states(content)
    assert states["realm-1-trial-1"] == "passed"
    assert states["realm-1-trial-2"] == "attempted"
    assert states["realm-1-trial-3"] == "under-review"
    assert states["realm-1-trial-4"] == "under-review"
    assert states["realm-1-trial-5"] == "open"
    assert "评审中" in content
    assert "2 道评审中" in content


def test_locked_realm_says_how_many_passes_are_missing(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    graded(personas.alice, curriculum["r1t1"])
    client.force_login(personas.alice)
    content = client.get("/realms/").content.decode()
    states = card_states(content)
    assert {states[f"realm-2-trial-{tier}"] for tier in range(1, 6)} == {"locked"}
    assert "再通过「境界1」的 2 道试炼，即可开启「境界2」。" in content
    assert "还差 2 道。" in content
    # locked trials are no links to their trial page; tried ones link to their history
    assert 'href="/trials/realm-1-trial-1/history/"' in content
    assert 'href="/trials/realm-2-trial-1/history/"' not in content


def test_a_failed_latest_submit_of_a_hybrid_trial_is_not_under_review(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    # given a hybrid trial alice passed once and then failed: her latest work is not waiting for review
    review_graded(curriculum["r1t3"])
    graded(personas.alice, curriculum["r1t3"])
    graded(personas.alice, curriculum["r1t3"], verdict=WireVerdict.FAILED, score=10.0)
    # and a run (not a submit) of another hybrid trial, which is never reviewed
    review_graded(curriculum["r1t4"])
    graded(personas.alice, curriculum["r1t4"], mode="run")
    client.force_login(personas.alice)
    states = card_states(client.get("/realms/").content.decode())
    assert states["realm-1-trial-3"] in (
        "passed",
        "attempted",
    )  # whether its first pass counts needs a review
    assert states["realm-1-trial-4"] == "open"


def test_another_students_progress_does_not_show(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    graded(personas.bob, curriculum["r1t1"])
    client.force_login(personas.alice)
    states = card_states(client.get("/realms/").content.decode())
    assert states["realm-1-trial-1"] == "open"


def test_the_best_score_is_shown(client: Client, personas: Personas, curriculum: dict) -> None:
    graded(personas.alice, curriculum["r1t2"], verdict=WireVerdict.FAILED, score=40.0)
    graded(personas.alice, curriculum["r1t2"], verdict=WireVerdict.FAILED, score=75.0)
    graded(personas.alice, curriculum["r1t2"], verdict=WireVerdict.FAILED, score=20.0)
    client.force_login(personas.alice)
    content = client.get("/realms/").content.decode()
    card = re.search(r'data-slug="realm-1-trial-2".*?</li>', content, re.S)
    assert card is not None
    assert '<span class="visually-hidden">最高分 </span>75</span>' in card.group(0)


def test_the_map_in_english(client: Client, personas: Personas, curriculum: dict) -> None:
    review_graded(curriculum["r1t2"])
    graded(personas.alice, curriculum["r1t1"])
    graded(personas.alice, curriculum["r1t2"])
    graded(personas.alice, curriculum["r1t3"])
    client.force_login(personas.alice)
    in_english(client)
    content = client.get("/realms/").content.decode()
    assert "<h1>Realm map</h1>" in content
    assert "Under review" in content and "Passed" in content and "Locked" in content
    assert "1 more pass in «Realm 1» opens «Realm 2»." in content
    assert "1 more needed." in content
    assert "Profile" in content
    assert "评审中" not in content and "还差" not in content


def test_the_map_without_trials_in_a_realm_and_without_realms(client: Client, personas: Personas) -> None:
    client.force_login(personas.alice)
    assert "还没有境界" in client.get("/realms/").content.decode()
    make_curriculum(realms=1, tiers=0)
    assert "本境界的试炼即将开放。" in client.get("/realms/").content.decode()


def test_the_map_is_a_constant_number_of_queries(client: Client, personas: Personas) -> None:
    # given one realm, some trials tried, one of them review-graded
    first = make_curriculum(realms=1, tiers=5)
    for tier in (1, 3, 4):
        graded(personas.alice, first[f"r1t{tier}"])  # type: ignore[arg-type]
    review_graded(first["r1t2"])  # type: ignore[arg-type]
    graded(personas.alice, first["r1t2"])  # type: ignore[arg-type]
    client.force_login(personas.alice)
    small = queries_of(client, "/realms/")
    # when three more realms arrive, with more tries, passes and review-graded trials
    more = make_curriculum_from(order=2, realms=3)
    for key in ("r2t1", "r2t2", "r2t3"):
        review_graded(more[key])
        graded(personas.alice, more[key], verdict=WireVerdict.FAILED, score=10.0)
    graded(personas.alice, first["r1t5"])  # type: ignore[arg-type]
    # then the map costs the same number of queries
    assert queries_of(client, "/realms/") == small <= 10


@pytest.mark.parametrize("points, after", [(10, "passed"), (0, "attempted")])
def test_a_review_ends_under_review(
    client: Client, personas: Personas, curriculum: dict, points: int, after: str
) -> None:
    from huashen.curriculum.models import ExerciseVersion
    from huashen.teaching.services import review_submit

    # given a hybrid trial with a rubric, and alice's submit that passed its automatic checks
    review_graded(curriculum["r1t3"])
    rubric = [{"key": "clarity", "points": 10, "zh": "清晰", "en": "Clarity"}]
    ExerciseVersion.objects.filter(pk=curriculum["r1t3"].current_version_id).update(rubric=rubric)
    submission = graded(personas.alice, curriculum["r1t3"])
    client.force_login(personas.alice)
    assert card_states(client.get("/realms/").content.decode())["realm-1-trial-3"] == "under-review"
    # when carol, her instructor, reviews it
    review_submit(reviewer=personas.carol, submission_id=submission.pk, scores={"clarity": points})
    # then the card shows the review's outcome
    assert card_states(client.get("/realms/").content.decode())["realm-1-trial-3"] == after
