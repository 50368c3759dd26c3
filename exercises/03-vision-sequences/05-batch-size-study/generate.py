"""Generated files of trial 3.5: the shared digits split (public/digits.npz, hidden/digits_labels.npz).

Run `python -m exercises.kit.generate` after changing this.
"""

from pathlib import Path


def generate(bundle: Path) -> None:
    from exercises.kit.digits import write_digits
    from exercises.kit.heldout import write_spec

    write_digits(bundle)
    write_spec(bundle)  # held-out inputs transformed per job
