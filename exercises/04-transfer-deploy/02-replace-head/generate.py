"""Data for trial 4.2: the shared digits split (public inputs; the labels of the held-out part stay hidden)."""

from pathlib import Path

from exercises.kit.digits import write_digits
from exercises.kit.heldout import HeldOutSpec, write_spec


def generate(bundle: Path) -> None:
    write_digits(bundle)
    # Held-out inputs transformed per job; a lighter shift than the default: the frozen ResNet head sees
    # the digits upsampled to 32×32 and loses more to a moved image than an MLP on the 8×8 pixels does.
    write_spec(bundle, HeldOutSpec(shift=0.1))
