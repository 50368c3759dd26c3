"""Generated trial data stays in step with its generators, and the digits split is stable."""

from pathlib import Path

from exercises.kit import generate
from exercises.kit.digits import load_hidden_labels, load_public, split, write_digits


def test_every_committed_generated_file_matches_its_generator() -> None:
    stale = {
        str(bundle): generate.stale(bundle) for bundle in (script.parent for script in generate.generators())
    }
    assert all(not files for files in stale.values()), stale


def test_a_stale_file_is_detected(tmp_path: Path) -> None:
    bundle = tmp_path / "trial"
    bundle.mkdir()
    (bundle / "generate.py").write_text(
        "from exercises.kit.digits import write_digits\n\ndef generate(bundle):\n    write_digits(bundle)\n"
    )
    generate.run(bundle)
    assert generate.stale(bundle) == []
    (bundle / "hidden" / "digits_labels.npz").write_bytes(b"tampered")
    assert generate.stale(bundle) == ["hidden/digits_labels.npz"]


def test_the_digits_split_is_deterministic_stratified_and_hides_its_labels(tmp_path: Path) -> None:
    first, second = split(), split()
    assert (first.train_x == second.train_x).all() and (first.test_y == second.test_y).all()
    assert len(first.train_y) + len(first.test_y) == 1797
    assert sorted(set(first.test_y.tolist())) == list(range(10))
    write_digits(tmp_path)
    public = load_public(tmp_path / "public")
    assert set(public) == {"train_x", "train_y", "test_x"}  # no held-out labels in what the sandbox sees
    assert (load_hidden_labels(tmp_path) == first.test_y).all()
    assert float(public["train_x"].min()) >= 0.0 and float(public["train_x"].max()) <= 1.0
