"""The staff content page: every trial, the latest sync's report, the latest regrades."""

from dataclasses import dataclass

from django.db.models import (
    QuerySet,
)

from huashen.curriculum.models import Exercise, SyncReport
from huashen.teaching.models import Regrade


@dataclass
class StaffContent:
    """The staff content page: every trial (retired last), the latest sync's report, the latest regrades."""

    exercises: QuerySet[Exercise]
    report: SyncReport | None
    regrades: list[Regrade]


def staff_content() -> StaffContent:
    return StaffContent(
        exercises=Exercise.objects.select_related("realm", "current_version").order_by(
            "retired", "realm__order", "order"
        ),
        report=SyncReport.objects.first(),
        regrades=list(Regrade.objects.select_related("original__user", "rerun", "exercise", "version")[:50]),
    )
