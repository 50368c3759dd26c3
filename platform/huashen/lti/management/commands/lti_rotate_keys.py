"""Rotate the tool's LTI signing keys: publish a new one, retire those superseded for the grace period.

Run it on a schedule (say monthly) with the default grace, or with `--retire-only` daily: a key stays
in the JWKS for `--grace-days` after its successor appeared, so platforms that cached the JWKS (or hold
a message signed a moment before) still verify.
"""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from huashen.lti import services


class Command(BaseCommand):
    help = "Publish a new LTI signing key and retire keys superseded for longer than the grace period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--grace-days", type=float, default=None, help="default: LTI_KEY_GRACE_DAYS")
        parser.add_argument("--retire-only", action="store_true", help="retire old keys, add none")

    def handle(self, *args: Any, **options: Any) -> None:
        grace = (
            services.keys_grace()
            if options["grace_days"] is None
            else dt.timedelta(days=options["grace_days"])
        )
        rotation = services.keys_rotate(grace=grace, add=not options["retire_only"])
        assert rotation is not None
        verb = "kept" if options["retire_only"] else "published"
        self.stdout.write(f"{verb} key {rotation.new_key}; retired {rotation.retired}")
