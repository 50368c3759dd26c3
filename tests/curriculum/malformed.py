"""The valid fixture curriculum, and one-defect mutations of it (the malformed cases).

Only `tests/fixtures/exercises/valid/` lives on disk. Each malformed case copies it and applies a single
mutation; the table says which errors `read_curriculum` must report for it (file relative to the exercises
folder, field or None, and a substring of the message), and nothing else.
"""

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "exercises" / "valid"

ALPHA = "01-alpha"
BETA = "02-beta"
CREATE = f"{ALPHA}/create-tensor"  # tier 1, order 1, grading auto (all defaults)
SUM = f"{ALPHA}/sum-tensors"  # tier 2, order 2, grading hybrid with a 60 + 40 rubric and [limits]

Mutation = Callable[[Path], None]


def copy_valid(destination: Path) -> Path:
    shutil.copytree(VALID, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return destination


def read(root: Path, relative: str) -> str:
    return (root / relative).read_text(encoding="utf-8")


def write(root: Path, relative: str, content: str | bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def replace_in(root: Path, relative: str, old: str, new: str) -> None:
    """Replace the one occurrence of `old`; fails loudly if the fixture no longer contains it."""
    text = read(root, relative)
    assert text.count(old) == 1, f"{relative} should contain {old!r} exactly once"
    write(root, relative, text.replace(old, new))


# --- mutation builders ----------------------------------------------------------------------------------


def edit(relative: str, old: str, new: str) -> Mutation:
    return lambda root: replace_in(root, relative, old, new)


def overwrite(relative: str, content: str | bytes) -> Mutation:
    return lambda root: write(root, relative, content)


def prepend(relative: str, text: str) -> Mutation:
    return lambda root: write(root, relative, text + read(root, relative))


def append(relative: str, text: str) -> Mutation:
    return lambda root: write(root, relative, read(root, relative) + text)


def delete(relative: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / relative
        assert path.exists(), f"{relative} should exist in the valid fixture"
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()

    return mutate


def rename(relative: str, new_relative: str) -> Mutation:
    def mutate(root: Path) -> None:
        (root / relative).rename(root / new_relative)

    return mutate


def copy_trial(source: str, destination: str, *, realm: str) -> Mutation:
    """A second copy of a trial bundle, moved to another realm (so only its slug clashes)."""

    def mutate(root: Path) -> None:
        shutil.copytree(root / source, root / destination)
        replace_in(root, f"{destination}/exercise.toml", 'realm = "alpha"', f'realm = "{realm}"')

    return mutate


def swap_wrong_solution_for_notes(root: Path) -> None:
    delete(f"{SUM}/wrong/subtracts.py")(root)
    write(root, f"{SUM}/wrong/notes.txt", "subtracts instead of adding\n")


GAMMA_REALM = """slug = "gamma"
order = 1

[name]
zh = "三境"
en = "Third Realm"

[theme]
zh = "主题"
en = "Theme"
"""


# --- the table ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    file: str
    field: str | None
    message: str


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Mutation
    expected: tuple[Expected, ...]

    def __str__(self) -> str:
        return self.name


def case(name: str, mutate: Mutation, file: str, field: str | None, message: str) -> Case:
    return Case(name, mutate, (Expected(file, field, message),))


# fmt: off
CASES: list[Case] = [
    case(
        "missing_required_file",
        delete(f"{CREATE}/check.py"),
        f"{CREATE}/check.py", None, "missing: required in every trial bundle",
    ),
    case(
        "missing_reference_solution",
        delete(f"{CREATE}/reference"),
        f"{CREATE}/reference", None, "missing: a folder with at least one .py solution",
    ),
    case(
        "wrong_folder_without_python",
        swap_wrong_solution_for_notes,
        f"{SUM}/wrong", None, "at least one .py solution",
    ),
    case(
        "bad_toml_syntax",
        edit(f"{CREATE}/exercise.toml", "tier = 1", "tier = = 1"),
        f"{CREATE}/exercise.toml", None, "invalid TOML",
    ),
    case(
        "wrong_type",
        edit(f"{CREATE}/exercise.toml", "tier = 1", 'tier = "one"'),
        f"{CREATE}/exercise.toml", "tier", "must be an integer, got 'one'",
    ),
    case(
        "boolean_is_not_an_integer",
        edit(f"{CREATE}/exercise.toml", "order = 1", "order = true"),
        f"{CREATE}/exercise.toml", "order", "must be an integer, got True",
    ),
    case(
        "tier_out_of_range",
        edit(f"{CREATE}/exercise.toml", "tier = 1", "tier = 6"),
        f"{CREATE}/exercise.toml", "tier", "must be between 1 and 5, got 6",
    ),
    case(
        "points_out_of_range",
        edit(f"{CREATE}/exercise.toml", "points = 100", "points = 0"),
        f"{CREATE}/exercise.toml", "points", "must be between 1 and 1000, got 0",
    ),
    case(
        "unknown_grading_mode",
        edit(f"{SUM}/exercise.toml", 'grading = "hybrid"', 'grading = "robot"'),
        f"{SUM}/exercise.toml", "grading", "must be one of auto, hybrid, manual, got 'robot'",
    ),
    case(
        "unknown_device",
        edit(f"{SUM}/exercise.toml", 'device = "cpu"', 'device = "tpu"'),
        f"{SUM}/exercise.toml", "device", "must be one of cpu, gpu, got 'tpu'",
    ),
    case(
        "unknown_key",
        prepend(f"{CREATE}/exercise.toml", 'titel = "Create a tensor"\n'),
        f"{CREATE}/exercise.toml", "titel", "unknown key",
    ),
    Case(
        "misspelled_title_table",
        edit(f"{CREATE}/exercise.toml", "[title]", "[titel]"),
        (
            Expected(f"{CREATE}/exercise.toml", "titel", "unknown key"),
            Expected(f"{CREATE}/exercise.toml", "title", "required: a table with zh and en strings"),
        ),
    ),
    case(
        "missing_title_en",
        edit(f"{CREATE}/exercise.toml", 'en = "Create a tensor"\n', ""),
        f"{CREATE}/exercise.toml", "title.en", "required: a non-empty string",
    ),
    case(
        "unknown_title_language",
        append(f"{CREATE}/exercise.toml", 'fr = "Créer un tenseur"\n'),
        f"{CREATE}/exercise.toml", "title.fr", "unknown language",
    ),
    case(
        "bad_slug",
        edit(f"{CREATE}/exercise.toml", 'slug = "create-tensor"', 'slug = "Create_Tensor"'),
        f"{CREATE}/exercise.toml", "slug", "must be a slug of lowercase letters, digits and hyphens",
    ),
    case(
        "published_not_boolean",
        prepend(f"{CREATE}/exercise.toml", 'published = "yes"\n'),
        f"{CREATE}/exercise.toml", "published", "must be true or false, got 'yes'",
    ),
    case(
        "realm_mismatch",
        edit(f"{CREATE}/exercise.toml", 'realm = "alpha"', 'realm = "beta"'),
        f"{CREATE}/exercise.toml", "realm", "is 'beta' but the trial sits in realm 'alpha'",
    ),
    case(
        "duplicate_slug",
        copy_trial(CREATE, f"{BETA}/create-tensor-again", realm="beta"),
        f"{BETA}/create-tensor-again/exercise.toml", "slug",
        f"trial slug 'create-tensor' is also used by {CREATE}/exercise.toml",
    ),
    case(
        "duplicate_tier_in_realm",
        edit(f"{SUM}/exercise.toml", "tier = 2", "tier = 1"),
        f"{SUM}/exercise.toml", "tier", f"tier 1 is also used by {CREATE}/exercise.toml",
    ),
    case(
        "duplicate_order_in_realm",
        edit(f"{SUM}/exercise.toml", "order = 2", "order = 1"),
        f"{SUM}/exercise.toml", "order", f"order 1 is also used by {CREATE}/exercise.toml",
    ),
    case(
        "hint_count_mismatch",
        append(f"{SUM}/hints.en.md", "---\nA third hint only in English.\n"),
        f"{SUM}/hints.en.md", None, "has 3 hints but hints.zh.md has 2",
    ),
    case(
        "empty_hint",
        overwrite(f"{SUM}/hints.zh.md", "用 + 号。\n---\n   \n"),
        f"{SUM}/hints.zh.md", None, "every hint must be non-empty",
    ),
    case(
        "empty_statement",
        overwrite(f"{CREATE}/statement.zh.md", "  \n\n"),
        f"{CREATE}/statement.zh.md", None, "empty",
    ),
    case(
        "hybrid_without_rubric",
        edit(f"{CREATE}/exercise.toml", "points = 100\n", 'points = 100\ngrading = "hybrid"\n'),
        f"{CREATE}/exercise.toml", "rubric", "required for grading = 'hybrid'",
    ),
    case(
        "rubric_points_mismatch",
        edit(f"{SUM}/exercise.toml", "points = 40", "points = 30"),
        f"{SUM}/exercise.toml", "rubric", "criteria add up to 90 points but the trial is worth 100",
    ),
    case(
        "duplicate_rubric_key",
        edit(f"{SUM}/exercise.toml", 'key = "clear"', 'key = "correct"'),
        f"{SUM}/exercise.toml", "rubric[1].key", "duplicate criterion 'correct'",
    ),
    case(
        "rubric_criterion_without_text",
        edit(f"{SUM}/exercise.toml", 'en = "The code is clear"\n', ""),
        f"{SUM}/exercise.toml", "rubric[1].en", "required: what the criterion asks",
    ),
    case(
        "python_syntax_error_in_starter",
        overwrite(f"{CREATE}/starter.py", "def make(:\n    pass\n"),
        f"{CREATE}/starter.py", None, "Python syntax error on line 1",
    ),
    case(
        "python_syntax_error_in_wrong_solution",
        overwrite(f"{SUM}/wrong/subtracts.py", "def add(a, b):\n    return a -\n"),
        f"{SUM}/wrong/subtracts.py", None, "Python syntax error on line 2",
    ),
    case(
        "missing_realm_toml",
        delete(f"{ALPHA}/realm.toml"),
        f"{ALPHA}/realm.toml", None, "missing: every realm folder needs a realm.toml",
    ),
    case(
        "bad_realm_toml_syntax",
        prepend(f"{BETA}/realm.toml", "order = 3\n"),  # `order` twice
        f"{BETA}/realm.toml", None, "invalid TOML",
    ),
    case(
        "realm_missing_name_en",
        edit(f"{BETA}/realm.toml", 'en = "Second Realm · Models"\n', ""),
        f"{BETA}/realm.toml", "name.en", "required: a non-empty string",
    ),
    case(
        "realm_unknown_key",
        prepend(f"{BETA}/realm.toml", 'colour = "blue"\n'),
        f"{BETA}/realm.toml", "colour", "unknown key",
    ),
    case(
        "realm_folder_name_mismatch",
        rename(BETA, "02-gamma"),
        "02-gamma/realm.toml", "slug", "folder '02-gamma' must be named 02-beta",
    ),
    case(
        "duplicate_realm_order",
        overwrite("01-gamma/realm.toml", GAMMA_REALM),
        "01-gamma/realm.toml", "order", f"realm order 1 is also used by {ALPHA}/realm.toml",
    ),
    case(
        # Exactly one error for the one missing file (not the same file reported twice).
        "folder_without_exercise_toml",
        delete(f"{CREATE}/exercise.toml"),
        f"{CREATE}/exercise.toml", None, "missing",
    ),
    case(
        "unknown_limit",
        edit(f"{SUM}/exercise.toml", "[limits]\n", "[limits]\nfoo_seconds = 5\n"),
        f"{SUM}/exercise.toml", "limits.foo_seconds", "unknown limit",
    ),
    case(
        "limit_out_of_range",
        edit(f"{SUM}/exercise.toml", "wall_seconds = 30", "wall_seconds = 0"),
        f"{SUM}/exercise.toml", "limits.wall_seconds", "must be between 1 and 600, got 0",
    ),
    case(
        "limits_not_a_table",
        prepend(f"{CREATE}/exercise.toml", "limits = 5\n"),
        f"{CREATE}/exercise.toml", "limits", "must be a table",
    ),
    case(
        "not_utf8_statement",
        overwrite(f"{CREATE}/statement.en.md", "Create a tensor of ones.\n".encode("utf-16")),
        f"{CREATE}/statement.en.md", None, "not UTF-8 text",
    ),
    case(
        "not_utf8_check",
        overwrite(f"{CREATE}/check.py", "# 检查\n".encode("gb18030")),
        f"{CREATE}/check.py", None, "not UTF-8 text",
    ),
]
# fmt: on

CASE_IDS = [c.name for c in CASES]


def error_matches(error: object, expected: Expected) -> bool:
    return (
        getattr(error, "file", None) == expected.file
        and getattr(error, "field", None) == expected.field
        and expected.message in str(getattr(error, "message", ""))
    )
