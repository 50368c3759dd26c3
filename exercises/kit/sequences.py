"""Token sequences of variable length with a learnable label, padded with 0.

Tokens are integers in 1..VOCAB_SIZE-1; 0 is the padding token (`PAD`). Tokens 1, 2 and 3 are
*markers*; 4 and up are noise. Every sequence holds one to four markers at random places, and its label
is the marker that appears **last** (`label = marker - 1`, so 0, 1 or 2): to get it right a model has
to read the sequence up to its true end, remembering the latest marker and ignoring the noise.

    data = make_sequences(200, seed=1)
    data.tokens    # (200, max_len) int64, row i = the sequence, then zeros up to max_len
    data.lengths   # (200,) int64 in min_len..max_len
    data.labels    # (200,) int64 in 0..2

`pad(sequences, length)` pads a list of 1-D integer arrays to one width; `label_of(sequence)` is the
rule. A pure function of its arguments, so a probe and a check can both rebuild the same batch.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

PAD = 0
VOCAB_SIZE = 20
MARKERS = (1, 2, 3)
NUM_CLASSES = len(MARKERS)
MIN_LEN = 4
MAX_LEN = 40


@dataclass(frozen=True)
class SequenceData:
    tokens: Any  # (n, max_len) int64, padded with PAD after each sequence
    lengths: Any  # (n,) int64
    labels: Any  # (n,) int64


def label_of(sequence: Any) -> int:
    """The class of one unpadded sequence: the last marker it contains, minus one."""
    for token in reversed([int(t) for t in sequence]):
        if token in MARKERS:
            return token - 1
    raise ValueError("label_of: the sequence holds no marker")


def make_sequences(
    n: int, seed: int, *, min_len: int = MIN_LEN, max_len: int = MAX_LEN, width: int | None = None
) -> SequenceData:
    """`n` labelled sequences with lengths in [min_len, max_len], padded to `width` (default max_len)."""
    import numpy as np

    if not 1 <= min_len <= max_len:
        raise ValueError("make_sequences: need 1 <= min_len <= max_len")
    width = max_len if width is None else width
    if width < max_len:
        raise ValueError("make_sequences: width must be at least max_len")
    rng = np.random.default_rng(seed)
    tokens = np.zeros((n, width), dtype=np.int64)
    lengths = np.empty(n, dtype=np.int64)
    labels = np.empty(n, dtype=np.int64)
    for index in range(n):
        length = int(rng.integers(min_len, max_len + 1))
        sequence = rng.integers(len(MARKERS) + 1, VOCAB_SIZE, size=length)
        count = int(rng.integers(1, min(4, length) + 1))
        places = rng.choice(length, size=count, replace=False)
        sequence[places] = rng.integers(1, len(MARKERS) + 1, size=count)
        tokens[index, :length] = sequence
        lengths[index] = length
        labels[index] = label_of(sequence)
    return SequenceData(tokens, lengths, labels)


def pad(sequences: list[Any], width: int | None = None) -> Any:
    """A (len(sequences), width) int64 array: each 1-D sequence followed by PAD (width: the longest)."""
    import numpy as np

    longest = max((len(sequence) for sequence in sequences), default=0)
    width = longest if width is None else width
    if width < longest:
        raise ValueError("pad: width is shorter than the longest sequence")
    out = np.full((len(sequences), width), PAD, dtype=np.int64)
    for row, sequence in enumerate(sequences):
        out[row, : len(sequence)] = np.asarray(sequence, dtype=np.int64)
    return out


def npz_bytes(**arrays: Any) -> bytes:
    """Arrays as uncompressed .npz bytes (no pickle, byte-stable)."""
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
