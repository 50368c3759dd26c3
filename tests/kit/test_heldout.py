"""Per-job held-out inputs (exercises/kit/heldout.py): what the grader stages and what the check scores.

A submission could carry a table of the public digits' held-out labels keyed by pixels; these tests pin
that no staged row matches a published one, that the check's labels follow the job's order, and that a
trial which opted in can never be scored without its job's seed.
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from exercises.kit import heldout
from exercises.kit.digits import load_public, split, write_digits
from workers.checker import JOB_SEED_OPTION, _arguments

SEED = 0x5EED_2026_0001


def test_the_inputs_a_job_sees_depend_on_its_seed_only() -> None:
    data = split()
    spec = heldout.HeldOutSpec()
    first = heldout.transform(data.test_x, SEED, spec)
    again = heldout.transform(data.test_x, SEED, spec)
    other = heldout.transform(data.test_x, SEED + 1, spec)
    assert first.dtype == np.float32 and first.shape == data.test_x.shape
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)
    assert first.min() >= 0.0 and first.max() <= 1.0


def test_no_staged_row_can_be_looked_up_by_its_pixels() -> None:
    data = split()
    published = {np.round(row * 16).astype(np.uint8).tobytes() for row in data.test_x}
    staged = heldout.transform(data.test_x, SEED, heldout.HeldOutSpec())
    matches = sum(np.round(row * 16).astype(np.uint8).tobytes() in published for row in staged)
    assert matches == 0


def test_the_labels_follow_the_order_the_job_saw(tmp_path: Path) -> None:
    write_digits(tmp_path)
    heldout.write_spec(tmp_path, heldout.HeldOutSpec(shift=0.0, gain=0.0, noise=0.0))
    (tmp_path / "job").mkdir()
    assert heldout.stage(tmp_path, tmp_path / "job", SEED)
    staged = load_public(tmp_path / "job")["test_x"]
    data = split()
    labels = heldout.job_labels(tmp_path, SEED)
    # With no shift, gain or noise the staged rows are the published ones, reordered: the labels match.
    by_pixels = {
        hashlib.sha256(row.tobytes()).hexdigest(): label
        for row, label in zip(data.test_x, data.test_y, strict=True)
    }
    assert [by_pixels[hashlib.sha256(row.tobytes()).hexdigest()] for row in staged] == labels.tolist()
    assert load_public(tmp_path / "job")["train_x"].tobytes() == data.train_x.tobytes()


def test_a_trial_that_opted_in_is_never_scored_without_a_seed(tmp_path: Path) -> None:
    write_digits(tmp_path)
    assert heldout.job_labels(tmp_path, None).tolist() == split().test_y.tolist()  # not opted in
    heldout.write_spec(tmp_path)
    with pytest.raises(heldout.NoJobSeed):
        heldout.job_labels(tmp_path, None)


def test_a_trial_without_a_spec_is_staged_as_it_is(tmp_path: Path) -> None:
    write_digits(tmp_path)
    (tmp_path / "job").mkdir()
    assert not heldout.stage(tmp_path, tmp_path / "job", SEED)
    assert not (tmp_path / "job" / "digits.npz").exists()


def test_trials_scoring_held_out_digits_opted_in() -> None:
    exercises = Path(__file__).resolve().parents[2] / "exercises"
    scoring = [
        check.parent
        for check in sorted(exercises.glob("*/*/check.py"))
        if "job_labels(" in check.read_text(encoding="utf-8")
    ]
    names = {bundle.name for bundle in scoring}
    assert {"03-train-loop", "05-batch-size-study", "02-replace-head", "02-lightning"} <= names
    for bundle in scoring:
        assert heldout.spec_of(bundle) is not None, bundle.name
        assert (bundle / "wrong" / "forge_lookup_table.py").is_file(), bundle.name


def test_the_checker_reads_the_seed_wherever_it_is_given() -> None:
    arguments, options = _arguments(["b", "o", "submit", f"{JOB_SEED_OPTION}{SEED}"])
    assert arguments == [Path("b"), Path("o"), "submit", None] and options == {"job_seed": SEED}
    arguments, options = _arguments(["b", "o", "run", "v", f"{JOB_SEED_OPTION}7"])
    assert arguments[3] == Path("v") and options == {"job_seed": 7}
    assert _arguments(["b", "o", "run"])[1] == {}
