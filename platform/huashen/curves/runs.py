"""The reference solution's curve, recorded automatically: a sync that gives a trial that trains a new
version queues a run of its reference solution, and the run's metric series is stored with that version
when it passes.

The run is an ordinary submission of the reference account (`REFERENCE_ACCOUNT`: inactive, no password,
in no cohort), pinned to the new version, with the purpose of a re-run (never counted) and a regrade's
low priority, so it waits behind every student's work. It goes to the distributed graders only: in the
embedded shape (`make run`) the one in-process grader would make a newcomer's first Submit wait behind
the reference trainings, and the sync runs in its own short-lived process there, so the curve is recorded
by `manage.py record_reference_curve` or the golden suite instead.

A trial "trains" when its reference solution or probe reports metrics through the kit
(`exercises.kit.report`); a run that reports none stores nothing.
"""

import functools
import hashlib
import logging
import tomllib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from huashen.accounts.models import User
from huashen.curriculum.models import Exercise, ExerciseVersion
from huashen.curves.services import reference_curve_record
from huashen.errors import DomainError
from huashen.grading import dispatch
from huashen.grading.models import Dispatch, Mode, Purpose, Submission, Verdict
from huashen.grading.results import grading_deadline

logger = logging.getLogger(__name__)

REFERENCE_ACCOUNT = "huashen-reference"
REFERENCE_SOLUTION = "reference/solution.py"
REPORTS_METRICS = "exercises.kit.report"


def reference_account() -> User:
    """The account reference runs belong to (made on first use; it cannot sign in)."""
    account, _created = User.objects.get_or_create(
        username=REFERENCE_ACCOUNT, defaults={"is_active": False, "password": make_password(None)}
    )
    return account


def _bundle_folder(slug: str) -> Path | None:
    for toml in sorted(Path(settings.EXERCISES_DIR).glob("*/*/exercise.toml")):
        try:
            if tomllib.loads(toml.read_text(encoding="utf-8")).get("slug") == slug:
                return toml.parent
        except (OSError, ValueError):
            continue
    return None


def reference_code_if_it_trains(version: ExerciseVersion, slug: str) -> str | None:
    """The version's reference solution when the trial reports metrics, as the version pinned it on disk
    (the file's sha256 must be the version's); None otherwise."""
    folder = _bundle_folder(slug)
    digest = version.files.get(REFERENCE_SOLUTION) if isinstance(version.files, dict) else None
    if folder is None or digest is None:
        return None
    try:
        raw = (folder / REFERENCE_SOLUTION).read_bytes()
        probe = (folder / "probe.py").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if hashlib.sha256(raw).hexdigest() != digest:
        return None
    code = raw.decode("utf-8", "replace")
    return code if REPORTS_METRICS in code or REPORTS_METRICS in probe else None


def reference_runs_queue(*, slugs: list[str]) -> list[int]:
    """Queue a reference run for each of these trials' current versions that trains; the submissions' ids.
    Nothing in the embedded shape, or when REFERENCE_RUNS_AT_SYNC is off."""
    if not settings.REFERENCE_RUNS_AT_SYNC:
        return []
    if settings.HUASHEN_EXECUTOR != "celery":
        logger.info(
            "reference runs are not queued by an embedded sync; record_reference_curve records curves"
        )
        return []
    queued = []
    exercises = Exercise.objects.filter(slug__in=slugs).select_related("current_version")
    for exercise in exercises:
        version = exercise.current_version
        if version is None:
            continue
        code = reference_code_if_it_trains(version, exercise.slug)
        if code is None:
            continue
        with transaction.atomic():
            submission = Submission.objects.create(
                user=reference_account(),
                exercise=exercise,
                version=version,
                code=code,
                mode=Mode.SUBMIT,
                purpose=Purpose.RERUN,
                deadline=grading_deadline(
                    start=timezone.now(), wall_seconds=int(version.limits.get("wall_seconds", 60))
                ),
            )
            Dispatch.objects.create(submission=submission, priority=dispatch.REGRADE_PRIORITY)
            transaction.on_commit(functools.partial(dispatch.dispatch_send, submission_id=submission.pk))
        logger.info("reference run %s queued for %s v%s", submission.pk, exercise.slug, version.number)
        queued.append(submission.pk)
    return queued


def queue_on_sync(sender: Any, *, slugs: list[str], **kwargs: Any) -> None:
    """`trial_versions_created` receiver. A sync must never fail for a reference run: errors are logged."""
    try:
        reference_runs_queue(slugs=slugs)
    except Exception:
        logger.exception("could not queue the reference runs of %s", ", ".join(slugs))


def record_when_finished(
    sender: Any, *, submission_id: int, user_id: int, purpose: str, verdict: str, **kwargs: Any
) -> None:
    """`submission_finished` receiver: a passed reference run's metric series becomes its version's curve."""
    if purpose != Purpose.RERUN:
        return
    submission = (
        Submission.objects.select_related("exercise", "version", "user")
        .filter(pk=submission_id, user__username=REFERENCE_ACCOUNT)
        .first()
    )
    if submission is None:
        return
    if verdict != Verdict.PASSED:
        logger.warning("reference run %s of %s did not pass (%s): no curve recorded",
                       submission_id, submission.exercise.slug, verdict)  # fmt: skip
        return
    try:
        reference_curve_record(
            exercise=submission.exercise,
            log=submission.log,
            source=f"reference run #{submission_id} (sync)",
            version_id=submission.version_id,
        )
    except DomainError as error:
        logger.info("reference run %s of %s: %s", submission_id, submission.exercise.slug, error.message)
