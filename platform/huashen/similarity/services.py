"""The write path of similar-code detection: fingerprints, comparisons and instructors' decisions.

A Submit (mode submit, purpose attempt) is fingerprinted once (`fingerprint_store`); the incremental
path (`submission_compare`, the platform queue's low-priority task) compares one new fingerprint with
those of the students who share a cohort with its author, never the existing pairs again; a scan
(`cohort_scan`) compares a cohort's current Submits of one trial all against all, for submissions made
before this existed or after the settings changed. Pairs are stored from `STORE_AT_LEAST`; a pair keeps
its decision when it is compared again.
"""

import functools
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from huashen.accounts.models import Cohort, User
from huashen.curriculum.models import Exercise, ExerciseVersion
from huashen.errors import DomainError
from huashen.grading.models import Mode, Purpose, Submission, Verdict
from huashen.similarity import winnowing
from huashen.similarity.models import CodeFingerprint, Decision, SimilarPair

STORE_AT_LEAST = 0.3


@functools.lru_cache(maxsize=64)
def _boilerplate(starter: str, texts: tuple[str, ...]) -> frozenset[int]:
    return winnowing.boilerplate_hashes(winnowing.boilerplate_code(starter=starter, texts=list(texts)))


def version_boilerplate(version: ExerciseVersion) -> frozenset[int]:
    """The hashes of a version's starter code and of the code blocks of its statements and hints.

    Cached per process by the texts themselves, so a scan of one version computes them once."""
    texts = [version.statement_zh, version.statement_en]
    texts += [hint.get(language, "") for hint in version.hints or [] for language in ("zh", "en")]
    return _boilerplate(version.starter_code, tuple(texts))


def fingerprint_store(*, submission: Submission) -> CodeFingerprint:
    """The submission's fingerprint, computed and stored the first time (again after an algorithm change)."""
    existing = CodeFingerprint.objects.filter(submission=submission).first()
    if existing is not None and existing.algorithm == winnowing.ALGORITHM:
        return existing
    found = winnowing.fingerprint(submission.code, boilerplate=version_boilerplate(submission.version))
    row, _created = CodeFingerprint.objects.update_or_create(
        submission=submission,
        defaults={
            "exercise_id": submission.exercise_id,
            "user_id": submission.user_id,
            "algorithm": winnowing.ALGORITHM,
            "hashes": sorted(found.hashes),
        },
    )
    return row


def _counted_submits() -> QuerySet[Submission]:
    return Submission.objects.filter(mode=Mode.SUBMIT, purpose=Purpose.ATTEMPT)


def _pair_row(first: CodeFingerprint, second: CodeFingerprint, shares: tuple[float, float]) -> SimilarPair:
    if first.submission_id > second.submission_id:
        first, second, shares = second, first, (shares[1], shares[0])
    return SimilarPair(
        exercise_id=first.exercise_id,
        first_id=first.submission_id,
        second_id=second.submission_id,
        first_user_id=first.user_id,
        second_user_id=second.user_id,
        score=max(shares),
        first_share=shares[0],
        second_share=shares[1],
    )


def _pairs_save(rows: list[SimilarPair]) -> int:
    """Insert new pairs, refresh the scores of known ones; a decision already taken stays."""
    SimilarPair.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["first", "second"],
        update_fields=["score", "first_share", "second_share", "compared_at"],
    )
    return len(rows)


def submission_compare(*, submission_id: int) -> int:
    """Fingerprint one Submit and compare it with the fingerprints of its cohorts' other students.

    Only new-against-existing: pairs among the existing fingerprints are not looked at. Returns the
    number of fingerprints it was compared with. A Run, a regrade's re-run or a vanished row: nothing.
    """
    submission = _counted_submits().select_related("version").filter(pk=submission_id).first()
    if submission is None:
        return 0
    mine = fingerprint_store(submission=submission)
    classmates = User.objects.filter(memberships__cohort__memberships__student_id=submission.user_id)
    others = (
        CodeFingerprint.objects.filter(
            exercise_id=submission.exercise_id, algorithm=winnowing.ALGORITHM, user__in=classmates
        )
        .exclude(user_id=submission.user_id)
        .only("submission_id", "exercise_id", "user_id", "hashes")
    )
    my_hashes = frozenset(mine.hashes)
    rows = []
    compared = 0
    for other in others.iterator(chunk_size=500):
        compared += 1
        shares = winnowing.similarity(my_hashes, frozenset(other.hashes))
        if max(shares) >= STORE_AT_LEAST:
            rows.append(_pair_row(mine, other, shares))
    _pairs_save(rows)
    return compared


def current_submits(
    *, cohort: Cohort, exercise: Exercise, include_passing: bool = False
) -> QuerySet[Submission]:
    """Each cohort student's latest Submit of the trial (and, if asked, every Submit that passed)."""
    latest = (
        _counted_submits().filter(exercise=exercise, user=OuterRef("user")).order_by("-pk").values("pk")[:1]
    )
    condition = Q(pk=Subquery(latest))
    if include_passing:
        condition |= Q(verdict=Verdict.PASSED)
    return _counted_submits().filter(exercise=exercise, user__memberships__cohort=cohort).filter(condition)


def cohort_scan(*, cohort: Cohort, exercise: Exercise, include_passing: bool = False) -> int:
    """Compare the cohort's current Submits of one trial all against all; returns the pairs stored.

    An inverted index (hash → submissions) counts the shared hashes of every pair that shares any, so
    the cost follows the overlaps, not the square of the cohort's size."""
    submissions = list(
        current_submits(cohort=cohort, exercise=exercise, include_passing=include_passing)
        .select_related("version")
        .distinct()
    )
    known = {
        row.submission_id: row
        for row in CodeFingerprint.objects.filter(
            submission__in=[s.pk for s in submissions], algorithm=winnowing.ALGORITHM
        )
    }
    fingerprints = [known.get(s.pk) or fingerprint_store(submission=s) for s in submissions]
    return _pairs_save(list(_similar_pairs(fingerprints)))


def _similar_pairs(fingerprints: list[CodeFingerprint]) -> Iterable[SimilarPair]:
    hash_sets = [frozenset(row.hashes) for row in fingerprints]
    index: defaultdict[int, list[int]] = defaultdict(list)
    for position, hashes in enumerate(hash_sets):
        if len(hashes) >= winnowing.MIN_FINGERPRINTS:
            for value in hashes:
                index[value].append(position)
    shared: Counter[tuple[int, int]] = Counter()
    for holders in index.values():
        if len(holders) > 1:
            shared.update(itertools.combinations(holders, 2))
    for (a, b), count in shared.items():
        first, second = fingerprints[a], fingerprints[b]
        if first.user_id == second.user_id:
            continue
        shares = (count / len(hash_sets[a]), count / len(hash_sets[b]))
        if max(shares) >= STORE_AT_LEAST:
            yield _pair_row(first, second, shares)


@transaction.atomic
def pair_decide(*, reviewer: User, pair: SimilarPair, decision: str, note: str = "") -> SimilarPair:
    """Record an instructor's decision on a pair ("" clears it), with who and when."""
    if decision not in Decision.values:
        raise DomainError("invalid", _("未知的处理结果。"), field="decision")
    pair = SimilarPair.objects.select_for_update().get(pk=pair.pk)
    pair.decision = decision
    pair.note = note.strip()[:2000]
    pair.decided_by = reviewer if decision else None
    pair.decided_at = timezone.now() if decision else None
    pair.save(update_fields=["decision", "note", "decided_by", "decided_at"])
    return pair
