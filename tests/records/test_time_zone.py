"""One time-zone rule: every time a user reads is rendered in their browser's zone (the `hs_tz` cookie the
page script sends), the zone is named on the page, and the CSV exports follow the same rule."""

import csv
import datetime as dt
import io

import pytest
from django.test import Client

from huashen.grading.models import Submission
from tests.conftest import Personas
from tests.records.builders import graded, in_english

pytestmark = pytest.mark.django_db

NOON_UTC = dt.datetime(2026, 3, 1, 12, 34, 56, tzinfo=dt.UTC)


def pinned(submission: Submission) -> Submission:
    Submission.objects.filter(pk=submission.pk).update(created_at=NOON_UTC)
    return submission


def test_the_history_is_in_the_browsers_zone_and_says_so(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    pinned(graded(personas.alice, curriculum["r1t1"]))
    client.force_login(personas.alice)
    client.cookies["hs_tz"] = "America/New_York"
    content = client.get("/trials/realm-1-trial-1/history/").content.decode()
    assert "2026-03-01 07:34:56" in content
    assert '<body data-tz="America/New_York">' in content
    assert "时间均按 America/New_York 时区显示" in content
    client.cookies["hs_tz"] = "Asia/Tokyo"
    content = client.get("/trials/realm-1-trial-1/history/").content.decode()
    assert "2026-03-01 21:34:56" in content


def test_without_the_cookie_the_sites_zone_is_used_and_named(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    pinned(graded(personas.alice, curriculum["r1t1"]))
    client.force_login(personas.alice)
    in_english(client)
    content = client.get("/trials/realm-1-trial-1/history/").content.decode()
    assert "2026-03-01 20:34:56" in content  # Asia/Shanghai, the site's TIME_ZONE
    assert "Times are shown in the Asia/Shanghai time zone" in content


def test_the_cookie_as_the_page_script_writes_it_is_understood(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    """The script writes the zone with encodeURIComponent: America%2FNew_York is New York, not ignored."""
    pinned(graded(personas.alice, curriculum["r1t1"]))
    client.force_login(personas.alice)
    client.cookies["hs_tz"] = "America%2FNew_York"
    page = client.get("/trials/realm-1-trial-1/history/").content.decode()
    assert 'data-tz="America/New_York"' in page


@pytest.mark.parametrize("cookie", ["Not/AZone", "../../etc/passwd", "x" * 200, "", "..%2F..%2Fetc%2Fpasswd"])
def test_a_cookie_that_names_no_zone_is_ignored(
    client: Client, personas: Personas, curriculum: dict, cookie: str
) -> None:
    pinned(graded(personas.alice, curriculum["r1t1"]))
    client.force_login(personas.alice)
    client.cookies["hs_tz"] = cookie
    response = client.get("/trials/realm-1-trial-1/history/")
    assert response.status_code == 200
    assert "2026-03-01 20:34:56" in response.content.decode()


def test_the_submissions_csv_is_in_the_readers_zone_with_its_offset(
    client: Client, personas: Personas, curriculum: dict
) -> None:
    submission = pinned(graded(personas.alice, curriculum["r1t1"]))
    client.force_login(personas.carol)
    client.cookies["hs_tz"] = "Europe/Berlin"
    url = f"/teach/cohorts/{personas.cohort_a.pk}/trials/{curriculum['r1t1'].slug}/submissions.csv"
    response = client.get(url)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    row = next(r for r in rows[1:] if r[0] == str(submission.pk))
    assert row[rows[0].index("created_at")] == "2026-03-01T13:34:56+01:00"
