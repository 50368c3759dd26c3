"""The out folder that a probe writes and a check reads, and the safe loaders for it.

Layout (the probe writes it inside the sandbox at /work/out; the grader reads it back after the whole
sandboxed process tree is dead):

    out/observations.json   one JSON object: observation key -> JSON value      (at most 1 MiB)
    out/error.json          {"kind": "solution_error"|"gpu_oom"|"probe_error",
                             "traceback": "..."}                                (at most 64 KiB)
    out/arrays/<key>.npy    numpy arrays saved without pickle                   (at most 64 MiB each)
    out/files/<name>        files the student's code produced that a boundary driver read back and
                            vouches for, for a verify step (an exported model)  (at most 16 MiB each)

Everything under out/ was writable by the student's code, so the loaders here treat it as hostile
(a security boundary, unit-tested in tests/kit/test_safe_loading.py):

- every path component under `out` is opened with O_NOFOLLOW (directories with O_DIRECTORY, files
  relative to their directory's descriptor), so a symlink anywhere, even `out/arrays -> /etc`, is
  refused rather than followed onto the grader's file system;
- files are opened O_NONBLOCK (a FIFO cannot hang the grader) and `fstat`ed: only regular files with a
  single link (no hard links to files elsewhere) and a size under the cap are read, and never more
  than the cap is read even if the file grows;
- JSON must be UTF-8; NaN, Infinity and numbers that overflow to infinity are refused;
- .npy files are parsed header first: only format 1.0/2.0, plain numeric or boolean dtypes (never
  object arrays, so never pickle), and a data length that matches the header exactly (a header cannot
  make us allocate more than the file holds). Nothing here ever unpickles or calls `torch.load`.

A file that is missing, unreadable, oversize, of the wrong type or malformed is *absent*: the loaders
return None and never raise, so the checks that needed it fail with "no observation".
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
from typing import Any

OBSERVATIONS_FILE = "observations.json"
ERROR_FILE = "error.json"
ARRAYS_DIR = "arrays"
ARTIFACTS_DIR = "artifacts"  # PNG images shown to the student (e.g. a Grad-CAM overlay)
FILES_DIR = "files"  # a boundary driver's copies of files the student's code wrote, for a verify step

MAX_OBSERVATIONS_BYTES = 1 << 20  # 1 MiB
MAX_ERROR_BYTES = 64 << 10  # 64 KiB
MAX_ARRAY_BYTES = 64 << 20  # 64 MiB, the whole .npy file
MAX_FILE_BYTES = 16 << 20  # 16 MiB, one file under out/files/
MAX_NPY_HEADER = 10_000  # numpy's own default limit for a header

# Observation keys are dotted names ("make.scalar"); array keys become file names, so they are stricter.
OBSERVATION_KEY = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,127}$")
ARRAY_KEY = re.compile(r"^[a-z0-9_]{1,64}$")
ARTIFACT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\.png$")
FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}(\.[a-z0-9]{1,8})?$")

# Error kinds in error.json
SOLUTION_ERROR = "solution_error"  # the student's code raised (at import, or around the probe's calls)
GPU_OOM = "gpu_oom"  # torch.cuda.OutOfMemoryError in the student's code
PROBE_ERROR = "probe_error"  # the trial's probe itself failed: ours, not the student's
ERROR_KINDS = (SOLUTION_ERROR, GPU_OOM, PROBE_ERROR)

# dtype kinds a check may receive: bool, signed, unsigned, float, complex. No objects, strings, voids.
NUMERIC_KINDS = frozenset("biufc")

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class UnsafeFile(Exception):
    """A file that is not a plain, single-link, small enough regular file."""


def open_directory(path: str | os.PathLike[str], *, dir_fd: int | None = None) -> int | None:
    """A descriptor for the directory `path` (not following a symlink there), or None."""
    try:
        return os.open(path, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None


def read_regular_file(name: str, *, dir_fd: int, max_bytes: int) -> bytes:
    """The bytes of the regular file `name` in the directory `dir_fd`, refusing anything unsafe.

    Raises OSError or UnsafeFile; callers turn both into "absent".
    """
    if "/" in name or name in ("", ".", ".."):
        raise UnsafeFile(f"{name!r} is not a plain file name")
    fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{name} is not a regular file")
        if info.st_nlink != 1:
            raise UnsafeFile(f"{name} has {info.st_nlink} hard links")
        if info.st_size > max_bytes:
            raise UnsafeFile(f"{name} is {info.st_size} bytes, over the {max_bytes} byte cap")
        chunks = []
        remaining = max_bytes + 1  # one byte more than allowed tells us it grew past the cap
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise UnsafeFile(f"{name} grew past the {max_bytes} byte cap")
        return data
    finally:
        os.close(fd)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"JSON constant {name} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"JSON number {text[:20]} overflows")
    return value


def parse_json(data: bytes) -> Any:
    """Strict JSON from bytes, or raise ValueError (also for NaN/Infinity, deep nesting, bad UTF-8)."""
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as error:
        raise ValueError("JSON nested too deeply") from error


def load_json(name: str, *, dir_fd: int | None, max_bytes: int) -> Any | None:
    """The JSON value in `name` (relative to `dir_fd`), or None if it is absent, unsafe or malformed."""
    if dir_fd is None:
        return None
    try:
        return parse_json(read_regular_file(name, dir_fd=dir_fd, max_bytes=max_bytes))
    except (OSError, UnsafeFile, ValueError):
        return None


def parse_npy(data: bytes) -> Any:
    """A numpy array from the bytes of a .npy file, or raise ValueError. Never unpickles.

    The header is read and validated before any data is touched: format 1.0 or 2.0, a numeric or
    boolean dtype without fields or objects, and exactly as many data bytes as the header promises.
    """
    import numpy as np  # imported here: the probe side reads only this module's constants
    from numpy.lib import format as npy

    stream = io.BytesIO(data)
    try:
        version = npy.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = npy.read_array_header_1_0(stream, max_header_size=MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, fortran_order, dtype = npy.read_array_header_2_0(stream, max_header_size=MAX_NPY_HEADER)
        else:
            raise ValueError(f"unsupported .npy format {version}")
    except (ValueError, TypeError, EOFError, SyntaxError) as error:
        raise ValueError(f"bad .npy header: {error}") from error
    if dtype.hasobject or dtype.kind not in NUMERIC_KINDS or dtype.fields or dtype.subdtype:
        raise ValueError(f"refused .npy dtype {dtype}")
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"bad .npy shape {shape!r}")
    count = math.prod(shape)
    offset = stream.tell()
    if count * dtype.itemsize != len(data) - offset:
        raise ValueError(".npy data length does not match its header")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return array.reshape(shape, order="F" if fortran_order else "C").copy()


def load_array(name: str, *, dir_fd: int | None, max_bytes: int = MAX_ARRAY_BYTES) -> Any | None:
    """The numpy array in the .npy file `name` (relative to `dir_fd`), or None if absent or unsafe."""
    if dir_fd is None:
        return None
    try:
        return parse_npy(read_regular_file(name, dir_fd=dir_fd, max_bytes=max_bytes))
    except (OSError, UnsafeFile, ValueError):
        return None
