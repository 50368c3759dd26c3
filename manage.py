#!/usr/bin/env python3
"""Django's command-line utility for Huashen.

`platform/` is a source root, never a package: a package named `platform` would shadow the standard
library module of that name (which uuid and others import). So this puts `platform/` on sys.path and the
Django project is the package `huashen` inside it.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main() -> None:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huashen.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
