"""The kit's synthetic data for realm 3: shapes in a quadrant, token sequences, odd-format record files.

Each generator is a pure function of its seed (a probe inside the sandbox and a check outside must
rebuild the same data), returns the documented shapes and dtypes, and keeps its promises (the object
lies in its quadrant and box, a label follows its rule, a record file round-trips).
"""

from pathlib import Path

import numpy as np
import pytest

from exercises.kit import oddfiles, sequences, shapes


def test_shapes_are_deterministic_and_well_formed() -> None:
    first, second = shapes.make_shapes(24, seed=5), shapes.make_shapes(24, seed=5)
    for name in ("images", "labels", "quadrants", "boxes", "masks"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name
    assert not np.array_equal(first.images, shapes.make_shapes(24, seed=6).images)
    assert first.images.shape == (24, 64, 64, 3) and first.images.dtype == np.uint8
    assert first.labels.dtype == np.int64 and set(first.labels.tolist()) <= {0, 1, 2}
    assert first.boxes.shape == (24, 4) and first.masks.shape == (24, 64, 64)
    for index in range(24):
        top, left, bottom, right = first.boxes[index]
        rows, cols = np.nonzero(first.masks[index])
        assert (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1) == (top, left, bottom, right)
        quadrant = first.quadrants[index]
        half = 32
        assert (top >= half) == (quadrant >= 2) and (bottom <= half) == (quadrant < 2)
        assert (left >= half) == (quadrant % 2 == 1) and (right <= half) == (quadrant % 2 == 0)
        # The object is brighter than the background around it.
        image = first.images[index].astype(float).max(axis=2)
        assert image[first.masks[index]].mean() > image[~first.masks[index]].mean() + 100


def test_shapes_other_sizes() -> None:
    data = shapes.make_shapes(4, seed=1, size=32)
    assert data.images.shape == (4, 32, 32, 3)
    with pytest.raises(ValueError):
        shapes.make_shapes(1, seed=1, size=16)


def test_the_reference_cnn_trains_deterministically_and_round_trips(tmp_path: Path) -> None:
    import torch

    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = shapes.train_reference_cnn(3, n=64, epochs=1)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's RNG is left alone
    second = shapes.train_reference_cnn(3, n=64, epochs=1)
    # Both trainings ran in this process on this processor, so their bytes must match; never compare
    # against weights trained on another machine this way (see tests/kit/test_generated_data.py).
    assert shapes.cnn_weights_bytes(first) == shapes.cnn_weights_bytes(second)
    assert not first.training
    path = tmp_path / shapes.WEIGHTS_FILE
    path.write_bytes(shapes.cnn_weights_bytes(first))
    loaded = shapes.load_reference_cnn(path)
    batch = shapes.to_tensor(shapes.make_shapes(5, seed=9).images)
    assert batch.shape == (5, 3, 64, 64) and float(batch.max()) <= 1.0
    with torch.no_grad():
        assert torch.equal(first(batch), loaded(batch))
        assert loaded(batch).shape == (5, 3)
    assert shapes.ShapesCNN is type(loaded)


def test_sequences_are_deterministic_and_follow_their_rule() -> None:
    data = sequences.make_sequences(300, seed=4)
    again = sequences.make_sequences(300, seed=4)
    assert np.array_equal(data.tokens, again.tokens) and np.array_equal(data.labels, again.labels)
    assert data.tokens.shape == (300, sequences.MAX_LEN) and data.tokens.dtype == np.int64
    assert data.lengths.min() >= sequences.MIN_LEN and data.lengths.max() <= sequences.MAX_LEN
    assert set(data.labels.tolist()) == {0, 1, 2}
    for row, length, label in zip(data.tokens, data.lengths, data.labels, strict=True):
        assert (row[:length] != sequences.PAD).all() and (row[length:] == sequences.PAD).all()
        assert sequences.label_of(row[:length]) == label
        assert row.max() < sequences.VOCAB_SIZE
    wide = sequences.make_sequences(3, seed=4, width=50)
    assert wide.tokens.shape == (3, 50)


def test_pad_and_label_of() -> None:
    padded = sequences.pad([[5, 1], [2, 6, 7]])
    assert padded.tolist() == [[5, 1, 0], [2, 6, 7]]
    assert sequences.pad([[4]], width=3).tolist() == [[4, 0, 0]]
    assert sequences.label_of([3, 9, 1, 8]) == 0
    with pytest.raises(ValueError):
        sequences.label_of([7, 8])


def test_record_files_round_trip_and_the_folder_is_deterministic(tmp_path: Path) -> None:
    values = np.array([0.5, -1.25, 3.0], dtype=np.float32)
    data = oddfiles.encode_record(values, 2)
    assert data[:4] == b"HSR1" and len(data) == 8 + 12
    decoded, label = oddfiles.decode_record(data)
    assert label == 2 and decoded.dtype == np.float32 and np.array_equal(decoded, values)
    with pytest.raises(ValueError):
        oddfiles.decode_record(b"NOPE" + data[4:])
    with pytest.raises(ValueError):
        oddfiles.decode_record(data[:-1])

    records = oddfiles.write_record_folder(tmp_path / "a", n=12, seed=3)
    oddfiles.write_record_folder(tmp_path / "b", n=12, seed=3)
    names = [name for name, _, _ in records]
    assert names == sorted(names) and len(set(names)) == 12
    on_disk = sorted(path.name for path in (tmp_path / "a").glob("*.rec"))
    assert on_disk == names
    assert (tmp_path / "a" / "README.txt").is_file() and (tmp_path / "a" / "archive").is_dir()
    for name, values, label in records:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        read, read_label = oddfiles.read_record(tmp_path / "a" / name)
        assert np.array_equal(read, values) and read_label == label
        assert oddfiles.MIN_COUNT <= len(values) <= oddfiles.MAX_COUNT
    assert [r[0] for r in oddfiles.make_records(12, seed=3)] == names
