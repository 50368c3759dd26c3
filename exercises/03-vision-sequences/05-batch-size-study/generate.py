"""Generated files of trial 3.5: the shared digits split (public/digits.npz, hidden/digits_labels.npz).

Run `python -m exercises.kit.generate` after changing this.
"""

from pathlib import Path


def generate(bundle: Path) -> None:
    from exercises.kit.digits import write_digits

    write_digits(bundle)
