"""exercises_sync and the sync_exercises command against the fixture bundles (and the real exercises/)."""

import re
import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from huashen.curriculum.models import Exercise, ExerciseVersion, Realm, SyncReport
from huashen.curriculum.services import exercises_sync
from tests.curriculum.malformed import (
    ALPHA,
    BETA,
    CASE_IDS,
    CASES,
    CREATE,
    SUM,
    Case,
    error_matches,
    read,
    replace_in,
    write,
)

pytestmark = pytest.mark.django_db

REPOSITORY_EXERCISES = Path(__file__).resolve().parents[2] / "exercises"
CJK = re.compile(r"[\u4e00-\u9fff]")


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every curriculum row, field by field (SyncReport excluded: every run records one)."""
    return {
        "realms": list(Realm.objects.order_by("pk").values()),
        "exercises": list(Exercise.objects.order_by("pk").values()),
        "versions": list(ExerciseVersion.objects.order_by("pk").values()),
    }


def versions_of(slug: str) -> list[int]:
    return list(
        ExerciseVersion.objects.filter(exercise__slug=slug)
        .order_by("number")
        .values_list("number", flat=True)
    )


def sync_ok(root: Path) -> Any:
    result = exercises_sync(root=root)
    assert result.ok, "\n".join(str(e) for e in result.errors)
    return result


# --- a valid tree ---------------------------------------------------------------------------------------


def test_first_sync_creates_realms_trials_and_versions(valid_root: Path) -> None:
    result = sync_ok(valid_root)

    assert result.realms == 2
    assert sorted(result.created) == ["create-tensor", "sum-tensors"]
    assert result.new_versions == result.unchanged == result.retired == []

    alpha, beta = Realm.objects.order_by("order")
    assert (alpha.slug, alpha.order, alpha.name_zh, alpha.name_en) == (
        "alpha",
        1,
        "初境 · 张量",
        "First Realm · Tensors",
    )
    assert (alpha.theme_zh, alpha.theme_en, alpha.summary_en) == (
        "张量",
        "Tensors",
        "Create and add tensors.",
    )
    assert (beta.slug, beta.order, beta.name_en, beta.summary_zh) == ("beta", 2, "Second Realm · Models", "")

    create = Exercise.objects.get(slug="create-tensor")
    total = Exercise.objects.get(slug="sum-tensors")
    assert (create.realm, create.tier, create.order, create.is_published, create.retired) == (
        alpha,
        1,
        1,
        True,
        False,
    )
    assert (total.realm, total.tier, total.order) == (alpha, 2, 2)

    version = create.current_version
    assert version is not None
    assert version.number == 1
    assert version.exercise == create
    assert (version.title_zh, version.title_en) == ("造一个张量", "Create a tensor")
    assert version.statement_en == "Create a 2×3 tensor of ones."
    assert version.hints == [
        {"zh": "用 torch.ones。", "en": "Use torch.ones."},
        {"zh": "形状是 (2, 3)。", "en": "The shape is (2, 3)."},
    ]
    assert version.starter_code == read(valid_root, f"{CREATE}/starter.py")
    assert (version.grading, version.device, version.points, version.source) == ("auto", "cpu", 100, "sync")
    assert "reference/solution.py" in version.files
    assert len(version.content_hash) == 64

    hybrid = total.current_version
    assert hybrid is not None
    assert hybrid.grading == "hybrid"
    assert [c["key"] for c in hybrid.rubric] == ["correct", "clear"]
    assert hybrid.limits["wall_seconds"] == 30

    assert ExerciseVersion.objects.count() == 2
    report = SyncReport.objects.get()
    assert report.ok is True
    assert report.errors == []
    assert sorted(report.summary["created"]) == ["create-tensor", "sum-tensors"]


def test_second_sync_changes_nothing(valid_root: Path) -> None:
    sync_ok(valid_root)
    before = snapshot()

    result = sync_ok(valid_root)

    assert sorted(result.unchanged) == ["create-tensor", "sum-tensors"]
    assert result.created == result.new_versions == result.retired == []
    assert snapshot() == before
    assert SyncReport.objects.count() == 2


def test_editing_a_statement_makes_exactly_one_new_version(valid_root: Path) -> None:
    sync_ok(valid_root)
    create = Exercise.objects.get(slug="create-tensor")
    old_version = create.current_version
    assert old_version is not None
    old_row = ExerciseVersion.objects.filter(pk=old_version.pk).values().get()
    untouched = Exercise.objects.get(slug="sum-tensors").current_version_id

    write(valid_root, f"{CREATE}/statement.en.md", "Create a 2×3 tensor filled with ones.\n")
    result = sync_ok(valid_root)

    assert result.new_versions == ["create-tensor"]
    assert result.unchanged == ["sum-tensors"]
    assert versions_of("create-tensor") == [1, 2]
    create.refresh_from_db()
    new_version = create.current_version
    assert new_version is not None
    assert new_version.number == 2
    assert new_version.pk != old_version.pk
    assert new_version.statement_en == "Create a 2×3 tensor filled with ones."
    assert new_version.content_hash != old_row["content_hash"]
    assert ExerciseVersion.objects.filter(pk=old_version.pk).values().get() == old_row
    assert Exercise.objects.get(slug="sum-tensors").current_version_id == untouched
    assert ExerciseVersion.objects.count() == 3

    sync_ok(valid_root)  # and again: still two versions
    assert versions_of("create-tensor") == [1, 2]


def test_a_realm_edit_updates_the_realm_row(valid_root: Path) -> None:
    sync_ok(valid_root)
    replace_in(valid_root, f"{BETA}/realm.toml", 'en = "Models"', 'en = "Building models"')

    sync_ok(valid_root)

    assert Realm.objects.get(slug="beta").theme_en == "Building models"
    assert Realm.objects.count() == 2


# --- a malformed tree -----------------------------------------------------------------------------------


def break_and_change(root: Path, case: Case) -> None:
    """Alongside the defect, valid edits that a partial sync would apply (it must not)."""
    replace_in(root, f"{BETA}/realm.toml", 'zh = "模型"', 'zh = "模型构建"')
    write(root, f"{SUM}/statement.zh.md", "把两个形状相同的张量相加。\n")
    case.mutate(root)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_malformed_tree_changes_nothing_and_is_reported(case: Case, valid_root: Path) -> None:
    sync_ok(valid_root)
    before = snapshot()
    break_and_change(valid_root, case)

    result = exercises_sync(root=valid_root)

    assert result.ok is False
    for expected in case.expected:
        assert any(error_matches(e, expected) for e in result.errors), (expected, result.errors)
    assert snapshot() == before
    report = SyncReport.objects.latest("created_at")
    assert SyncReport.objects.count() == 2
    assert report.ok is False
    assert report.errors == [{"file": e.file, "field": e.field, "message": e.message} for e in result.errors]
    assert report.errors  # the admin sees what to fix


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_malformed_tree_creates_nothing_in_an_empty_database(case: Case, valid_root: Path) -> None:
    case.mutate(valid_root)

    result = exercises_sync(root=valid_root)

    assert result.ok is False
    assert (Realm.objects.count(), Exercise.objects.count(), ExerciseVersion.objects.count()) == (0, 0, 0)
    assert SyncReport.objects.get().ok is False


# --- trials that move or vanish -------------------------------------------------------------------------


def test_a_trial_removed_from_disk_is_retired_and_keeps_its_versions(valid_root: Path) -> None:
    sync_ok(valid_root)
    version_pk = Exercise.objects.get(slug="sum-tensors").current_version_id
    assert version_pk is not None

    shutil.rmtree(valid_root / SUM)
    result = sync_ok(valid_root)

    assert result.retired == ["sum-tensors"]
    assert result.unchanged == ["create-tensor"]
    gone = Exercise.objects.get(slug="sum-tensors")
    assert gone.retired is True
    assert gone.is_published is False
    assert gone.current_version_id == version_pk
    assert versions_of("sum-tensors") == [1]
    create = Exercise.objects.get(slug="create-tensor")
    assert (create.retired, create.is_published) == (False, True)

    assert sync_ok(valid_root).retired == []  # retired once, not on every run


def test_a_retired_trial_keeps_its_tier_and_order(valid_root: Path) -> None:
    """The sync parks tiers and orders at +1000 while it works; a retired row must not keep the parked
    values (tier 1002 is not a Tier choice, and the admin and any listing would show it)."""
    sync_ok(valid_root)
    shutil.rmtree(valid_root / SUM)
    sync_ok(valid_root)

    gone = Exercise.objects.get(slug="sum-tensors")
    assert (gone.tier, gone.order) == (2, 2)


def test_a_new_trial_may_take_the_tier_of_a_retired_one(valid_root: Path) -> None:
    sync_ok(valid_root)
    shutil.copytree(valid_root / SUM, valid_root / f"{ALPHA}/add-tensors")
    shutil.rmtree(valid_root / SUM)
    replace_in(
        valid_root, f"{ALPHA}/add-tensors/exercise.toml", 'slug = "sum-tensors"', 'slug = "add-tensors"'
    )

    result = sync_ok(valid_root)

    assert result.created == ["add-tensors"]
    assert result.retired == ["sum-tensors"]
    added = Exercise.objects.get(slug="add-tensors")
    assert (added.tier, added.order, added.retired) == (2, 2, False)


def test_a_retired_trial_back_on_disk_returns_hidden(valid_root: Path) -> None:
    sync_ok(valid_root)
    parked = valid_root.parent / "parked"
    shutil.move(valid_root / SUM, parked)
    sync_ok(valid_root)

    shutil.move(parked, valid_root / SUM)
    result = sync_ok(valid_root)

    back = Exercise.objects.get(slug="sum-tensors")
    assert (back.retired, back.is_published, back.tier, back.order) == (False, False, 2, 2)
    assert result.unchanged == ["create-tensor", "sum-tensors"]
    assert versions_of("sum-tensors") == [1]


def test_swapping_the_tiers_and_orders_of_two_trials_syncs(valid_root: Path) -> None:
    sync_ok(valid_root)
    replace_in(valid_root, f"{CREATE}/exercise.toml", "tier = 1\norder = 1", "tier = 2\norder = 2")
    replace_in(valid_root, f"{SUM}/exercise.toml", "tier = 2\norder = 2", "tier = 1\norder = 1")

    result = sync_ok(valid_root)  # no IntegrityError on the one-trial-per-tier/order constraints

    assert sorted(result.new_versions) == ["create-tensor", "sum-tensors"]
    assert list(Exercise.objects.values_list("slug", "tier", "order").order_by("slug")) == [
        ("create-tensor", 2, 2),
        ("sum-tensors", 1, 1),
    ]
    assert versions_of("create-tensor") == versions_of("sum-tensors") == [1, 2]


def test_swapping_the_orders_of_two_realms_syncs(valid_root: Path) -> None:
    sync_ok(valid_root)
    replace_in(valid_root, f"{ALPHA}/realm.toml", "order = 1", "order = 2")
    replace_in(valid_root, f"{BETA}/realm.toml", "order = 2", "order = 1")
    (valid_root / ALPHA).rename(valid_root / "02-alpha")
    (valid_root / BETA).rename(valid_root / "01-beta")

    sync_ok(valid_root)

    assert list(Realm.objects.order_by("order").values_list("slug", "order")) == [("beta", 1), ("alpha", 2)]
    assert Exercise.objects.filter(realm__slug="alpha").count() == 2


def test_moving_a_trial_to_another_realm_keeps_its_identity(valid_root: Path) -> None:
    sync_ok(valid_root)
    pk = Exercise.objects.get(slug="sum-tensors").pk
    shutil.move(valid_root / SUM, valid_root / f"{BETA}/sum-tensors")
    replace_in(valid_root, f"{BETA}/sum-tensors/exercise.toml", 'realm = "alpha"', 'realm = "beta"')

    result = sync_ok(valid_root)

    moved = Exercise.objects.get(slug="sum-tensors")
    assert (moved.pk, moved.realm.slug, moved.retired) == (pk, "beta", False)
    assert result.new_versions == ["sum-tensors"]  # the realm is part of the content hash
    assert versions_of("sum-tensors") == [1, 2]


def test_a_realm_removed_from_disk_does_not_drift(valid_root: Path) -> None:
    """Each sync parks realm orders at +1000. A realm no longer on disk must not be pushed another 1000 on
    every run: Realm.order is a PositiveSmallIntegerField, which PostgreSQL caps at 32767 (so the sync would
    crash after about 32 runs)."""
    sync_ok(valid_root)
    shutil.rmtree(valid_root / BETA)
    sync_ok(valid_root)
    orders = []
    for _ in range(3):
        sync_ok(valid_root)
        orders.append(Realm.objects.filter(slug="beta").values_list("order", flat=True).first())

    assert orders[0] == orders[1] == orders[2]
    assert orders[0] is None or orders[0] <= 32767


def test_exercise_versions_are_immutable(valid_root: Path) -> None:
    sync_ok(valid_root)
    version = ExerciseVersion.objects.get(exercise__slug="create-tensor")
    version.statement_en = "rewritten history"

    with pytest.raises(ValueError, match="immutable"):
        version.save()

    assert ExerciseVersion.objects.get(pk=version.pk).statement_en == "Create a 2×3 tensor of ones."


# --- the management command -----------------------------------------------------------------------------


def run_command(**options: Any) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("sync_exercises", stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()


def test_command_syncs_a_valid_tree(valid_root: Path) -> None:
    stdout, stderr = run_command(root=valid_root)

    assert "synced 2 realms" in stdout
    assert "2 new" in stdout
    assert stderr == ""
    assert Exercise.objects.count() == 2

    stdout, _ = run_command(root=valid_root)
    assert "synced 2 realms" in stdout
    assert "2 unchanged" in stdout


def test_command_accepts_the_root_as_a_string(valid_root: Path) -> None:
    """call_command passes keyword options through unconverted, so --root's type=Path does not apply."""
    stdout, _ = run_command(root=str(valid_root))

    assert "synced 2 realms" in stdout


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_command_turns_a_malformed_tree_into_clear_errors(case: Case, valid_root: Path) -> None:
    case.mutate(valid_root)
    stdout, stderr = StringIO(), StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("sync_exercises", root=valid_root, stdout=stdout, stderr=stderr)

    errors = SyncReport.objects.get().errors
    assert f"{len(errors)} error(s)" in str(raised.value)
    assert "nothing was changed" in str(raised.value)
    lines = [line.strip() for line in stderr.getvalue().splitlines() if line.strip()]
    assert len(lines) == len(errors)
    for error in errors:
        where = f"{error['file']}: {error['field']}" if error["field"] else error["file"]
        assert f"{where}: {error['message']}" in lines
    for expected in case.expected:
        where = f"{expected.file}: {expected.field}" if expected.field else expected.file
        assert any(line.startswith(f"{where}: ") and expected.message in line for line in lines), lines
    assert "Traceback" not in stderr.getvalue()
    assert "synced" not in stdout.getvalue()
    assert Realm.objects.count() == 0


def test_command_error_lines_name_file_field_and_message(valid_root: Path) -> None:
    replace_in(valid_root, f"{CREATE}/exercise.toml", "tier = 1", 'tier = "one"')
    (valid_root / SUM / "check.py").unlink()
    stderr = StringIO()

    with pytest.raises(CommandError, match=r"^2 error\(s\) in the exercises; nothing was changed$"):
        call_command("sync_exercises", root=valid_root, stdout=StringIO(), stderr=stderr)

    assert sorted(line.strip() for line in stderr.getvalue().splitlines()) == [
        f"{CREATE}/exercise.toml: tier: must be an integer, got 'one'",
        f"{SUM}/check.py: missing: required in every trial bundle",
    ]


# --- the repository's own exercises/ -------------------------------------------------------------------


def test_the_repository_exercises_sync_cleanly() -> None:
    result = exercises_sync(root=REPOSITORY_EXERCISES)

    assert result.errors == []
    assert result.realms == 5
    realms = list(Realm.objects.order_by("order"))
    assert [r.order for r in realms] == [1, 2, 3, 4, 5]
    assert [r.slug for r in realms] == [
        "tensors",
        "models",
        "vision-sequences",
        "transfer-deploy",
        "practice",
    ]
    for realm in realms:
        assert CJK.search(realm.name_zh), realm.name_zh
        assert not CJK.search(realm.name_en) and re.search(r"[A-Za-z]{3}", realm.name_en), realm.name_en
        assert CJK.search(realm.theme_zh) and realm.theme_en
    assert sync_ok(REPOSITORY_EXERCISES).unchanged == result.created + result.unchanged


def test_without_a_root_the_command_syncs_settings_exercises_dir(settings: Any) -> None:
    settings.EXERCISES_DIR = REPOSITORY_EXERCISES

    stdout, _ = run_command()

    assert "synced 5 realms" in stdout
