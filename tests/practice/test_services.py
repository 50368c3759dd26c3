"""Practice services and selectors: drafts, hint reveals, activity (coalescing, time on task), the queue,
the reference solution's gate."""

import datetime as dt

import pytest
from django.utils import timezone

from huashen.errors import DomainError
from huashen.grading.models import Mode, Status, Submission
from huashen.grading.services import submission_create
from huashen.practice.models import ActivityEvent, ActivityKind, Draft, HintReveal
from huashen.practice.selectors import (
    IDLE_GAP_SECONDS,
    activity_for_users,
    draft_get,
    hints_revealed,
    reference_for_viewer,
    submission_queue_ahead,
)
from huashen.practice.services import activity_record, draft_save, hint_reveal_next
from tests.conftest import Personas
from tests.practice.conftest import OTHER_WAY, REFERENCE, pass_trial

pytestmark = pytest.mark.django_db


def kinds(user, exercise) -> list[str]:
    return list(ActivityEvent.objects.filter(user=user, exercise=exercise).values_list("kind", flat=True))


# --- drafts ----------------------------------------------------------------------------------------------


def test_a_draft_is_one_row_per_student_and_trial(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    draft_save(user=personas.alice, exercise=exercise, code="x = 1\n")
    draft_save(user=personas.alice, exercise=exercise, code="x = 2\n")
    assert Draft.objects.filter(user=personas.alice, exercise=exercise).count() == 1
    assert draft_get(user=personas.alice, exercise=exercise).code == "x = 2\n"
    assert draft_get(user=personas.bob, exercise=exercise) is None


def test_an_empty_draft_may_be_saved(personas: Personas, curriculum) -> None:
    draft = draft_save(user=personas.alice, exercise=curriculum["r1t1"], code="   \n")
    assert draft.code == "   \n"


@pytest.mark.parametrize(
    ("code", "error_code", "status"),
    [
        ("x" * (64 * 1024 + 1), "too_large", 413),
        ("print('a\x00b')", "invalid_code", 400),
        (b"print('\xff')", "invalid_encoding", 400),
    ],
)
def test_drafts_obey_the_submission_rules(personas: Personas, curriculum, code, error_code, status) -> None:
    with pytest.raises(DomainError) as raised:
        draft_save(user=personas.alice, exercise=curriculum["r1t1"], code=code)
    assert (raised.value.code, raised.value.status) == (error_code, status)
    assert not Draft.objects.exists()


def test_draft_saves_are_recorded_at_most_once_a_minute(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    for n in range(5):
        draft_save(user=personas.alice, exercise=exercise, code=f"x = {n}\n")
    assert kinds(personas.alice, exercise) == [ActivityKind.DRAFT_SAVED]
    # a minute later, the next save is a new event
    ActivityEvent.objects.update(at=timezone.now() - dt.timedelta(seconds=61))
    draft_save(user=personas.alice, exercise=exercise, code="x = 9\n")
    assert kinds(personas.alice, exercise) == [ActivityKind.DRAFT_SAVED] * 2
    # another student's saves are counted on their own
    draft_save(user=personas.bob, exercise=exercise, code="y = 1\n")
    assert kinds(personas.bob, exercise) == [ActivityKind.DRAFT_SAVED]


# --- hints -----------------------------------------------------------------------------------------------


def test_hints_are_revealed_in_order_and_recorded(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    version = exercise.current_version
    version.hints = [{"zh": "一", "en": "one"}, {"zh": "二", "en": "two"}]
    version.save(_allow_update=True)
    assert hints_revealed(user=personas.alice, exercise=exercise) == []
    assert hint_reveal_next(user=personas.alice, exercise=exercise).index == 0
    assert hint_reveal_next(user=personas.alice, exercise=exercise).index == 1
    with pytest.raises(DomainError) as raised:
        hint_reveal_next(user=personas.alice, exercise=exercise)
    assert (raised.value.code, raised.value.status) == ("no_more_hints", 409)
    assert [(h.index, h.en) for h in hints_revealed(user=personas.alice, exercise=exercise)] == [
        (0, "one"),
        (1, "two"),
    ]
    assert kinds(personas.alice, exercise) == [ActivityKind.HINT_REVEALED] * 2
    assert hints_revealed(user=personas.bob, exercise=exercise) == []


def test_a_reveal_beyond_a_new_versions_hints_is_not_shown(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    HintReveal.objects.create(user=personas.alice, exercise=exercise, index=0)
    HintReveal.objects.create(user=personas.alice, exercise=exercise, index=5)
    assert [h.index for h in hints_revealed(user=personas.alice, exercise=exercise)] == [0]


# --- activity --------------------------------------------------------------------------------------------


def test_runs_and_submits_are_recorded_when_the_submission_is_created(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    submission_create(user=personas.alice, exercise=exercise, code="print(1)\n", mode=Mode.RUN)
    submission_create(user=personas.alice, exercise=exercise, code="print(1)\n", mode=Mode.SUBMIT)
    assert kinds(personas.alice, exercise) == [ActivityKind.RUN, ActivityKind.SUBMIT]


def test_a_rejected_submission_records_nothing(personas: Personas, curriculum) -> None:
    with pytest.raises(DomainError):
        submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="", mode=Mode.RUN)
    assert not ActivityEvent.objects.exists()


def test_activity_for_users_counts_and_adds_up_time_on_task(personas: Personas, curriculum) -> None:
    one, two = curriculum["r1t1"], curriculum["r1t2"]
    start = timezone.now() - dt.timedelta(hours=3)
    alice, bob = personas.alice, personas.bob

    def at(minutes: float) -> dt.datetime:
        return start + dt.timedelta(minutes=minutes)

    for minutes, kind in [(0, "opened"), (2, "draft_saved"), (5, "run"), (7, "submit"), (60, "opened")]:
        activity_record(user_id=alice.pk, exercise_id=one.pk, kind=kind, now=at(minutes))
    activity_record(user_id=alice.pk, exercise_id=two.pk, kind="opened", now=at(1))
    activity_record(user_id=bob.pk, exercise_id=one.pk, kind="opened", now=at(1))
    activity_record(user_id=personas.carol.pk, exercise_id=one.pk, kind="opened", now=at(1))

    summaries = activity_for_users(user_ids=[alice.pk, bob.pk], exercise_ids=[one.pk])
    assert set(summaries) == {(alice.pk, one.pk), (bob.pk, one.pk)}
    mine = summaries[(alice.pk, one.pk)]
    assert mine.counts == {"opened": 2, "draft_saved": 1, "hint_revealed": 0, "run": 1, "submit": 1}
    assert (mine.first_at, mine.last_at) == (at(0), at(60))
    # 0→2→5→7 minutes is work; the 53-minute gap before reopening is a break
    assert IDLE_GAP_SECONDS < 53 * 60
    assert mine.seconds_on_task == pytest.approx(7 * 60)
    assert set(activity_for_users(user_ids=[alice.pk])) == {(alice.pk, one.pk), (alice.pk, two.pk)}


def test_activity_for_users_is_one_query(personas: Personas, curriculum, django_assert_num_queries) -> None:
    for exercise in (curriculum["r1t1"], curriculum["r1t2"], curriculum["r1t3"]):
        for user in (personas.alice, personas.bob):
            activity_record(user_id=user.pk, exercise_id=exercise.pk, kind="opened")
    with django_assert_num_queries(1):
        summaries = activity_for_users(user_ids=[personas.alice.pk, personas.bob.pk])
    assert len(summaries) == 6


def test_an_unknown_activity_kind_is_refused(personas: Personas, curriculum) -> None:
    with pytest.raises(ValueError):
        activity_record(user_id=personas.alice.pk, exercise_id=curriculum["r1t1"].pk, kind="napped")


# --- the queue -------------------------------------------------------------------------------------------


def test_queue_position_counts_earlier_queued_submissions(personas: Personas, curriculum) -> None:
    exercise = curriculum["r1t1"]
    first = submission_create(user=personas.bob, exercise=exercise, code="print(1)\n", mode=Mode.RUN)
    second = submission_create(user=personas.bob, exercise=exercise, code="print(2)\n", mode=Mode.RUN)
    mine = submission_create(user=personas.alice, exercise=exercise, code="print(3)\n", mode=Mode.RUN)
    Submission.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(seconds=3))
    Submission.objects.filter(pk=second.pk).update(created_at=timezone.now() - dt.timedelta(seconds=2))
    mine.refresh_from_db()
    assert submission_queue_ahead(submission=mine) == 2
    Submission.objects.filter(pk=first.pk).update(status=Status.RUNNING)
    assert submission_queue_ahead(submission=mine) == 1
    Submission.objects.filter(pk=mine.pk).update(status=Status.RUNNING)
    mine.refresh_from_db()
    assert submission_queue_ahead(submission=mine) is None


# --- the reference solution ------------------------------------------------------------------------------


def test_the_reference_is_locked_until_the_student_passes(
    personas: Personas, curriculum, bundle_with_reference
) -> None:
    exercise = curriculum["r1t1"]
    bundle_with_reference(exercise)
    with pytest.raises(DomainError) as raised:
        reference_for_viewer(user=personas.alice, exercise=exercise)
    assert (raised.value.code, raised.value.status) == ("reference_locked", 403)
    pass_trial(personas.alice, exercise)
    files = reference_for_viewer(user=personas.alice, exercise=exercise)
    assert [(f.name, f.code) for f in files] == [("solution.py", REFERENCE), ("another_way.py", OTHER_WAY)]
    # bob, in the same cohort, has not passed
    with pytest.raises(DomainError):
        reference_for_viewer(user=personas.bob, exercise=exercise)


def test_instructors_and_admins_see_the_reference(
    personas: Personas, curriculum, bundle_with_reference
) -> None:
    exercise = curriculum["r1t1"]
    bundle_with_reference(exercise)
    for user in (personas.carol, personas.dave, personas.erin):
        assert reference_for_viewer(user=user, exercise=exercise)[0].name == "solution.py"


def test_a_reference_edited_on_disk_after_the_sync_is_not_served(
    personas: Personas, curriculum, bundle_with_reference
) -> None:
    exercise = curriculum["r1t1"]
    folder = bundle_with_reference(exercise)
    (folder / "reference" / "solution.py").write_text("changed = True\n", encoding="utf-8")
    files = reference_for_viewer(user=personas.carol, exercise=exercise)
    assert [f.name for f in files] == ["another_way.py"]
    (folder / "reference" / "another_way.py").unlink()
    with pytest.raises(DomainError) as raised:
        reference_for_viewer(user=personas.carol, exercise=exercise)
    assert (raised.value.code, raised.value.status) == ("reference_unavailable", 404)
