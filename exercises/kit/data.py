"""Deterministic data that a probe (inside) and a check (outside) can both rebuild from a seed.

A probe feeds the student's code inputs made here; the check regenerates the very same inputs to know
what the answer must be, so expected values never come from anything the sandbox wrote. numpy's
`Generator(PCG64)` streams are stable for a given numpy version, and both sides run the same one.
"""

from __future__ import annotations

import zlib
from typing import Any


def seed_from(*parts: object) -> int:
    """A stable 32-bit seed from names, e.g. `seed_from("cube", "round-trip")` (not Python's hash())."""
    return zlib.crc32("\x1f".join(str(part) for part in parts).encode())


def seeded_array(shape: tuple[int, ...], dtype: str, seed: int) -> Any:
    """A numpy array of `shape` and `dtype` (a numpy dtype name) filled from `seed`.

    Booleans are fair coin flips, integers lie in [-100, 100] clipped to the type's range, floats are
    standard normal values rounded to the dtype. Shape () gives a 0-d array, shape (0, n) an empty one.
    """
    import numpy as np

    kind = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    size = tuple(shape)
    if kind.kind == "b":
        return np.asarray(rng.random(size) < 0.5)
    if kind.kind in "iu":
        info = np.iinfo(kind)
        low, high = max(int(info.min), -100), min(int(info.max), 100)
        return np.asarray(rng.integers(low, high, size=size, dtype=kind, endpoint=True))
    if kind.kind == "f":
        return np.asarray(rng.standard_normal(size)).astype(kind)
    raise ValueError(f"seeded_array: unsupported dtype {dtype!r}")
