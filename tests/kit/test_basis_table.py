"""Every check says how it knows what it scores, and docs/architecture.md shows it as the bundles say.

A trial graded behind the boundary (its probe.py defines `driver`) declares a basis on every check:
*verified* (the answer reached the trusted side as data and the check recomputes what it must be) or
*observed* (only the student's process can see it). A pass must never rest on observed checks alone, so
each such trial has at least one verified check among those Submit runs (all of them). The table in
docs/architecture.md between the markers is what `python -m exercises.kit.basis_table` generates.
"""

from pathlib import Path

import pytest

from exercises.kit import basis_table
from exercises.kit.basis_table import DOC, Trial, documented, render, row, trials
from exercises.kit.check import BASES, Check

TRIALS = trials()
BOUNDARY = [trial for trial in TRIALS if trial.boundary]


def test_every_trial_is_in_the_table() -> None:
    assert len(TRIALS) == 25
    table = render(TRIALS)
    for trial in TRIALS:
        assert f"| {trial.number} {trial.slug} |" in table


@pytest.mark.parametrize("trial", BOUNDARY, ids=[trial.number for trial in BOUNDARY])
def test_every_check_of_a_boundary_trial_declares_its_basis(trial: Trial) -> None:
    for check in trial.checks:
        assert check.basis in BASES, f"{trial.number} {trial.slug}: check {check.key!r} declares no basis"
        assert check.basis_note.strip(), f"{trial.number} {trial.slug}: check {check.key!r} has no basis_note"


@pytest.mark.parametrize("trial", BOUNDARY, ids=[trial.number for trial in BOUNDARY])
def test_no_boundary_trial_passes_on_observed_checks_alone(trial: Trial) -> None:
    # Submit runs every declared check, so a verified check anywhere among them must pass for a pass.
    verified = [check.key for check in trial.checks if check.basis == "verified"]
    assert verified, f"{trial.number} {trial.slug}: every check is observed"


def test_the_table_in_the_architecture_doc_is_generated() -> None:
    table = documented(DOC.read_text(encoding="utf-8"))
    assert table is not None, f"{DOC} lacks the markers {basis_table.START} … {basis_table.END}"
    assert table == render(TRIALS), "regenerate it: python -m exercises.kit.basis_table --write"


def _trial(*checks: Check, boundary: bool = True) -> Trial:
    return Trial(number="9.9", slug="example", bundle=Path("."), boundary=boundary, checks=checks)


def test_a_row_lists_verified_and_observed_checks_with_their_notes() -> None:
    line = row(
        _trial(
            Check("values", zh="值", en="Values", basis="verified", basis_note="recomputed outside"),
            Check("mode", zh="模式", en="Mode", basis="observed", basis_note="a flag"),
            Check("other", zh="其他", en="Other"),
        )
    )
    assert line == (
        "| 9.9 example | `values` (recomputed outside) | `mode` (a flag); `other` not classed yet |"
    )


def test_a_trial_without_a_basis_is_shown_as_not_classed() -> None:
    assert "not classed yet (the probe shares the student's process)" in row(
        _trial(Check("values", zh="值", en="Values"), boundary=False)
    )
    assert "| — |" in row(_trial(Check("values", zh="值", en="Values", basis="verified", basis_note="x")))
