"""read_curriculum: the pure reader and validator of the trial bundles (no database)."""

import re
from pathlib import Path

import pytest

from huashen.curriculum.bundles import LIMITS, BundleError, Curriculum, read_curriculum
from tests.curriculum.malformed import (
    ALPHA,
    CASE_IDS,
    CASES,
    CREATE,
    SUM,
    VALID,
    Case,
    error_matches,
    write,
)


def read_safely(root: Path) -> Curriculum:
    """read_curriculum must report bad content as BundleErrors: any exception here is a test failure."""
    try:
        return read_curriculum(root)
    except Exception as error:  # the point is that nothing escapes
        pytest.fail(f"read_curriculum raised {type(error).__name__}: {error}")


def describe(errors: list[BundleError]) -> str:
    return "\n".join(f"  {e.file!r} {e.field!r} {e.message!r}" for e in errors) or "  (none)"


# --- the valid curriculum -------------------------------------------------------------------------------


def test_the_fixture_on_disk_is_valid() -> None:
    curriculum = read_safely(VALID)

    assert curriculum.errors == []
    assert [(r.slug, r.order) for r in curriculum.realms] == [("alpha", 1), ("beta", 2)]
    assert [(e.slug, e.realm, e.tier, e.order) for e in curriculum.exercises] == [
        ("create-tensor", "alpha", 1, 1),
        ("sum-tensors", "alpha", 2, 2),
    ]


def test_realms_are_read_bilingually(valid_root: Path) -> None:
    alpha, beta = read_safely(valid_root).realms

    assert alpha.name == {"zh": "初境 · 张量", "en": "First Realm · Tensors"}
    assert alpha.theme == {"zh": "张量", "en": "Tensors"}
    assert alpha.summary == {"zh": "创建并相加张量。", "en": "Create and add tensors."}
    assert alpha.folder == valid_root / ALPHA
    # summary is optional
    assert beta.summary == {"zh": "", "en": ""}


def test_defaults_fill_in_what_exercise_toml_leaves_out(valid_root: Path) -> None:
    create = read_safely(valid_root).exercises[0]

    assert create.points == 100
    assert create.grading == "auto"
    assert create.device == "cpu"
    assert create.published is True
    assert create.rubric == []
    assert create.limits == {name: default for name, (default, _low, _high) in LIMITS.items()}


def test_trial_content_is_read(valid_root: Path) -> None:
    create, total = read_safely(valid_root).exercises

    assert create.title == {"zh": "造一个张量", "en": "Create a tensor"}
    assert create.statement == {"zh": "造一个全为 1 的 2×3 张量。", "en": "Create a 2×3 tensor of ones."}
    assert create.hints == [
        {"zh": "用 torch.ones。", "en": "Use torch.ones."},
        {"zh": "形状是 (2, 3)。", "en": "The shape is (2, 3)."},
    ]
    assert create.starter_code == "def make():\n    raise NotImplementedError\n"
    assert create.folder == valid_root / CREATE

    assert total.grading == "hybrid"
    assert total.rubric == [
        {"key": "correct", "points": 60, "zh": "结果正确", "en": "The result is correct"},
        {"key": "clear", "points": 40, "zh": "代码清晰", "en": "The code is clear"},
    ]
    assert total.limits["wall_seconds"] == 30
    assert total.limits["memory_mb"] == 512
    assert total.limits["pids"] == LIMITS["pids"][0]


def test_files_list_every_file_of_the_bundle_with_its_hash(valid_root: Path) -> None:
    create = read_safely(valid_root).exercises[0]

    assert sorted(create.files) == [
        "check.py",
        "exercise.toml",
        "hints.en.md",
        "hints.zh.md",
        "probe.py",
        "reference/solution.py",
        "starter.py",
        "statement.en.md",
        "statement.zh.md",
        "wrong/wrong_shape.py",
    ]
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in create.files.values())
    assert re.fullmatch(r"[0-9a-f]{64}", create.content_hash)


def test_content_hash_is_stable_and_follows_the_content(valid_root: Path) -> None:
    first = {e.slug: e.content_hash for e in read_safely(valid_root).exercises}
    assert {e.slug: e.content_hash for e in read_safely(valid_root).exercises} == first
    assert first["create-tensor"] != first["sum-tensors"]

    write(valid_root, f"{CREATE}/statement.en.md", "Create a 2×3 tensor of ones, please.\n")
    second = {e.slug: e.content_hash for e in read_safely(valid_root).exercises}
    assert second["create-tensor"] != first["create-tensor"]
    assert second["sum-tensors"] == first["sum-tensors"]

    write(valid_root, f"{SUM}/data/numbers.txt", "1 2 3\n")  # a data file is content too
    third = {e.slug: e.content_hash for e in read_safely(valid_root).exercises}
    assert third["sum-tensors"] != first["sum-tensors"]


def test_caches_and_hidden_files_do_not_change_the_hash(valid_root: Path) -> None:
    before = {e.slug: (e.content_hash, e.files) for e in read_safely(valid_root).exercises}

    write(valid_root, f"{CREATE}/__pycache__/starter.cpython-311.pyc", b"\x00cache")
    write(valid_root, f"{CREATE}/.DS_Store", b"\x00finder")
    write(valid_root, f"{CREATE}/reference/solution.pyc", b"\x00cache")
    write(valid_root, f"{SUM}/.ipynb_checkpoints/starter.py", "scratch\n")
    curriculum = read_safely(valid_root)

    assert curriculum.errors == []
    assert {e.slug: (e.content_hash, e.files) for e in curriculum.exercises} == before


def test_folders_outside_the_realm_pattern_are_ignored(valid_root: Path) -> None:
    write(valid_root, "README.md", "# exercises\n")
    write(valid_root, "_shared/kit.py", "X = 1\n")
    write(valid_root, "__pycache__/x.pyc", b"\x00")
    write(valid_root, f"{ALPHA}/_drafts/idea.md", "later\n")
    curriculum = read_safely(valid_root)

    assert curriculum.errors == []
    assert len(curriculum.realms) == 2
    assert len(curriculum.exercises) == 2


# --- the malformed cases --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_each_malformed_bundle_is_exactly_the_expected_error(case: Case, valid_root: Path) -> None:
    case.mutate(valid_root)
    curriculum = read_safely(valid_root)

    unmatched = list(curriculum.errors)
    for expected in case.expected:
        match = next((e for e in unmatched if error_matches(e, expected)), None)
        assert match is not None, f"expected {expected} among the errors:\n{describe(curriculum.errors)}"
        unmatched.remove(match)
    assert unmatched == [], f"unexpected extra errors:\n{describe(unmatched)}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_errors_are_plain_data_with_relative_paths(case: Case, valid_root: Path) -> None:
    case.mutate(valid_root)
    errors = read_safely(valid_root).errors

    assert errors
    for error in errors:
        assert isinstance(error, BundleError)
        assert not Path(error.file).is_absolute(), error
        assert str(valid_root) not in str(error), error
        assert "Traceback" not in error.message
        assert error.message.strip()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_broken_trial_is_left_out_but_the_rest_is_still_read(case: Case, valid_root: Path) -> None:
    case.mutate(valid_root)
    curriculum = read_safely(valid_root)

    broken_trials = {e.file.split("/")[1] for e in curriculum.errors if e.file.count("/") >= 2}
    read_trials = {e.folder.name for e in curriculum.exercises}
    duplicate = any(
        e.field in ("slug", "tier", "order") and "also used by" in e.message for e in curriculum.errors
    )
    if not duplicate:  # a clash is reported after both trials were read
        assert not broken_trials & read_trials


def test_every_problem_is_reported_in_one_run(valid_root: Path) -> None:
    by_name = {case.name: case for case in CASES}
    chosen = ["missing_required_file", "rubric_points_mismatch", "realm_folder_name_mismatch"]
    for name in chosen:
        by_name[name].mutate(valid_root)
    errors = read_safely(valid_root).errors

    for name in chosen:
        for expected in by_name[name].expected:
            assert any(error_matches(e, expected) for e in errors), f"{name}: {expected}\n{describe(errors)}"
    assert len(errors) == 3


def test_several_problems_in_one_file_are_all_reported(valid_root: Path) -> None:
    write(
        valid_root,
        f"{CREATE}/exercise.toml",
        'slug = "create-tensor"\nrealm = "alpha"\ntier = 9\norder = "first"\ngrading = "robot"\n',
    )
    errors = read_safely(valid_root).errors

    assert {(e.file, e.field) for e in errors} == {
        (f"{CREATE}/exercise.toml", "tier"),
        (f"{CREATE}/exercise.toml", "order"),
        (f"{CREATE}/exercise.toml", "grading"),
        (f"{CREATE}/exercise.toml", "title"),
    }


def test_a_missing_exercises_folder_is_an_error(tmp_path: Path) -> None:
    errors = read_safely(tmp_path / "nowhere").errors

    assert len(errors) == 1
    assert "does not exist" in errors[0].message


def test_an_empty_exercises_folder_is_an_error(tmp_path: Path) -> None:
    errors = read_safely(tmp_path).errors

    assert errors == [BundleError(".", None, "no realm folders (named like 01-tensors) found")]


def test_bundle_error_reads_as_file_field_message() -> None:
    assert str(BundleError("01-a/t/exercise.toml", "tier", "must be an integer")) == (
        "01-a/t/exercise.toml: tier: must be an integer"
    )
    assert str(BundleError("01-a/t/check.py", None, "missing")) == "01-a/t/check.py: missing"
