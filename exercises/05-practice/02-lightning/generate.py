"""public/digits.npz and hidden/digits_labels.npz for trial 5.2: the shared digits split of the kit."""

from exercises.kit.digits import write_digits
from exercises.kit.heldout import write_spec


def generate(bundle):
    write_digits(bundle)
    write_spec(bundle)  # held-out inputs transformed per job
