"""Reads of similar-code detection, scoped to a cohort the reader teaches (the views check that first)."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from huashen.accounts.models import Cohort, CohortMembership
from huashen.curriculum.models import Exercise
from huashen.errors import DomainError
from huashen.grading.models import Mode, Purpose, Submission, Verdict
from huashen.similarity import winnowing
from huashen.similarity.models import SimilarPair
from huashen.similarity.services import version_boilerplate

DEFAULT_THRESHOLD = winnowing.DEFAULT_THRESHOLD
SHOWN_PER_TRIAL = 100


def threshold_from(value: str | None) -> float:
    """The page's `threshold` parameter: a share between 0.3 (what is stored) and 1, else the default."""
    try:
        threshold = float(value) if value else DEFAULT_THRESHOLD
    except ValueError:
        return DEFAULT_THRESHOLD
    if threshold != threshold:  # NaN
        return DEFAULT_THRESHOLD
    return min(max(threshold, 0.3), 1.0)


def _is_current(side: str, *, include_passing: bool) -> Q:
    """The side's submission is its author's latest Submit of the trial (or passed, if asked)."""
    newer = Submission.objects.filter(
        user=OuterRef(f"{side}_user"),
        exercise=OuterRef("exercise"),
        mode=Mode.SUBMIT,
        purpose=Purpose.ATTEMPT,
        pk__gt=OuterRef(side),
    )
    condition = ~Q(Exists(newer))
    if include_passing:
        condition |= Q(**{f"{side}__verdict": Verdict.PASSED})
    return condition


def cohort_pairs(*, cohort: Cohort, threshold: float, include_passing: bool = False) -> QuerySet[SimilarPair]:
    """Pairs of two students of the cohort at or above `threshold`, highest first, current Submits only."""
    members = CohortMembership.objects.filter(cohort=cohort)
    return (
        SimilarPair.objects.filter(score__gte=threshold)
        .filter(
            Exists(members.filter(student=OuterRef("first_user"))),
            Exists(members.filter(student=OuterRef("second_user"))),
        )
        .filter(_is_current("first", include_passing=include_passing))
        .filter(_is_current("second", include_passing=include_passing))
        .select_related(
            "exercise__realm", "exercise__current_version", "first_user", "second_user", "decided_by"
        )
        .order_by("exercise__realm__order", "exercise__order", "-score", "pk")
    )


@dataclass
class ExercisePairs:
    exercise: Exercise
    pairs: list[SimilarPair] = field(default_factory=list)
    total: int = 0


def pairs_by_exercise(
    *, cohort: Cohort, threshold: float, include_passing: bool = False
) -> list[ExercisePairs]:
    """Every published trial with its pairs (the first SHOWN_PER_TRIAL of them), in two queries."""
    trials = {
        exercise.pk: ExercisePairs(exercise)
        for exercise in Exercise.objects.filter(is_published=True, retired=False)
        .select_related("realm", "current_version")
        .order_by("realm__order", "order")
    }
    extra: defaultdict[int, list[SimilarPair]] = defaultdict(list)
    for pair in cohort_pairs(cohort=cohort, threshold=threshold, include_passing=include_passing):
        entry = trials.get(pair.exercise_id)
        if entry is None:  # a hidden or retired trial still shows its pairs, after the others
            extra[pair.exercise_id].append(pair)
            continue
        entry.total += 1
        if len(entry.pairs) < SHOWN_PER_TRIAL:
            entry.pairs.append(pair)
    for pairs in extra.values():
        trials[pairs[0].exercise_id] = ExercisePairs(pairs[0].exercise, pairs[:SHOWN_PER_TRIAL], len(pairs))
    return list(trials.values())


def pair_get_for_cohort(*, cohort: Cohort, pair_id: int) -> SimilarPair:
    """A pair both of whose students are in the cohort; 404 otherwise (the same answer as no pair)."""
    members = CohortMembership.objects.filter(cohort=cohort)
    pair = (
        SimilarPair.objects.filter(pk=pair_id)
        .filter(
            Exists(members.filter(student=OuterRef("first_user"))),
            Exists(members.filter(student=OuterRef("second_user"))),
        )
        .select_related(
            "exercise__realm",
            "exercise__current_version",
            "first__version",
            "second__version",
            "first_user",
            "second_user",
            "decided_by",
        )
        .first()
    )
    if pair is None:
        raise DomainError("not_found", _("没有找到。"), status=404)
    return pair


@dataclass
class CodeLine:
    number: int
    html: SafeString


def highlighted_lines(code: str, spans: list[tuple[int, int]]) -> list[CodeLine]:
    """The code as numbered lines, escaped, the given spans wrapped in <mark> (split at line ends)."""
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        pieces.append(escape(code[position:start]))
        marked = escape(code[start:end]).replace("\n", '</mark>\n<mark class="match">')
        pieces.append(f'<mark class="match">{marked}</mark>')
        position = end
    pieces.append(escape(code[position:]))
    lines = "".join(pieces).split("\n")
    return [CodeLine(n, mark_safe(text)) for n, text in enumerate(lines, start=1)]  # noqa: S308 - escaped above


@dataclass
class SideBySide:
    first: list[CodeLine]
    second: list[CodeLine]


def pair_side_by_side(pair: SimilarPair) -> SideBySide:
    """Both codes with the regions whose fingerprints the other side shares highlighted (boilerplate is
    left out of the fingerprints, so it is never highlighted)."""
    first = winnowing.fingerprint(pair.first.code, boilerplate=version_boilerplate(pair.first.version))
    second = winnowing.fingerprint(pair.second.code, boilerplate=version_boilerplate(pair.second.version))
    return SideBySide(
        first=highlighted_lines(pair.first.code, winnowing.matching_spans(first, second.hashes)),
        second=highlighted_lines(pair.second.code, winnowing.matching_spans(second, first.hashes)),
    )
