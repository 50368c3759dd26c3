"""The submissions-per-day chart: axis labels in the page's language, days counted in the reader's zone."""

import datetime as dt
import json
import re

import pytest
from django.test import Client

from huashen.grading.models import Submission
from tests.conftest import Personas
from tests.records.builders import in_english
from tests.teaching.conftest import graded

pytestmark = pytest.mark.django_db


def chart_of(client: Client, personas: Personas, slug: str) -> tuple[str, dict]:
    page = client.get(f"/teach/cohorts/{personas.cohort_a.pk}/trials/{slug}/").content.decode()
    data = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', page)
    assert data is not None
    return page, json.loads(data.group(1))


def test_the_axes_are_named_in_the_pages_language(personas: Personas, trials: dict) -> None:
    graded(personas.alice, trials["a1"])
    client = Client()
    client.force_login(personas.carol)
    page, _chart = chart_of(client, personas, trials["a1"].slug)
    assert 'data-label="提交次数" data-x-label="日期"' in page
    in_english(client)
    page, _chart = chart_of(client, personas, trials["a1"].slug)
    assert 'data-label="Submissions" data-x-label="Date"' in page


def test_days_are_counted_in_the_readers_zone(personas: Personas, trials: dict) -> None:
    late = graded(personas.alice, trials["a1"])
    Submission.objects.filter(pk=late.pk).update(created_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC))
    client = Client()
    client.force_login(personas.carol)
    client.cookies["hs_tz"] = "Europe/London"
    assert chart_of(client, personas, trials["a1"].slug)[1]["days"] == ["2026-03-01"]
    client.cookies["hs_tz"] = "Asia/Tokyo"
    assert chart_of(client, personas, trials["a1"].slug)[1]["days"] == ["2026-03-02"]
