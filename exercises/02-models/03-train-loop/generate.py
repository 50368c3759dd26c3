"""public/digits.npz (the training split and unlabeled held-out inputs) and hidden/digits_labels.npz, and hidden/heldout.toml (per-job held-out inputs)."""

from pathlib import Path

from exercises.kit.digits import write_digits
from exercises.kit.heldout import write_spec


def generate(bundle: Path) -> None:
    write_digits(bundle)
    write_spec(bundle)  # held-out inputs transformed per job
