"""public/digits.npz (the training split and unlabeled held-out inputs) and hidden/digits_labels.npz."""

from pathlib import Path

from exercises.kit.digits import write_digits


def generate(bundle: Path) -> None:
    write_digits(bundle)
