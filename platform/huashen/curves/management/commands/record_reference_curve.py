"""Store a reference run's metric series with the trial's current version: from a finished submission (the
reference solution run through the platform) or from a JSON-lines file of the kit's report lines."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huashen.curriculum.models import Exercise
from huashen.curves.services import events_from_file, reference_curve_from_submission, reference_curve_record
from huashen.errors import DomainError


class Command(BaseCommand):
    help = "Record the reference solution's curve for a trial's current version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the trial")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--submission", type=int, help="a finished submission of the reference solution")
        source.add_argument("--events", type=Path, help="a JSON-lines file of metric reports or events")

    def handle(self, *args: Any, **options: Any) -> None:
        exercise = Exercise.objects.filter(slug=options["slug"]).first()
        if exercise is None:
            raise CommandError(f"no trial {options['slug']}")
        try:
            if options["submission"] is not None:
                curve = reference_curve_from_submission(
                    exercise=exercise, submission_id=options["submission"]
                )
            else:
                path: Path = options["events"]
                if not path.is_file():
                    raise CommandError(f"no file {path}")
                curve = reference_curve_record(
                    exercise=exercise, log=events_from_file(path), source=f"file {path.name}"
                )
        except DomainError as error:
            raise CommandError(error.message) from error
        names = ", ".join(sorted(curve.series))
        self.stdout.write(f"{exercise.slug} v{curve.version.number}: reference curve of {names}")
