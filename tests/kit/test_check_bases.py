"""Every check of a classed trial says how it knows what it scores (docs/architecture.md, "The boundary"):
once one check of a trial declares a basis, all of them do, each with a note, and a pass never rests on
observed checks alone — at least one check is verified."""

from pathlib import Path

import pytest

from exercises.kit.check import BASES, load_checks
from workers.trusted_out import is_boundary_exercise

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"
BUNDLES = sorted(toml.parent for toml in EXERCISES.glob("*/*/exercise.toml"))
CLASSED = [bundle for bundle in BUNDLES if any(check.basis for check in load_checks(bundle))]


def test_the_realm_5_boundary_trials_are_classed() -> None:
    names = {bundle.name for bundle in CLASSED}
    assert {"03-mixed-precision", "04-deploy-automation", "05-roadmap"} <= names


@pytest.mark.parametrize("bundle", CLASSED, ids=lambda bundle: f"{bundle.parent.name}/{bundle.name}")
def test_a_classed_trial_classes_every_check(bundle: Path) -> None:
    checks = load_checks(bundle)
    assert is_boundary_exercise(bundle), "only a driver's observations can be verified"
    for check in checks:
        assert check.basis in BASES, check.key
        assert check.basis_note.strip(), check.key
    assert any(check.basis == "verified" for check in checks)
