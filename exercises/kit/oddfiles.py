"""A folder of odd-format files: one variable-length signal per binary `.rec` file.

The format (little-endian), documented in trial 3.3's statement:

    offset  size  field
    0       4     magic  b"HSR1"
    4       1     label  uint8 (0..NUM_CLASSES-1)
    5       1     flags  uint8, always 0 (reserved)
    6       2     count  uint16: how many values follow
    8       4*n   values float32

    from exercises.kit.oddfiles import write_record_folder, read_record
    records = write_record_folder(folder, n=40, seed=7)   # [(file name, values, label)] in name order
    values, label = read_record(folder / records[0][0])

Files are named `sample-<id>.rec` with random, zero-padded four-digit ids, so the order in which they
were written is not their name order; `write_record_folder(..., clutter=True)` also drops a
`README.txt` and an `archive/` subfolder in, which a dataset must skip. Each class has its own
frequency, so the signals are learnable. A pure function of (n, seed, ...), so a probe can write a
fresh folder and a check can rebuild exactly what it holds.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

MAGIC = b"HSR1"
HEADER = struct.Struct("<4sBBH")  # magic, label, flags, count: 8 bytes
SUFFIX = ".rec"
NUM_CLASSES = 4
MIN_COUNT = 1
MAX_COUNT = 60
README = "These .rec files hold one signal each; see the trial statement for the format.\n"


def encode_record(values: Any, label: int) -> bytes:
    """The bytes of one .rec file."""
    import numpy as np

    array = np.asarray(values, dtype="<f4").reshape(-1)
    if not 0 <= label < 256 or len(array) >= 1 << 16:
        raise ValueError("encode_record: label must fit in a byte and the count in 16 bits")
    return HEADER.pack(MAGIC, label, 0, len(array)) + array.tobytes()


def decode_record(data: bytes) -> tuple[Any, int]:
    """(float32 values, label) from the bytes of one .rec file; ValueError if malformed."""
    import numpy as np

    if len(data) < HEADER.size:
        raise ValueError("decode_record: shorter than the 8-byte header")
    magic, label, _flags, count = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ValueError(f"decode_record: bad magic {magic!r}")
    if len(data) != HEADER.size + 4 * count:
        raise ValueError("decode_record: the payload length does not match the header's count")
    return np.frombuffer(data, dtype="<f4", offset=HEADER.size, count=count).astype(np.float32), int(label)


def read_record(path: Path | str) -> tuple[Any, int]:
    return decode_record(Path(path).read_bytes())


def make_records(
    n: int, seed: int, *, min_count: int = MIN_COUNT, max_count: int = MAX_COUNT
) -> list[tuple[str, Any, int]]:
    """`n` records as (file name, float32 values, label), sorted by file name."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.choice(10_000, size=n, replace=False)
    records = []
    for identifier in ids:
        count = int(rng.integers(min_count, max_count + 1))
        label = int(rng.integers(0, NUM_CLASSES))
        phase = rng.uniform(0, 2 * np.pi)
        steps = np.arange(count)
        values = np.sin(phase + steps * (0.25 + 0.35 * label)) + rng.normal(0, 0.2, size=count)
        records.append((f"sample-{int(identifier):04d}{SUFFIX}", values.astype(np.float32), label))
    return sorted(records, key=lambda record: record[0])


def write_record_folder(
    folder: Path | str,
    n: int,
    seed: int,
    *,
    clutter: bool = True,
    min_count: int = MIN_COUNT,
    max_count: int = MAX_COUNT,
) -> list[tuple[str, Any, int]]:
    """Write `n` .rec files (in a scrambled order) into `folder`; returns `make_records(...)`."""
    import numpy as np

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    records = make_records(n, seed, min_count=min_count, max_count=max_count)
    order = np.random.default_rng(seed + 1).permutation(len(records))
    for index in order:
        name, values, label = records[int(index)]
        (folder / name).write_bytes(encode_record(values, label))
    if clutter:
        (folder / "README.txt").write_text(README, encoding="utf-8")
        (folder / "archive").mkdir(exist_ok=True)
        (folder / "archive" / "old-0000.rec").write_bytes(encode_record(np.zeros(3, np.float32), 0))
    return records
