"""The student page's timeline folds a trial opened again and again into one line with its count, as the
profile does; submissions in between break the run and are never folded."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from huashen.practice.models import ActivityEvent, ActivityKind
from huashen.teaching.selectors import student_view
from tests.conftest import Personas
from tests.teaching.conftest import graded

pytestmark = pytest.mark.django_db


def opened(personas: Personas, trial, minutes_ago: int) -> None:
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    ActivityEvent.objects.create(user=personas.alice, exercise=trial, kind=ActivityKind.OPENED, at=at)


def test_repeated_openings_fold_into_one_line(personas: Personas, trials: dict) -> None:
    for minutes in (50, 40, 30):
        opened(personas, trials["a1"], minutes)
    opened(personas, trials["a2"], 25)
    opened(personas, trials["a1"], 20)
    opened(personas, trials["a1"], 15)
    submission = graded(personas.alice, trials["a1"])  # newest: breaks the run of openings
    view = student_view(student=personas.alice)
    assert [(e.kind, e.exercise.slug, e.repeats) for e in view.timeline] == [
        ("submission", trials["a1"].slug, 1),
        ("opened", trials["a1"].slug, 2),
        ("opened", trials["a2"].slug, 1),
        ("opened", trials["a1"].slug, 3),
    ]
    assert view.timeline[0].submission == submission
    oldest = view.timeline[-1]
    assert oldest.first_at is not None and oldest.first_at < oldest.at

    client = Client()
    client.force_login(personas.carol)
    page = client.get(f"/teach/cohorts/{personas.cohort_a.pk}/students/{personas.alice.pk}/").content.decode()
    events = [
        re.sub(r"\s+", " ", e).strip() for e in re.findall(r'data-testid="timeline-event">(.*?)</td>', page)
    ]
    assert len(events) == 3
    assert events[0].startswith("打开试炼 ×2") and events[2].startswith("打开试炼 ×3")
    assert events[1] == "打开试炼"
    assert "自 " in events[2]
