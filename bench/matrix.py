"""Instructor matrix: a cohort of 1,000 students × every published trial (25), against a cohort of 10 in
the same run: render time of the matrix page and the matrix API (Django's test Client, in process, on
PostgreSQL) and the SQL queries each costs. The data is bulk-created (users, memberships, progress).

    DATABASE_URL=... .venv/bin/python bench/matrix.py [--students 1000] [--repeat 15]

(`make bench` starts its own PostgreSQL.)
"""

import argparse
import datetime as dt
import os
import random
import sys
import time
import uuid

from common import ROOT, save, summary, table

sys.path.insert(0, str(ROOT / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huashen.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 44)
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # not an access-log line per request


def build_cohort(size: int, instructor, exercises: list, tag: str):
    """`size` students with progress on every trial (a mix of passed, tried and untouched)."""
    from django.contrib.auth.hashers import make_password

    from huashen.accounts.models import Cohort, CohortMembership, User
    from huashen.grading.models import ExerciseProgress

    cohort = Cohort.objects.create(name=f"bench {tag} {size}")
    cohort.instructors.add(instructor)
    password = make_password(None)
    users = User.objects.bulk_create(
        [User(username=f"b{tag}-{size}-{index:05d}", password=password) for index in range(size)],
        batch_size=1000,
    )
    CohortMembership.objects.bulk_create(
        [CohortMembership(cohort=cohort, student=user) for user in users], batch_size=1000
    )
    rng = random.Random(size)  # noqa: S311 (made-up scores, not secrets)
    now = dt.datetime.now(dt.UTC)
    progress = []
    for user in users:
        for exercise in exercises:
            roll = rng.random()
            if roll < 0.15:
                continue  # not started: no progress row
            passed = roll > 0.45
            when = now - dt.timedelta(minutes=rng.randrange(60 * 24 * 30))
            progress.append(
                ExerciseProgress(
                    user=user,
                    exercise=exercise,
                    attempts=rng.randrange(1, 6),
                    best_score=100.0 if passed else round(rng.random() * 90, 1),
                    passed_at=when if passed else None,
                    last_submitted_at=when,
                )
            )
    ExerciseProgress.objects.bulk_create(progress, batch_size=5000)
    return cohort, len(progress)


def measure(client, url: str, repeat: int) -> tuple[list[float], int, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up (template compilation, first connection), not counted
    assert response.status_code == 200, (url, response.status_code)
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    count = len(queries)  # now: the next request clears the connection's query log
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        seconds.append(time.perf_counter() - started)
    return seconds, count, len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        print("matrix: DATABASE_URL is not set (make bench starts a PostgreSQL); skipped")
        return

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", "--noinput", verbosity=0)
    call_command("sync_exercises", verbosity=0)

    from huashen.accounts.models import Role
    from huashen.accounts.services import user_create
    from huashen.grading.selectors import published_exercises

    exercises = list(published_exercises())
    tag = uuid.uuid4().hex[:6]
    instructor = user_create(username=f"bench-teacher-{tag}", password=uuid.uuid4().hex, role=Role.INSTRUCTOR)
    started = time.perf_counter()
    cohorts = {}
    for size in (options.baseline, options.students):
        cohorts[size] = build_cohort(size, instructor, exercises, tag)
    print(f"matrix: built the cohorts in {time.perf_counter() - started:.1f} s ({len(exercises)} trials)")

    client = Client()
    client.force_login(instructor)
    views = [
        ("page, by name (100 rows)", "/teach/cohorts/{id}/matrix/"),
        ("page, by progress (100 rows)", "/teach/cohorts/{id}/matrix/?sort=progress"),
        ("API, page_size=100", "/api/v1/cohorts/{id}/matrix/"),
        ("API, page_size=1000", "/api/v1/cohorts/{id}/matrix/?page_size=1000"),
        ("CSV, every row", "/teach/cohorts/{id}/matrix.csv"),
    ]
    rows = []
    for label, pattern in views:
        for size in (options.baseline, options.students):
            cohort, cells = cohorts[size]
            seconds, queries, size_bytes = measure(client, pattern.format(id=cohort.pk), options.repeat)
            stats = summary(seconds)
            rows.append({
                "view": label, "students": size, "trials": len(exercises), "progress_rows": cells,
                "median_ms": stats["median_ms"], "p95_ms": stats["p95_ms"], "max_ms": stats["max_ms"],
                "queries": queries, "kb": round(size_bytes / 1024),
            })  # fmt: skip
    for index in range(0, len(rows), 2):
        baseline, large = rows[index], rows[index + 1]
        large["x_baseline"] = round(large["median_ms"] / max(baseline["median_ms"], 0.1), 1)
        large["same_queries"] = large["queries"] == baseline["queries"]
        large["target"] = (
            "met" if large["median_ms"] <= 300 and large["same_queries"] else "not met"
        ) if not label_is_export(large["view"]) else "n/a"  # fmt: skip
    table(
        f"Instructor matrix, {options.students} students × {len(exercises)} trials against {options.baseline} "
        f"(median of {options.repeat}; target: <= 300 ms with O(1) queries)",
        rows,
        ["view", "students", "progress_rows", "median_ms", "p95_ms", "max_ms", "queries", "kb", "x_baseline",
         "same_queries", "target"],
    )  # fmt: skip
    save(
        "matrix",
        rows,
        notes=(
            "Django test Client in process (no HTTP socket), DEBUG=0, PostgreSQL; queries counted on one "
            "request after a warm-up (session + user + access check included); the CSV export (every row) "
            "is listed for scale, not held to the page target"
        ),
    )


def label_is_export(label: str) -> bool:
    return label.startswith("CSV")


if __name__ == "__main__":
    main()
