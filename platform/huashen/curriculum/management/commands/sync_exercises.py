from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huashen.curriculum.services import exercises_sync


class Command(BaseCommand):
    help = "Validate the trial bundles under exercises/ and sync them into the database (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--root", type=Path, help="the exercises folder (default: settings.EXERCISES_DIR)"
        )

    def handle(self, *args: Any, root: Path | str | None = None, **options: Any) -> None:
        result = exercises_sync(root=Path(root) if root else None)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(f"{len(result.errors)} error(s) in the exercises; nothing was changed")
        self.stdout.write(
            self.style.SUCCESS(
                f"synced {result.realms} realms; trials: {len(result.created)} new, "
                f"{len(result.new_versions)} with a new version, {len(result.unchanged)} unchanged, "
                f"{len(result.retired)} retired"
            )
        )
