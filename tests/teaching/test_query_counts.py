"""List pages and endpoints of the teaching area cost the same number of queries for few rows or many."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from huashen.accounts.services import cohort_join, user_create
from tests.conftest import PASSWORD, Personas
from tests.teaching.conftest import graded

pytestmark = pytest.mark.django_db


def count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_list_pages_do_not_grow_with_their_rows(personas: Personas, trials: dict) -> None:
    cohort = personas.cohort_a
    for student in (personas.alice, personas.bob):
        graded(student, trials["hybrid"])
        graded(student, trials["a1"])
    client = Client()
    client.force_login(personas.carol)
    urls = [
        "/teach/",
        f"/teach/cohorts/{cohort.pk}/",
        f"/teach/cohorts/{cohort.pk}/students/{personas.alice.pk}/",
        f"/teach/cohorts/{cohort.pk}/students/{personas.alice.pk}/trials/{trials['a1'].slug}/",
        f"/teach/cohorts/{cohort.pk}/trials/{trials['a1'].slug}/",
        f"/teach/cohorts/{cohort.pk}/trials/{trials['hybrid'].slug}/submissions.csv",
        "/teach/reviews/",
        "/api/v1/reviews/",
        f"/api/v1/cohorts/{cohort.pk}/",
        f"/api/v1/cohorts/{cohort.pk}/trials/{trials['a1'].slug}/statistics/",
    ]
    few = {url: count(client, url) for url in urls}

    for n in range(8):
        student = user_create(username=f"extra{n}", password=PASSWORD)
        cohort_join(student=student, join_code=cohort.join_code)
        graded(student, trials["hybrid"])
        graded(student, trials["a1"])
        graded(personas.alice, trials["a2"])
    many = {url: count(client, url) for url in urls}
    assert many == few
    assert max(few.values()) <= 16, few
