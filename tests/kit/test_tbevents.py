"""TensorBoard event files are parsed outside the sandbox from safely read bytes (exercises.kit.tbevents).

Given event files written by torch's real SummaryWriter, when they are parsed, then the version marker,
tags, steps and values come back in file order; given files that are truncated, corrupted, oversize,
padded, not event files at all, symlinks or FIFOs, then they count as missing and nothing raises.
"""

import math
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from exercises.kit.tbevents import (
    MalformedEventFile,
    event_file_from_array,
    load_event_file,
    parse_event_file,
    read_event_file,
)


def write_log(folder: Path) -> Path:
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(folder)) as writer:
        for step in range(5):
            writer.add_scalar("loss/train", 1.0 / (step + 1), step)
        writer.add_scalar("loss/val", 0.25, 4, new_style=True)  # a one-element tensor, not simple_value
        writer.add_text("notes", "not a scalar", 0)
        writer.add_scalar("accuracy/val", float("nan"), 5)
    (path,) = folder.glob("events.out.tfevents.*")
    return path


def frame(data: bytes) -> bytes:
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


@pytest.fixture(scope="module")
def log_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_log(tmp_path_factory.mktemp("tb")).read_bytes()


def test_a_real_summary_writer_file_parses_in_order(log_bytes: bytes) -> None:
    events = parse_event_file(log_bytes)
    assert events.file_version == "brain.Event:2"
    assert events.tags() == ["loss/train", "loss/val", "accuracy/val"]
    assert [(s.step, round(s.value, 6)) for s in events.series("loss/train")] == [
        (0, 1.0), (1, 0.5), (2, 0.333333), (3, 0.25), (4, 0.2),
    ]  # fmt: skip
    assert [(s.step, s.value) for s in events.series("loss/val")] == [(4, 0.25)]
    assert math.isnan(events.series("accuracy/val")[0].value)
    assert events.other_values == 1  # the text summary
    assert all(s.wall_time > 0 for s in events.scalars)
    assert events.records == 1 + 5 + 1 + 1 + 1


def test_loading_through_a_directory_descriptor(tmp_path: Path, log_bytes: bytes) -> None:
    (tmp_path / "events.out.tfevents.1").write_bytes(log_bytes)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert load_event_file("events.out.tfevents.1", dir_fd=fd).tags()[0] == "loss/train"
        assert load_event_file("events.out.tfevents.1", dir_fd=fd, max_bytes=len(log_bytes) - 1) is None
        assert load_event_file("missing", dir_fd=fd) is None
        assert load_event_file("events.out.tfevents.1", dir_fd=None) is None
    finally:
        os.close(fd)


def test_symlinks_fifos_and_directories_are_missing(tmp_path: Path, log_bytes: bytes) -> None:
    target = tmp_path / "real"
    target.write_bytes(log_bytes)
    (tmp_path / "link").symlink_to(target)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in ("link", "fifo", "folder", "../real", ""):
            assert load_event_file(name, dir_fd=fd) is None, name
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[:-1], id="truncated-footer"),
        pytest.param(lambda data: data[:-20], id="truncated-record"),
        pytest.param(lambda data: data + b"\x00" * 5, id="partial-header"),
        pytest.param(lambda data: data[:30] + bytes([data[30] ^ 1]) + data[31:], id="flipped-data-bit"),
        pytest.param(lambda data: bytes([data[0] ^ 1]) + data[1:], id="flipped-length-bit"),
        pytest.param(lambda data: os.urandom(len(data)), id="random-bytes"),
        pytest.param(lambda data: frame(b"\xff\xff\xff\xff"), id="not-an-event"),
        pytest.param(lambda data: struct.pack("<Q", 1 << 40) + data[8:], id="huge-length"),
    ],
)
def test_damaged_files_are_malformed(log_bytes: bytes, damage) -> None:
    broken = damage(log_bytes)
    with pytest.raises(MalformedEventFile):
        parse_event_file(broken)
    assert read_event_file(broken) is None


def test_oversize_is_missing_and_empty_is_an_empty_file(log_bytes: bytes) -> None:
    assert read_event_file(log_bytes, max_bytes=len(log_bytes) - 1) is None
    assert read_event_file(b"").records == 0
    assert read_event_file("not bytes") is None


def test_a_tensor_claiming_a_huge_shape_is_not_decoded() -> None:
    from tensorboard.compat.proto import event_pb2

    event = event_pb2.Event(step=3, wall_time=1.0)
    value = event.summary.value.add(tag="loss/train")
    value.tensor.dtype = 1
    value.tensor.tensor_shape.dim.add(size=10**12)
    value.tensor.float_val.append(1.0)
    single = event.summary.value.add(tag="loss/val")
    single.tensor.dtype = 2
    single.tensor.double_val.append(0.5)
    parsed = parse_event_file(frame(event.SerializeToString()))
    assert parsed.other_values == 1
    assert [(s.tag, s.step, s.value) for s in parsed.scalars] == [("loss/val", 3, 0.5)]


def test_probe_saved_arrays(log_bytes: bytes) -> None:
    array = np.frombuffer(log_bytes, dtype=np.uint8)
    assert event_file_from_array(array).tags() == ["loss/train", "loss/val", "accuracy/val"]
    assert event_file_from_array(array.astype(np.int16)) is None
    assert event_file_from_array(array.reshape(1, -1)) is None
    assert event_file_from_array(array, max_bytes=10) is None
    assert event_file_from_array(None) is None
