"""TensorBoard event files, parsed on the trusted side from bytes that the kit's safe loaders read.

A trial whose student code writes TensorBoard logs has its probe copy the event files into the out
folder (as uint8 arrays, `ctx.save_array`), and its check parses them here, outside the sandbox. The
check never opens a path the student's code chose: the bytes come through `read_regular_file` (regular
files only, no symlinks, size-capped), either directly (`load_event_file`) or inside a saved array
(`event_file_from_array`, which `ctx.array` loaded with the same guarantees).

An event file (`events.out.tfevents.*`) is a TFRecord stream. Each record is

    uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data

and each data block is a serialized `Event` protocol buffer (TensorBoard's own `event_pb2`, parsed with
protobuf, which bounds nesting; the checksum is TensorBoard's `masked_crc32c`). The first event of a file
written by `SummaryWriter` carries `file_version` ("brain.Event:2"); scalars are `summary.value` entries
with either `simple_value` (what `add_scalar` writes) or a one-element float tensor (`new_style=True`).

Anything unexpected makes the whole file *malformed*: an oversize file, a truncated or trailing
partial record, a bad checksum, a record that is not an Event, more than `MAX_RECORDS` records. The
`read_*`/`load_*` helpers then return None, so a check treats the file as missing; a tensor value is
only ever decoded when its shape says it holds exactly one number, so no header can make us allocate
more than the file holds.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from exercises.kit.observations import UnsafeFile, read_regular_file

MAX_EVENT_FILE_BYTES = 4 << 20  # 4 MiB; CRC-32C in pure Python reads about 4 MiB a second
MAX_RECORDS = 100_000
MAX_RECORD_BYTES = 1 << 20

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_DT_FLOAT, _DT_DOUBLE, _DT_HALF = 1, 2, 19


class MalformedEventFile(ValueError):
    """The bytes are not a complete, intact TensorBoard event file."""


@dataclass(frozen=True)
class Scalar:
    """One scalar point: `writer.add_scalar(tag, value, step)` written at `wall_time`."""

    tag: str
    step: int
    value: float
    wall_time: float


@dataclass(frozen=True)
class EventFile:
    """What a parsed event file holds: its version marker, every scalar in file order, a record count."""

    records: int
    file_version: str | None = None
    scalars: list[Scalar] = field(default_factory=list)
    other_values: int = 0  # summary values that are not scalars (images, histograms, text, …)

    def tags(self) -> list[str]:
        """Scalar tags in order of first appearance."""
        return list(dict.fromkeys(scalar.tag for scalar in self.scalars))

    def series(self, tag: str) -> list[Scalar]:
        """The points of one tag, in file order."""
        return [scalar for scalar in self.scalars if scalar.tag == tag]


def _masked_crc32c(data: bytes) -> int:
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    return int(masked_crc32c(data))


def _records(data: bytes) -> list[bytes]:
    """The data blocks of a TFRecord stream, every checksum verified."""
    records: list[bytes] = []
    offset = 0
    while offset < len(data):
        if len(records) >= MAX_RECORDS:
            raise MalformedEventFile(f"more than {MAX_RECORDS} records")
        if len(data) - offset < _HEADER.size:
            raise MalformedEventFile(f"a partial record header at byte {offset}")
        length, length_crc = _HEADER.unpack_from(data, offset)
        if _masked_crc32c(data[offset : offset + 8]) != length_crc:
            raise MalformedEventFile(f"bad length checksum at byte {offset}")
        if length > MAX_RECORD_BYTES:
            raise MalformedEventFile(f"a record of {length} bytes at byte {offset}")
        start = offset + _HEADER.size
        end = start + length
        if end + _FOOTER.size > len(data):
            raise MalformedEventFile(f"a truncated record at byte {offset}")
        block = data[start:end]
        (block_crc,) = _FOOTER.unpack_from(data, end)
        if _masked_crc32c(block) != block_crc:
            raise MalformedEventFile(f"bad data checksum at byte {offset}")
        records.append(block)
        offset = end + _FOOTER.size
    return records


def _tensor_scalar(tensor: Any) -> float | None:
    """The number in a one-element float tensor proto, or None for anything else."""
    dims = [dim.size for dim in tensor.tensor_shape.dim]
    if any(size != 1 for size in dims):  # a scalar has no dims; [1] or [1, 1] also hold one number
        return None
    if tensor.dtype == _DT_FLOAT:
        if len(tensor.float_val) == 1:
            return float(tensor.float_val[0])
        if len(tensor.tensor_content) == 4:
            return float(struct.unpack("<f", tensor.tensor_content)[0])
    elif tensor.dtype == _DT_DOUBLE:
        if len(tensor.double_val) == 1:
            return float(tensor.double_val[0])
        if len(tensor.tensor_content) == 8:
            return float(struct.unpack("<d", tensor.tensor_content)[0])
    elif tensor.dtype == _DT_HALF:
        if len(tensor.half_val) == 1:
            return float(struct.unpack("<e", struct.pack("<H", tensor.half_val[0] & 0xFFFF))[0])
        if len(tensor.tensor_content) == 2:
            return float(struct.unpack("<e", tensor.tensor_content)[0])
    return None


def parse_event_file(data: bytes, *, max_bytes: int = MAX_EVENT_FILE_BYTES) -> EventFile:
    """Parse the bytes of one event file, or raise MalformedEventFile."""
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto import event_pb2

    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedEventFile("not bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise MalformedEventFile(f"{len(data)} bytes, over the {max_bytes} byte cap")
    blocks = _records(data)
    file_version: str | None = None
    scalars: list[Scalar] = []
    other = 0
    for block in blocks:
        try:
            event = event_pb2.Event.FromString(block)
        except (DecodeError, RuntimeError, ValueError) as error:  # RuntimeError: nesting too deep
            raise MalformedEventFile(f"a record that is not an Event: {error}") from error
        kind = event.WhichOneof("what")
        if kind == "file_version":
            file_version = file_version or event.file_version
        elif kind == "summary":
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    number: float | None = float(value.simple_value)
                elif value.HasField("tensor"):
                    number = _tensor_scalar(value.tensor)
                else:
                    number = None
                if number is None:
                    other += 1
                else:
                    scalars.append(Scalar(value.tag, int(event.step), number, float(event.wall_time)))
    return EventFile(records=len(blocks), file_version=file_version, scalars=scalars, other_values=other)


def read_event_file(data: Any, *, max_bytes: int = MAX_EVENT_FILE_BYTES) -> EventFile | None:
    """`parse_event_file`, or None when the bytes are malformed or oversize (the file counts as missing)."""
    try:
        return parse_event_file(data, max_bytes=max_bytes)
    except MalformedEventFile:
        return None


def load_event_file(
    name: str, *, dir_fd: int | None, max_bytes: int = MAX_EVENT_FILE_BYTES
) -> EventFile | None:
    """The event file `name` in the directory `dir_fd`, read safely (no symlinks, regular file, capped)."""
    if dir_fd is None:
        return None
    try:
        data = read_regular_file(name, dir_fd=dir_fd, max_bytes=max_bytes)
    except (OSError, UnsafeFile):
        return None
    return read_event_file(data, max_bytes=max_bytes)


def event_file_from_array(array: Any, *, max_bytes: int = MAX_EVENT_FILE_BYTES) -> EventFile | None:
    """An event file the probe saved with `ctx.save_array` as a 1-D uint8 array (loaded by `ctx.array`)."""
    if array is None or getattr(array, "dtype", None) is None:
        return None
    if array.dtype.kind != "u" or array.dtype.itemsize != 1 or array.ndim != 1 or array.size > max_bytes:
        return None
    return read_event_file(array.tobytes(), max_bytes=max_bytes)
