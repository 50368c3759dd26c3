"""Data for trial 4.2: the shared digits split (public inputs; the labels of the held-out part stay hidden)."""

from pathlib import Path

from exercises.kit.digits import write_digits
from exercises.kit.heldout import write_spec


def generate(bundle: Path) -> None:
    write_digits(bundle)
    write_spec(bundle)  # held-out inputs transformed per job
