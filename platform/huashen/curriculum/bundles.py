"""Reading and validating the trial bundles under `exercises/` (no database here).

Layout (see docs/architecture.md):

    exercises/<nn>-<realm-slug>/realm.toml
    exercises/<nn>-<realm-slug>/<trial-folder>/exercise.toml, statement.{zh,en}.md, hints.{zh,en}.md,
        starter.py, probe.py, check.py, reference/*.py, wrong/*.py, and any data files

`read_curriculum()` never raises on bad content: it returns every problem it found as a BundleError with
the file (relative to the exercises folder), the field (or None) and a message, so one run of
`sync_exercises` shows an author everything to fix.
"""

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workers.protocol import bundle_content_hash, bundle_files

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REALM_FOLDER = re.compile(r"^(\d{2})-([a-z0-9-]+)$")
REQUIRED_FILES = (
    "exercise.toml",
    "statement.zh.md",
    "statement.en.md",
    "hints.zh.md",
    "hints.en.md",
    "starter.py",
    "probe.py",
    "check.py",
)
PYTHON_FILES = ("starter.py", "probe.py", "check.py")
SOLUTION_FOLDERS = ("reference", "wrong")
GRADING_MODES = ("auto", "hybrid", "manual")
DEVICES = ("cpu", "gpu")
HINT_SEPARATOR = re.compile(r"^---\s*$", re.MULTILINE)
IGNORED_NAMES = {"__pycache__", ".DS_Store"}

# limit name → (default, minimum, maximum)
LIMITS: dict[str, tuple[int, int, int]] = {
    "wall_seconds": (60, 1, 600),
    "cpu_seconds": (120, 1, 1200),
    "memory_mb": (2048, 64, 65536),
    "pids": (64, 8, 1024),
    "output_kb": (1024, 1, 65536),
    "disk_mb": (256, 1, 16384),
    "gpu_memory_mb": (4096, 0, 196608),
}
EXERCISE_KEYS = {
    "slug", "realm", "tier", "order", "points", "grading", "device", "title", "limits", "rubric", "published",
}  # fmt: skip
REALM_KEYS = {"slug", "order", "name", "theme", "summary"}


@dataclass(frozen=True)
class BundleError:
    file: str
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


@dataclass
class RealmSpec:
    slug: str
    order: int
    name: dict[str, str]
    theme: dict[str, str]
    summary: dict[str, str]
    folder: Path


@dataclass
class ExerciseSpec:
    slug: str
    realm: str
    tier: int
    order: int
    points: int
    grading: str
    device: str
    title: dict[str, str]
    limits: dict[str, int]
    rubric: list[dict[str, Any]]
    published: bool
    statement: dict[str, str]
    hints: list[dict[str, str]]
    starter_code: str
    files: dict[str, str]
    content_hash: str
    folder: Path


@dataclass
class Curriculum:
    realms: list[RealmSpec] = field(default_factory=list)
    exercises: list[ExerciseSpec] = field(default_factory=list)
    errors: list[BundleError] = field(default_factory=list)


class _Reader:
    """Collects errors for one file while checking its fields."""

    def __init__(self, root: Path, path: Path, errors: list[BundleError]) -> None:
        self.file = path.relative_to(root).as_posix()
        self.errors = errors

    def error(self, field_name: str | None, message: str) -> None:
        self.errors.append(BundleError(self.file, field_name, message))

    def load_toml(self, path: Path) -> dict[str, Any] | None:
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            self.error(None, "not UTF-8 text")
        except tomllib.TOMLDecodeError as error:
            self.error(None, f"invalid TOML: {error}")
        return None

    def unknown_keys(self, data: dict[str, Any], allowed: set[str]) -> None:
        for key in sorted(set(data) - allowed):
            self.error(key, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def slug(self, data: dict[str, Any], key: str) -> str | None:
        value = data.get(key)
        if value is None:
            self.error(key, "required")
        elif not isinstance(value, str) or not SLUG.match(value):
            self.error(key, f"must be a slug of lowercase letters, digits and hyphens, got {value!r}")
        else:
            return value
        return None

    def integer(
        self,
        data: dict[str, Any],
        key: str,
        low: int,
        high: int,
        default: int | None = None,
        *,
        prefix: str = "",
    ) -> int | None:
        value = data.get(key, default)
        name = prefix + key
        if value is None:
            self.error(name, "required")
        elif isinstance(value, bool) or not isinstance(value, int):
            self.error(name, f"must be an integer, got {value!r}")
        elif not low <= value <= high:
            self.error(name, f"must be between {low} and {high}, got {value}")
        else:
            return value
        return None

    def choice(self, data: dict[str, Any], key: str, choices: tuple[str, ...], default: str) -> str | None:
        value = data.get(key, default)
        if value not in choices:
            self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
            return None
        return str(value)

    def bilingual(self, data: dict[str, Any], key: str, *, required: bool = True) -> dict[str, str] | None:
        value = data.get(key)
        if value is None and not required:
            return {"zh": "", "en": ""}
        if not isinstance(value, dict):
            self.error(key, "required: a table with zh and en strings")
            return None
        result = {}
        for language in ("zh", "en"):
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                self.error(f"{key}.{language}", "required: a non-empty string")
                return None
            result[language] = text.strip()
        for extra in sorted(set(value) - {"zh", "en"}):
            self.error(f"{key}.{extra}", "unknown language (use zh and en)")
        return result


def read_realm(root: Path, folder: Path, errors: list[BundleError]) -> RealmSpec | None:
    path = folder / "realm.toml"
    reader = _Reader(root, path, errors)
    if not path.is_file():
        reader.error(None, "missing: every realm folder needs a realm.toml")
        return None
    data = reader.load_toml(path)
    if data is None:
        return None
    reader.unknown_keys(data, REALM_KEYS)
    slug = reader.slug(data, "slug")
    order = reader.integer(data, "order", 1, 99)
    name = reader.bilingual(data, "name")
    theme = reader.bilingual(data, "theme")
    summary = reader.bilingual(data, "summary", required=False)
    match = REALM_FOLDER.match(folder.name)
    if match and slug and order and (int(match.group(1)), match.group(2)) != (order, slug):
        reader.error("slug", f"folder {folder.name!r} must be named {order:02d}-{slug}")
    if slug is None or order is None or name is None or theme is None or summary is None:
        return None
    return RealmSpec(slug=slug, order=order, name=name, theme=theme, summary=summary, folder=folder)


def _read_text(reader: _Reader, path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        reader.error(None, "not UTF-8 text")
        return None


def _read_hints(root: Path, folder: Path, errors: list[BundleError]) -> list[dict[str, str]] | None:
    """Hints are Markdown blocks separated by lines of `---`; both languages must have the same count."""
    by_language = {}
    for language in ("zh", "en"):
        path = folder / f"hints.{language}.md"
        reader = _Reader(root, path, errors)
        text = _read_text(reader, path)
        if text is None:
            return None
        hints = [block.strip() for block in HINT_SEPARATOR.split(text)]
        if not all(hints) or not hints:
            reader.error(None, "every hint must be non-empty (hints are separated by lines of ---)")
            return None
        by_language[language] = hints
    if len(by_language["zh"]) != len(by_language["en"]):
        _Reader(root, folder / "hints.en.md", errors).error(
            None, f"has {len(by_language['en'])} hints but hints.zh.md has {len(by_language['zh'])}"
        )
        return None
    return [{"zh": zh, "en": en} for zh, en in zip(by_language["zh"], by_language["en"], strict=True)]


def _read_rubric(
    reader: _Reader, data: dict[str, Any], grading: str | None, points: int | None
) -> list[dict[str, Any]]:
    rubric = data.get("rubric", [])
    if not isinstance(rubric, list) or not all(isinstance(item, dict) for item in rubric):
        reader.error("rubric", "must be an array of tables ([[rubric]])")
        return []
    if grading in ("hybrid", "manual") and not rubric:
        reader.error("rubric", f"required for grading = {grading!r}: reviewers score by it")
    criteria = []
    keys: set[str] = set()
    for index, item in enumerate(rubric):
        key = item.get("key")
        if not isinstance(key, str) or not SLUG.match(key):
            reader.error(f"rubric[{index}].key", "required: a slug naming the criterion")
            continue
        if key in keys:
            reader.error(f"rubric[{index}].key", f"duplicate criterion {key!r}")
        keys.add(key)
        criterion_points = item.get("points")
        if (
            isinstance(criterion_points, bool)
            or not isinstance(criterion_points, int)
            or criterion_points < 1
        ):
            reader.error(f"rubric[{index}].points", "required: a positive integer")
            continue
        texts = {}
        for language in ("zh", "en"):
            text = item.get(language)
            if not isinstance(text, str) or not text.strip():
                reader.error(f"rubric[{index}].{language}", "required: what the criterion asks, non-empty")
            else:
                texts[language] = text.strip()
        if len(texts) == 2:
            criteria.append({"key": key, "points": criterion_points, **texts})
    total = sum(item["points"] for item in criteria)
    if criteria and points is not None and total != points and len(criteria) == len(rubric):
        reader.error("rubric", f"criteria add up to {total} points but the trial is worth {points}")
    return criteria


def read_exercise(
    root: Path, realm: RealmSpec | None, folder: Path, errors: list[BundleError]
) -> ExerciseSpec | None:
    before = len(errors)
    reader = _Reader(root, folder / "exercise.toml", errors)
    for name in REQUIRED_FILES:
        if not (folder / name).is_file():
            why = (
                "every folder inside a realm is a trial bundle"
                if name == "exercise.toml"
                else "every trial bundle"
            )
            _Reader(root, folder / name, errors).error(None, f"missing: required in {why}")
    for name in SOLUTION_FOLDERS:
        solutions = sorted((folder / name).glob("*.py")) if (folder / name).is_dir() else []
        if not solutions:
            _Reader(root, folder / name, errors).error(
                None, "missing: a folder with at least one .py solution"
            )
        for solution in solutions:
            _check_python(root, solution, errors)
    if len(errors) > before and not (folder / "exercise.toml").is_file():
        return None
    data = reader.load_toml(folder / "exercise.toml")
    if data is None:
        return None
    reader.unknown_keys(data, EXERCISE_KEYS)
    slug = reader.slug(data, "slug")
    realm_slug = reader.slug(data, "realm")
    if realm and realm_slug and realm_slug != realm.slug:
        reader.error("realm", f"is {realm_slug!r} but the trial sits in realm {realm.slug!r}")
    tier = reader.integer(data, "tier", 1, 5)
    order = reader.integer(data, "order", 1, 99)
    points = reader.integer(data, "points", 1, 1000, default=100)
    grading = reader.choice(data, "grading", GRADING_MODES, "auto")
    device = reader.choice(data, "device", DEVICES, "cpu")
    title = reader.bilingual(data, "title")
    published = data.get("published", True)
    if not isinstance(published, bool):
        reader.error("published", f"must be true or false, got {published!r}")
    limits = dict.fromkeys(LIMITS, 0)
    raw_limits = data.get("limits", {})
    if not isinstance(raw_limits, dict):
        reader.error("limits", "must be a table")
        raw_limits = {}
    for key in sorted(set(raw_limits) - set(LIMITS)):
        reader.error(f"limits.{key}", f"unknown limit (known: {', '.join(LIMITS)})")
    for key, (default, low, high) in LIMITS.items():
        value = reader.integer(raw_limits, key, low, high, default=default, prefix="limits.")
        if value is not None:
            limits[key] = value
    rubric = _read_rubric(reader, data, grading, points)
    statement = {}
    for language in ("zh", "en"):
        path = folder / f"statement.{language}.md"
        if path.is_file():
            text = _read_text(_Reader(root, path, errors), path)
            if text is not None and not text.strip():
                _Reader(root, path, errors).error(None, "empty: the statement teaches the trial")
            statement[language] = (text or "").strip()
    hints = (
        _read_hints(root, folder, errors)
        if all((folder / f"hints.{x}.md").is_file() for x in ("zh", "en"))
        else None
    )
    for name in PYTHON_FILES:
        if (folder / name).is_file():
            _check_python(root, folder / name, errors)
    if len(errors) > before:
        return None
    assert (
        slug
        and realm_slug
        and tier
        and order
        and points
        and grading
        and device
        and title
        and hints is not None
    )
    files = bundle_files(folder)
    return ExerciseSpec(
        slug=slug,
        realm=realm_slug,
        tier=tier,
        order=order,
        points=points,
        grading=grading,
        device=device,
        title=title,
        limits=limits,
        rubric=rubric,
        published=bool(published),
        statement=statement,
        hints=hints,
        starter_code=(folder / "starter.py").read_text(encoding="utf-8"),
        files=files,
        content_hash=bundle_content_hash(files, realm_slug),
        folder=folder,
    )


def _check_python(root: Path, path: Path, errors: list[BundleError]) -> None:
    reader = _Reader(root, path, errors)
    source = _read_text(reader, path)
    if source is None:
        return
    try:
        compile(source, str(path), "exec")
    except SyntaxError as error:
        reader.error(None, f"Python syntax error on line {error.lineno}: {error.msg}")


def read_curriculum(root: Path | str) -> Curriculum:
    """Every realm and trial under `root`, validated as a whole (unique slugs, orders and tiers)."""
    root = Path(root)
    curriculum = Curriculum()
    errors = curriculum.errors
    if not root.is_dir():
        errors.append(BundleError(str(root), None, "the exercises folder does not exist"))
        return curriculum
    realm_folders = [p for p in sorted(root.iterdir()) if p.is_dir() and REALM_FOLDER.match(p.name)]
    if not realm_folders:
        errors.append(BundleError(".", None, "no realm folders (named like 01-tensors) found"))
    realm_by_folder: dict[Path, RealmSpec] = {}
    for folder in realm_folders:
        realm = read_realm(root, folder, errors)
        if realm:
            realm_by_folder[folder] = realm
            curriculum.realms.append(realm)
        for child in sorted(folder.iterdir()):
            if not child.is_dir() or child.name in IGNORED_NAMES or child.name.startswith((".", "_")):
                continue
            exercise = read_exercise(root, realm, child, errors)
            if exercise:
                curriculum.exercises.append(exercise)
    _check_unique(root, curriculum)
    return curriculum


def _check_unique(root: Path, curriculum: Curriculum) -> None:
    def duplicates(items: list[Any], key: Any, what: str, file_of: Any, field_name: str) -> None:
        seen: dict[Any, Any] = {}
        for item in items:
            value = key(item)
            if value in seen:
                curriculum.errors.append(
                    BundleError(
                        file_of(item),
                        field_name,
                        f"{what} {value[-1] if isinstance(value, tuple) else value!r} is also used by "
                        f"{file_of(seen[value])}",
                    )
                )
            else:
                seen[value] = item

    def realm_file(realm: RealmSpec) -> str:
        return (realm.folder / "realm.toml").relative_to(root).as_posix()

    def exercise_file(exercise: ExerciseSpec) -> str:
        return (exercise.folder / "exercise.toml").relative_to(root).as_posix()

    duplicates(curriculum.realms, lambda r: r.slug, "realm slug", realm_file, "slug")
    duplicates(curriculum.realms, lambda r: r.order, "realm order", realm_file, "order")
    duplicates(curriculum.exercises, lambda e: e.slug, "trial slug", exercise_file, "slug")
    duplicates(curriculum.exercises, lambda e: (e.realm, e.order), "order", exercise_file, "order")
    duplicates(curriculum.exercises, lambda e: (e.realm, e.tier), "tier", exercise_file, "tier")
