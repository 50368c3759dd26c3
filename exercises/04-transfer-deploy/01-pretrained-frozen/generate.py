"""Data for trial 4.1: the shared digits split (the probe trains the head on some of its training images)."""

from pathlib import Path

from exercises.kit.digits import write_digits


def generate(bundle: Path) -> None:
    write_digits(bundle)
