"""Held-out inputs no one can look up: the digits' held-out split, transformed afresh for every job.

scikit-learn's digits are public, so a submission could carry a small table of the held-out rows'
labels and look each row up by its pixels instead of classifying it. A trial that scores held-out
digits therefore opts in with `hidden/heldout.toml`; for each job the grader draws a secret seed that
never enters the sandbox and, while staging, rewrites the staged `public/digits.npz` so that its
`test_x` is the held-out split shuffled into a new order, each image moved by a sub-pixel shift,
its ink scaled and its pixels given a little noise (every value differs from the published one, so no
table keyed by pixels matches). The check gets the same seed and computes the labels in that order
outside the sandbox (`job_labels`). The transformations keep each image's class and are mild enough
that a model trained on the public training split classifies them as well as the originals, within a
point or two.

`hidden/heldout.toml` (every key optional)::

    shift = 0.15   # the largest shift in pixels, along each axis (bilinear, zero outside the image)
    gain = 0.1     # the ink is multiplied by a factor in [1 - gain, 1 + gain]
    noise = 0.03   # the standard deviation of the Gaussian noise added to each pixel, before clipping

Without a job seed (a check run by hand, or a grader that does not stage per job) a trial that opted in
cannot be scored: `job_labels` raises `NoJobSeed`, so the check that asked fails and the kit records an
internal error; it never passes.
"""

from __future__ import annotations

import io
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exercises.kit.digits import HIDDEN_FILE, PUBLIC_FILE

SPEC_FILE = "heldout.toml"
SIDE = 8  # the digits are 8×8
MAX_SEED_BITS = 256


class NoJobSeed(RuntimeError):
    """A trial that scores per-job held-out inputs was checked without the job's seed."""


@dataclass(frozen=True)
class HeldOutSpec:
    shift: float = 0.15
    gain: float = 0.1
    noise: float = 0.03


def write_spec(bundle: Path, spec: HeldOutSpec | None = None) -> None:
    """A trial's generate.py opts in: writes `hidden/heldout.toml` (the default transformation)."""
    spec = spec or HeldOutSpec()
    folder = Path(bundle) / "hidden"
    folder.mkdir(exist_ok=True)
    text = (
        "# Per-job held-out inputs (exercises/kit/heldout.py). Generated: python -m exercises.kit.generate\n"
        f"shift = {spec.shift!r}\ngain = {spec.gain!r}\nnoise = {spec.noise!r}\n"
    )
    (folder / SPEC_FILE).write_text(text, encoding="utf-8")


def spec_of(bundle: Path) -> HeldOutSpec | None:
    """The bundle's held-out transformation, or None when the trial does not use one."""
    path = Path(bundle) / "hidden" / SPEC_FILE
    if not path.is_file():
        return None
    values = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(values) - {"shift", "gain", "noise"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    return HeldOutSpec(**{key: float(value) for key, value in values.items()})


def _generator(seed: int) -> Any:
    import numpy as np

    if not isinstance(seed, int) or seed < 0 or seed.bit_length() > MAX_SEED_BITS:
        raise ValueError("a job seed is a non-negative integer of at most 256 bits")
    return np.random.default_rng(seed)


def _order(count: int, seed: int) -> Any:
    return _generator(seed).permutation(count)


def _shifted(images: Any, dx: Any, dy: Any) -> Any:
    """Each 8×8 image moved by (dx, dy) pixels, bilinear, zero outside the image."""
    import numpy as np

    count = len(images)
    padded = np.zeros((count, SIDE + 2, SIDE + 2), dtype=np.float64)
    padded[:, 1:-1, 1:-1] = images.reshape(count, SIDE, SIDE)
    grid = np.arange(SIDE, dtype=np.float64)
    # The pixel at (row, col) of the result samples the source at (row - dy, col - dx), +1 for the pad.
    rows = np.clip(grid[None, :] - dy[:, None] + 1.0, 0.0, SIDE + 1.0)  # (count, 8)
    cols = np.clip(grid[None, :] - dx[:, None] + 1.0, 0.0, SIDE + 1.0)
    r0 = np.minimum(np.floor(rows).astype(np.int64), SIDE)
    c0 = np.minimum(np.floor(cols).astype(np.int64), SIDE)
    fr, fc = rows - r0, cols - c0
    index = np.arange(count)[:, None, None]

    def at(r: Any, c: Any) -> Any:
        return padded[index, r[:, :, None], c[:, None, :]]

    top = at(r0, c0) * (1 - fc[:, None, :]) + at(r0, c0 + 1) * fc[:, None, :]
    bottom = at(r0 + 1, c0) * (1 - fc[:, None, :]) + at(r0 + 1, c0 + 1) * fc[:, None, :]
    moved = top * (1 - fr[:, :, None]) + bottom * fr[:, :, None]
    return moved.reshape(count, SIDE * SIDE)


def transform(test_x: Any, seed: int, spec: HeldOutSpec) -> Any:
    """The held-out images this job sees, in the job's order (float32, values in [0, 1])."""
    import numpy as np

    images = np.asarray(test_x, dtype=np.float64)
    count = len(images)
    rng = _generator(seed)
    order = rng.permutation(count)  # the same first draw as `_order`
    images = images[order]
    dx = rng.uniform(-spec.shift, spec.shift, count)
    dy = rng.uniform(-spec.shift, spec.shift, count)
    gain = rng.uniform(1.0 - spec.gain, 1.0 + spec.gain, count)
    noise = rng.normal(0.0, spec.noise, images.shape)
    moved = _shifted(images, dx, dy) * gain[:, None] + noise
    return np.clip(moved, 0.0, 1.0).astype(np.float32)


def stage(bundle: Path, public: Path, seed: int) -> bool:
    """Grader side, while staging a job: rewrite the staged `public/digits.npz` with this job's held-out
    inputs. Does nothing (returns False) for a trial without `hidden/heldout.toml`."""
    import numpy as np

    spec = spec_of(bundle)
    if spec is None:
        return False
    with np.load(Path(bundle) / "public" / PUBLIC_FILE, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["test_x"] = transform(arrays["test_x"], seed, spec)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    target = Path(public) / PUBLIC_FILE
    target.unlink(missing_ok=True)
    target.write_bytes(buffer.getvalue())
    return True


def job_labels(bundle: Path, seed: int | None) -> Any:
    """Check side: the held-out labels in the order the job saw its inputs.

    For a trial without `hidden/heldout.toml` these are the stored labels as they are."""
    import numpy as np

    with np.load(Path(bundle) / "hidden" / HIDDEN_FILE, allow_pickle=False) as archive:
        labels = archive["test_y"]
    if spec_of(bundle) is None:
        return labels
    if seed is None:
        raise NoJobSeed(f"{Path(bundle).name} scores per-job held-out inputs, and no job seed was given")
    return labels[_order(len(labels), seed)]
