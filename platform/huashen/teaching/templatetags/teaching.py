"""`{% load teaching %}{% submission_review submission %}`: the review of a submission, where it has one.

For the submission page: it renders nothing for a submission without a review (one query either way).
"""

from typing import Any

from django import template

from huashen.curriculum.models import pick_language
from huashen.grading.models import Submission
from huashen.teaching.selectors import review_for_submission

register = template.Library()


@register.inclusion_tag("teaching/_review.html")
def submission_review(submission: Submission) -> dict[str, Any]:
    review = review_for_submission(submission=submission)
    if review is None:
        return {"review": None}
    criteria = [
        {
            "key": criterion["key"],
            "text": pick_language(criterion.get("zh", ""), criterion.get("en", "")),
            "points": criterion["points"],
            "given": review.scores.get(criterion["key"], 0),
        }
        for criterion in submission.version.rubric or []
    ]
    return {"review": review, "criteria": criteria}


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as `1 h 05 min` / `4 min` / `—`; the units read the same in both languages."""
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes} min" if minutes else f"{int(seconds)} s"
