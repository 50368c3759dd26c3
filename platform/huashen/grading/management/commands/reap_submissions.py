from typing import Any

from django.core.management.base import BaseCommand

from huashen.grading.results import submissions_reap


class Command(BaseCommand):
    help = (
        "Fail the submissions still queued or running past their deadline (internal error, not counted). "
        "The platform worker's beat does this every minute; this is the same sweep, by hand or from cron."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        reaped = submissions_reap()
        self.stdout.write(self.style.SUCCESS(f"reaped {reaped} stuck submission(s)"))
