"""scikit-learn's bundled digits (1797 images of 8×8), split the same way for every trial that uses them.

Inside the sandbox the bundled dataset files are masked, so a trial ships what the student may see in its
`public/` folder (the training split, and the held-out inputs *without* labels) and keeps the held-out
labels in `hidden/`, which never enters the sandbox. `write_digits()` writes both deterministically;
a trial's `generate.py` calls it, and `python -m exercises.kit.generate` rebuilds every trial's files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

PUBLIC_FILE = "digits.npz"  # train_x (n, 64) float32 in [0, 1], train_y (n,) int64, test_x (m, 64)
HIDDEN_FILE = "digits_labels.npz"  # test_y (m,) int64


@dataclass(frozen=True)
class DigitsSplit:
    train_x: Any
    train_y: Any
    test_x: Any
    test_y: Any


def split(*, test_fraction: float = 0.25, seed: int = 2024) -> DigitsSplit:
    """A stratified, seeded split of all 1797 digits; pixels scaled to [0, 1] as float32."""
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test_index: list[int] = []
    for label in range(10):
        members = np.flatnonzero(labels == label)
        rng.shuffle(members)
        test_index.extend(members[: round(len(members) * test_fraction)].tolist())
    test_mask = np.zeros(len(labels), dtype=bool)
    test_mask[test_index] = True
    train = np.flatnonzero(~test_mask)
    test = np.flatnonzero(test_mask)
    rng.shuffle(train)
    rng.shuffle(test)
    return DigitsSplit(images[train], labels[train], images[test], labels[test])


def write_digits(bundle: Path, *, test_fraction: float = 0.25, seed: int = 2024) -> None:
    """public/digits.npz for the sandbox and hidden/digits_labels.npz for the check (byte-stable)."""
    import io

    import numpy as np

    data = split(test_fraction=test_fraction, seed=seed)
    for folder, name, arrays in (
        ("public", PUBLIC_FILE, {"train_x": data.train_x, "train_y": data.train_y, "test_x": data.test_x}),
        ("hidden", HIDDEN_FILE, {"test_y": data.test_y}),
    ):
        (bundle / folder).mkdir(exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # uncompressed, no timestamps: identical bytes every time
        (bundle / folder / name).write_bytes(buffer.getvalue())


def load_public(public: Path) -> dict[str, Any]:
    """Inside the sandbox (probe or student code): the arrays of public/digits.npz, no pickles."""
    import numpy as np

    with np.load(public / PUBLIC_FILE, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def load_hidden_labels(bundle: Path) -> Any:
    """Outside, in a check: the held-out labels."""
    import numpy as np

    with np.load(bundle / "hidden" / HIDDEN_FILE, allow_pickle=False) as archive:
        return archive["test_y"]
