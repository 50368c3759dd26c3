"""The write path for the curriculum: syncing `exercises/` into the database."""

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from huashen.curriculum import signals
from huashen.curriculum.bundles import BundleError, ExerciseSpec, RealmSpec, read_curriculum
from huashen.curriculum.models import Exercise, ExerciseVersion, Realm, SyncReport
from huashen.errors import DomainError

PARKED = 1000


@dataclass
class SyncResult:
    errors: list[BundleError] = field(default_factory=list)
    realms: int = 0
    created: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    # Edited in the admin (same files, other texts than exercises/): the edit was kept ...
    edited_in_admin: list[str] = field(default_factory=list)
    # ... or, where the sync was asked to, replaced by the texts in exercises/ (also in new_versions).
    replaced: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict[str, object]:
        return {
            "realms": self.realms,
            "created": self.created,
            "new_versions": self.new_versions,
            "unchanged": self.unchanged,
            "retired": self.retired,
            "edited_in_admin": self.edited_in_admin,
            "replaced": self.replaced,
        }


def exercises_sync(*, root: Path | None = None, replace: Collection[str] = ()) -> SyncResult:
    """Bring the database in line with the bundles under `root` (default: settings.EXERCISES_DIR).

    A trial whose live version was edited in the admin (same files, other statements or hints) is not
    "unchanged": it is listed in `edited_in_admin` and the edit is kept, unless its slug is in `replace`,
    when the texts in exercises/ become a new version (listed in `replaced`).

    All or nothing: with any validation error nothing changes and every error is returned. Idempotent: a
    trial gets a new ExerciseVersion only when its content hash changed. Trials that vanished from disk are
    hidden (never deleted: submissions pin their versions). Every run is recorded as a SyncReport.
    """
    curriculum = read_curriculum(root or settings.EXERCISES_DIR)
    result = SyncResult(errors=curriculum.errors)
    if result.ok:
        with transaction.atomic():
            _apply(curriculum.realms, curriculum.exercises, result, set(replace))
    SyncReport.objects.create(
        ok=result.ok,
        errors=[{"file": e.file, "field": e.field, "message": e.message} for e in result.errors],
        summary=result.summary(),
    )
    if result.ok and (result.created or result.new_versions):
        signals.trial_versions_created.send(sender=Exercise, slugs=[*result.created, *result.new_versions])
    return result


def _differs_from_files(version: ExerciseVersion, spec: ExerciseSpec) -> bool:
    return version.source == "admin" and (
        version.statement_zh != spec.statement["zh"]
        or version.statement_en != spec.statement["en"]
        or version.hints != spec.hints
    )


def _apply(
    realm_specs: list[RealmSpec], exercise_specs: list[ExerciseSpec], result: SyncResult, replace: set[str]
) -> None:
    # Orders and tiers are unique: move existing rows out of the way first, so a reorder or a swap of two
    # trials never collides midway through the transaction.
    Realm.objects.filter(retired=False).update(order=F("order") + PARKED)
    realms = {}
    for realm_spec in realm_specs:
        realm, _created = Realm.objects.update_or_create(
            slug=realm_spec.slug,
            defaults={
                "order": realm_spec.order,
                "name_zh": realm_spec.name["zh"],
                "name_en": realm_spec.name["en"],
                "theme_zh": realm_spec.theme["zh"],
                "theme_en": realm_spec.theme["en"],
                "summary_zh": realm_spec.summary["zh"],
                "summary_en": realm_spec.summary["en"],
                "retired": False,
            },
        )
        realms[realm_spec.slug] = realm
    result.realms = len(realms)
    # A realm that vanished from disk keeps its row (its trials' history points at it) but is retired.
    Realm.objects.exclude(slug__in=realms).filter(retired=False).update(
        retired=True, order=F("order") - PARKED
    )
    Exercise.objects.filter(retired=False).update(order=F("order") + PARKED, tier=F("tier") + PARKED)
    seen = set()
    for spec in exercise_specs:
        seen.add(spec.slug)
        exercise = Exercise.objects.filter(slug=spec.slug).select_related("current_version").first()
        if exercise is None:
            exercise = Exercise.objects.create(
                slug=spec.slug,
                realm=realms[spec.realm],
                tier=spec.tier,
                order=spec.order,
                is_published=spec.published,
            )
            result.created.append(spec.slug)
        else:
            exercise.realm, exercise.tier, exercise.order = realms[spec.realm], spec.tier, spec.order
            if exercise.retired:  # back on disk: it returns hidden, for an admin to publish again
                exercise.retired = False
            exercise.save(update_fields=["realm", "tier", "order", "retired"])
        current = exercise.current_version
        if current is not None and current.content_hash == spec.content_hash:
            if not _differs_from_files(current, spec):
                if spec.slug not in result.created:
                    result.unchanged.append(spec.slug)
                continue
            if spec.slug not in replace:
                result.edited_in_admin.append(spec.slug)
                continue
            result.replaced.append(spec.slug)
        latest = ExerciseVersion.objects.filter(exercise=exercise).order_by("-number").first()
        version = _create_version(exercise, spec, number=(latest.number + 1) if latest else 1)
        exercise.current_version = version
        exercise.save(update_fields=["current_version"])
        if spec.slug not in result.created:
            result.new_versions.append(spec.slug)
    # A trial that vanished from disk keeps its rows (submissions pin its versions) but is retired: hidden,
    # and out of the one-trial-per-tier rule so a new trial can take its place.
    vanished = Exercise.objects.exclude(slug__in=seen).filter(retired=False)
    result.retired = sorted(vanished.values_list("slug", flat=True))
    vanished.update(retired=True, is_published=False, order=F("order") - PARKED, tier=F("tier") - PARKED)


def _create_version(exercise: Exercise, spec: ExerciseSpec, *, number: int) -> ExerciseVersion:
    return ExerciseVersion.objects.create(
        exercise=exercise,
        number=number,
        content_hash=spec.content_hash,
        title_zh=spec.title["zh"],
        title_en=spec.title["en"],
        points=spec.points,
        grading=spec.grading,
        device=spec.device,
        limits=spec.limits,
        rubric=spec.rubric,
        statement_zh=spec.statement["zh"],
        statement_en=spec.statement["en"],
        hints=spec.hints,
        starter_code=spec.starter_code,
        files=spec.files,
        source="sync",
    )


def exercise_content_check(*, statement_zh: str, statement_en: str, hints: object) -> list[dict[str, str]]:
    """The edited texts of a trial as a version stores them, or a DomainError naming the field."""
    for field_name, text in (("statement_zh", statement_zh), ("statement_en", statement_en)):
        if not text.strip():
            raise DomainError("required", _("说明不能为空。"), field_name)
    if not isinstance(hints, list) or not all(
        isinstance(hint, dict)
        and set(hint) == {"zh", "en"}
        and all(isinstance(text, str) and text.strip() for text in hint.values())
        for hint in hints
    ):
        raise DomainError("invalid", _('提示必须是 [{"zh": "…", "en": "…"}, …] 形式的列表。'), "hints")
    return [{"zh": hint["zh"].strip(), "en": hint["en"].strip()} for hint in hints]


@transaction.atomic
def exercise_content_edit(
    *, exercise: Exercise, statement_zh: str, statement_en: str, hints: object
) -> ExerciseVersion:
    """A new current version of `exercise` with edited statements and hints; the old one stays as it was.

    Everything else is copied from the current version, the content hash too: it names the bundle's files,
    which the grader checks and which a change of the texts students read does not touch. So the next sync
    leaves the edit in place until the files on disk change, and then the files win with a newer version.
    """
    clean_hints = exercise_content_check(statement_zh=statement_zh, statement_en=statement_en, hints=hints)
    locked = Exercise.objects.select_for_update().get(pk=exercise.pk)
    version_id = locked.current_version_id
    current = ExerciseVersion.objects.filter(pk=version_id).first() if version_id is not None else None
    if current is None:
        raise DomainError("not_found", _("这个试炼还没有任何版本。"), status=404)
    latest = (
        ExerciseVersion.objects.filter(exercise=locked).order_by("-number").values_list("number", flat=True)
    )
    version = ExerciseVersion.objects.create(
        exercise=locked,
        number=(latest.first() or 0) + 1,
        content_hash=current.content_hash,
        title_zh=current.title_zh,
        title_en=current.title_en,
        points=current.points,
        grading=current.grading,
        device=current.device,
        limits=current.limits,
        rubric=current.rubric,
        statement_zh=statement_zh.strip(),
        statement_en=statement_en.strip(),
        hints=clean_hints,
        starter_code=current.starter_code,
        files=current.files,
        source="admin",
    )
    locked.current_version = version
    locked.save(update_fields=["current_version"])
    exercise.current_version = version
    return version
