"""Compare cohorts' current Submits all against all (the page's "compare again", for every cohort):
after this app is installed on a platform with submissions, or after the fingerprint algorithm changed."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huashen.accounts.models import Cohort
from huashen.curriculum.models import Exercise
from huashen.similarity.services import cohort_scan


class Command(BaseCommand):
    help = "Compare each cohort's latest Submits of each published trial (pairs are stored from 0.3)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cohort", type=int, action="append", help="a cohort id (repeatable; default: all)"
        )
        parser.add_argument(
            "--trial", action="append", help="a trial slug (repeatable; default: all published)"
        )
        parser.add_argument("--include-passing", action="store_true", help="every passing Submit as well")

    def handle(self, *args: Any, **options: Any) -> None:
        cohorts = Cohort.objects.order_by("pk")
        if options["cohort"]:
            cohorts = cohorts.filter(pk__in=options["cohort"])
        exercises = Exercise.objects.filter(retired=False).order_by("realm__order", "order")
        if options["trial"]:
            exercises = exercises.filter(slug__in=options["trial"])
            if exercises.count() != len(set(options["trial"])):
                raise CommandError("unknown trial slug")
        else:
            exercises = exercises.filter(is_published=True)
        for cohort in cohorts:
            for exercise in exercises:
                stored = cohort_scan(
                    cohort=cohort, exercise=exercise, include_passing=options["include_passing"]
                )
                if stored:
                    self.stdout.write(f"{cohort.name} / {exercise.slug}: {stored} pairs")
