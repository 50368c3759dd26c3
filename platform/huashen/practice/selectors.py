"""Reads about practice: drafts, revealed hints, the reference solution, activity, the queue."""

import hashlib
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from huashen.accounts.models import Role, User
from huashen.curriculum.models import Exercise, ExerciseVersion
from huashen.errors import DomainError
from huashen.grading.models import ExerciseProgress, Mode, Status, Submission
from huashen.practice.models import ActivityEvent, ActivityKind, Draft, HintReveal


def draft_get(*, user: User, exercise: Exercise) -> Draft | None:
    return Draft.objects.filter(user=user, exercise=exercise).first()


@dataclass(frozen=True)
class RevealedHint:
    index: int  # 0-based, in the bundle's order
    zh: str
    en: str
    revealed_at: datetime


def hints_revealed(*, user: User, exercise: Exercise) -> list[RevealedHint]:
    """The hints `user` revealed on the trial's current version, in order (one query)."""
    version = exercise.current_version
    hints = version.hints if version is not None else []
    reveals = HintReveal.objects.filter(user=user, exercise=exercise).order_by("index")
    return [
        RevealedHint(reveal.index, hints[reveal.index].get("zh", ""), hints[reveal.index].get("en", ""),
                     reveal.revealed_at)
        for reveal in reveals
        if reveal.index < len(hints)  # a new version may have fewer hints than were revealed
    ]  # fmt: skip


def hint_count(exercise: Exercise) -> int:
    return len(exercise.current_version.hints) if exercise.current_version is not None else 0


def latest_submission_id(*, user: User, exercise: Exercise) -> int | None:
    """The id of `user`'s newest submission of the trial: the trial page reopens where they left off."""
    return (
        Submission.objects.filter(user=user, exercise=exercise)
        .exclude(mode=Mode.TRY)  # the Try cell's runs live in the cell, not in the run view
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )


def exercise_passed_by(*, user: User, exercise: Exercise) -> bool:
    return ExerciseProgress.objects.filter(user=user, exercise=exercise, passed_at__isnull=False).exists()


# --- the reference solution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceFile:
    name: str  # e.g. "solution.py"
    code: str


def reference_for_viewer(*, user: User, exercise: Exercise) -> list[ReferenceFile]:
    """The trial's reference solutions, for a student who passed it (and for instructors and admins).

    403 before a pass. The files are read from the trial's bundle folder and served only when they are
    byte for byte the ones the current version recorded (their sha256 in `ExerciseVersion.files`): a
    bundle edited on disk but not yet synced never shows a solution to a different statement.
    """
    if user.role == Role.STUDENT and not exercise_passed_by(user=user, exercise=exercise):
        raise DomainError("reference_locked", _("通过这道试炼后才能查看参考答案。"), status=403)
    version = exercise.current_version
    files = _reference_files(exercise.slug, version) if version is not None else []
    if not files:
        raise DomainError("reference_unavailable", _("这道试炼暂时没有可查看的参考答案。"), status=404)
    return files


def _reference_files(slug: str, version: ExerciseVersion) -> list[ReferenceFile]:
    folder = _bundle_folder(Path(settings.EXERCISES_DIR), slug)
    if folder is None:
        return []
    names = sorted(name for name in version.files if name.startswith("reference/") and name.endswith(".py"))
    # solution.py first: it is the canonical answer; the others show other ways to the same result.
    names.sort(key=lambda name: name != "reference/solution.py")
    files = []
    for name in names:
        path = folder / name
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(raw).hexdigest() == version.files[name]:
            files.append(ReferenceFile(name.removeprefix("reference/"), raw.decode("utf-8", "replace")))
    return files


def _bundle_folder(root: Path, slug: str) -> Path | None:
    """The folder `exercises/<realm>/<trial>/` whose exercise.toml names `slug`."""
    for toml in sorted(root.glob("*/*/exercise.toml")):
        try:
            data = tomllib.loads(toml.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if data.get("slug") == slug:
            return toml.parent
    return None


# --- pretrained weights --------------------------------------------------------------------------------

# torchvision's ResNet-18 checkpoint and the marker `exercises.kit.weights` writes beside a stand-in.
STANDIN_MARKER = Path("hub") / "checkpoints" / "resnet18-f37072fd.pth.standin"


def uses_pretrained_weights(version: ExerciseVersion) -> bool:
    """Whether the trial loads torchvision's pretrained ResNet-18 (its statement or starter code asks for it)."""
    return any('weights="DEFAULT"' in text for text in (version.statement_en, version.starter_code))


def standin_weights_in_use() -> bool:
    """Whether this installation's weights cache holds the generated stand-in, not the ImageNet weights.

    The web process sees the cache graders bind in embedded mode and in the compose file's shared volume
    (TORCH_HOME, else <HUASHEN_VAR_DIR>/torch-home, as `manage.py fetch_weights` resolves it).
    """
    home = Path(os.environ.get("TORCH_HOME") or Path(settings.VAR_DIR) / "torch-home")
    return (home / STANDIN_MARKER).is_file()


# --- the queue -------------------------------------------------------------------------------------------


def submission_queue_ahead(*, submission: Submission) -> int | None:
    """How many queued submissions for the same kind of grader were created before this one.

    None once it left the queue. Graders take jobs roughly in order, so this is what a student waits for.
    """
    if submission.status != Status.QUEUED:
        return None
    return Submission.objects.filter(
        status=Status.QUEUED,
        version__device=submission.version.device,
        created_at__lt=submission.created_at,
    ).count()


# --- activity, for instructors' reports ------------------------------------------------------------------

# A gap longer than this between two events of one student on one trial is a break, not time on task.
IDLE_GAP_SECONDS = 10 * 60


@dataclass
class ExerciseActivity:
    """What one student did on one trial: counts per kind, first and last event, estimated time on task."""

    user_id: int
    exercise_id: int
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ActivityKind.values, 0))
    first_at: datetime | None = None
    last_at: datetime | None = None
    seconds_on_task: float = 0.0


def activity_for_users(
    *, user_ids: Iterable[int], exercise_ids: Iterable[int] | None = None
) -> dict[tuple[int, int], ExerciseActivity]:
    """Activity of these students (on these trials, or all), keyed by (user_id, exercise_id). One query.

    Time on task adds up the gaps between consecutive events that are at most IDLE_GAP_SECONDS apart.
    """
    events = ActivityEvent.objects.filter(user_id__in=list(user_ids))
    if exercise_ids is not None:
        events = events.filter(exercise_id__in=list(exercise_ids))
    rows = events.order_by("user_id", "exercise_id", "at", "pk").values_list(
        "user_id", "exercise_id", "kind", "at"
    )
    summaries: dict[tuple[int, int], ExerciseActivity] = {}
    for user_id, exercise_id, kind, at in rows.iterator(chunk_size=2000):
        summary = summaries.get((user_id, exercise_id))
        if summary is None:
            summary = summaries[(user_id, exercise_id)] = ExerciseActivity(user_id, exercise_id, first_at=at)
        if summary.last_at is not None:
            gap = (at - summary.last_at).total_seconds()
            if gap <= IDLE_GAP_SECONDS:
                summary.seconds_on_task += gap
        summary.counts[kind] = summary.counts.get(kind, 0) + 1
        summary.last_at = at
    return summaries
