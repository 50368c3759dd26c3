"""Generated trial data stays in step with its generators, and the digits split is stable.

Which comparison, and why: generated *data* (seeded numpy output, integer arrays, PNGs, JSON) is the
same bytes on every x86-64 or arm64 machine — numpy's generators and integer/elementwise float code do
not depend on the processor's vector width — so it is compared byte for byte. *Trained weights* are not:
training on AVX-512, AVX2 or NEON kernels rounds differently in the last bits and five epochs of Adam
amplify that, so the committed reference CNN of trial 3.4 is compared by what matters
(`exercises.kit.shapes.reference_cnn_differences`): the generator sources it was trained from (a
fingerprint in its metadata, so a changed generator is never missed), names, shapes, dtypes, integer
buffers, and accuracy and agreement on held-out shapes. The test below that retrains with the CPU kernels
held to AVX2 and to no vectorisation at all shows a retrain on another processor passes.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from exercises.kit import generate, shapes
from exercises.kit.digits import load_hidden_labels, load_public, split, write_digits

GRAD_CAM = generate.EXERCISES / "03-vision-sequences" / "04-grad-cam"
REPO = generate.EXERCISES.parent


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


@pytest.mark.parametrize(
    "kernels",
    [
        {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
        {"ATEN_CPU_CAPABILITY": "default"},
    ],
    ids=["avx2", "no-vectorisation"],
)
def test_a_retrain_on_other_cpu_kernels_still_counts_as_current(kernels: dict[str, str]) -> None:
    # These variables pick torch's, MKL's and oneDNN's kernels at import, so the retrain runs in a child.
    script = (
        "from pathlib import Path; from exercises.kit import generate; "
        f"print(generate.stale(Path({str(GRAD_CAM)!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **kernels, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def _weights(model: object, sources: str) -> bytes:
    return shapes.cnn_weights_bytes(model, {"sources": sources})


def test_trained_weights_that_no_longer_classify_are_stale(tmp_path: Path) -> None:
    committed = GRAD_CAM / "public" / shapes.WEIGHTS_FILE
    sources = generate.source_fingerprint(GRAD_CAM / "generate.py", Path(shapes.__file__))
    model = shapes.load_reference_cnn(committed)
    with torch.no_grad():  # same names, shapes, dtypes and buffers; a head that no longer tells shapes apart
        model.fc.weight.zero_()
    untrained = tmp_path / "untrained.safetensors"
    untrained.write_bytes(_weights(model, sources))
    reasons = shapes.reference_cnn_differences(committed, untrained)
    assert any("classifies" in reason and "committed" in reason for reason in reasons), reasons
    assert shapes.reference_cnn_differences(committed, committed) == []


def test_trained_weights_from_other_sources_or_of_another_shape_are_stale(tmp_path: Path) -> None:
    committed = GRAD_CAM / "public" / shapes.WEIGHTS_FILE
    model = shapes.load_reference_cnn(committed)
    other_sources = tmp_path / "other-sources.safetensors"
    other_sources.write_bytes(_weights(model, "0" * 64))
    assert shapes.reference_cnn_differences(committed, other_sources) == [
        "the generator's sources changed since the committed weights were trained"
    ]
    wider = shapes.ShapesCNN(num_classes=4).eval()
    reshaped = tmp_path / "reshaped.safetensors"
    sources = generate.source_fingerprint(GRAD_CAM / "generate.py", Path(shapes.__file__))
    reshaped.write_bytes(_weights(wider, sources))
    reasons = shapes.reference_cnn_differences(committed, reshaped)
    assert any(reason.startswith("fc.weight:") for reason in reasons), reasons


def test_the_source_fingerprint_follows_the_code_not_its_formatting(tmp_path: Path) -> None:
    source = tmp_path / "generate.py"
    source.write_text('"""Docs."""\nSEED = 0\n')
    before = generate.source_fingerprint(source)
    source.write_text('"""Other docs."""\n# a comment\nSEED  =  (0)\n')
    assert generate.source_fingerprint(source) == before
    source.write_text('"""Docs."""\nSEED = 1\n')
    assert generate.source_fingerprint(source) != before
