"""The check side reads a folder the student's code could write: every trick there is "absent", never obeyed.

Given a tiny bundle whose checks pass only on the right observation (42) and the right array ([1, 2, 3]),
when the out folder is tampered with (symlinks, FIFOs, hard links, oversize or malformed files, pickles),
then the affected check fails, run_check returns normally, and nothing in the files is executed.
"""

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from exercises.kit.check import run_check
from exercises.kit.observations import (
    MAX_ARRAY_BYTES,
    MAX_OBSERVATIONS_BYTES,
    load_array,
    load_json,
    open_directory,
    parse_json,
    parse_npy,
)

CHECK_PY = """
from exercises.kit.check import Check

CHECKS = [
    Check("value", zh="值", en="value", points=1),
    Check("array", zh="数组", en="array", points=1),
]


def check(ctx):
    if ctx.observed("value") == 42:
        yield ctx.passed("value")
    else:
        yield ctx.failed("value", zh="不对", en="wrong")
    data = ctx.array("data")
    if data is not None and data.tolist() == [1, 2, 3]:
        yield ctx.passed("array")
    else:
        yield ctx.failed("array", zh="缺少", en="missing")
"""


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "check.py").write_text(CHECK_PY)
    return folder


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A well-formed out folder that passes both checks; each test then breaks one thing."""
    folder = tmp_path / "out"
    (folder / "arrays").mkdir(parents=True)
    (folder / "observations.json").write_text(json.dumps({"value": 42}))
    np.save(folder / "arrays" / "data.npy", np.array([1, 2, 3]), allow_pickle=False)
    return folder


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """Good-looking files outside the out folder, for links to point at."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "observations.json").write_text(json.dumps({"value": 42}))
    np.save(folder / "data.npy", np.array([1, 2, 3]), allow_pickle=False)
    return folder


def passed(bundle: Path, out: Path) -> dict[str, bool]:
    report = run_check(bundle, out, "submit")
    return {check["key"]: check["passed"] for check in report["checks"]}


def test_baseline_good_files_pass(bundle: Path, out: Path) -> None:
    assert passed(bundle, out) == {"value": True, "array": True}


def test_observations_symlink_is_refused(bundle: Path, out: Path, elsewhere: Path) -> None:
    (out / "observations.json").unlink()
    (out / "observations.json").symlink_to(elsewhere / "observations.json")
    assert passed(bundle, out)["value"] is False


def test_array_symlink_is_refused(bundle: Path, out: Path, elsewhere: Path) -> None:
    (out / "arrays" / "data.npy").unlink()
    (out / "arrays" / "data.npy").symlink_to(elsewhere / "data.npy")
    assert passed(bundle, out)["array"] is False


def test_symlinked_arrays_folder_is_refused(bundle: Path, out: Path, elsewhere: Path) -> None:
    """`out/arrays -> /somewhere` would otherwise let a relative open read the grader's files."""
    for path in (out / "arrays").iterdir():
        path.unlink()
    (out / "arrays").rmdir()
    (out / "arrays").symlink_to(elsewhere)
    assert passed(bundle, out)["array"] is False


def test_symlinked_out_folder_is_refused(bundle: Path, out: Path, tmp_path: Path) -> None:
    link = tmp_path / "out-link"
    link.symlink_to(out)
    assert passed(bundle, link) == {"value": False, "array": False}


@pytest.mark.timeout(20)
def test_fifo_is_refused_without_blocking(bundle: Path, out: Path) -> None:
    (out / "observations.json").unlink()
    os.mkfifo(out / "observations.json")  # opening it for reading without O_NONBLOCK would hang forever
    (out / "arrays" / "data.npy").unlink()
    os.mkfifo(out / "arrays" / "data.npy")
    assert passed(bundle, out) == {"value": False, "array": False}


def test_hard_links_are_refused(bundle: Path, out: Path, elsewhere: Path) -> None:
    (out / "observations.json").unlink()
    os.link(elsewhere / "observations.json", out / "observations.json")
    (out / "arrays" / "data.npy").unlink()
    os.link(elsewhere / "data.npy", out / "arrays" / "data.npy")
    assert passed(bundle, out) == {"value": False, "array": False}


def test_directory_in_place_of_a_file_is_refused(bundle: Path, out: Path) -> None:
    (out / "observations.json").unlink()
    (out / "observations.json").mkdir()
    assert passed(bundle, out)["value"] is False


def test_oversize_observations_are_refused(bundle: Path, out: Path) -> None:
    padding = "x" * MAX_OBSERVATIONS_BYTES
    (out / "observations.json").write_text(json.dumps({"value": 42, "padding": padding}))
    assert passed(bundle, out)["value"] is False


def test_oversize_array_is_refused_before_reading(bundle: Path, out: Path) -> None:
    path = out / "arrays" / "data.npy"
    with path.open("r+b") as stream:  # a sparse file: big on paper, nothing to read
        stream.truncate(MAX_ARRAY_BYTES + 1)
    assert passed(bundle, out)["array"] is False


@pytest.mark.parametrize(
    "content",
    [
        b'{"value": 42',  # truncated
        b'{"value": NaN}',
        b'{"value": Infinity}',
        b'{"value": 1e999}',  # overflows to infinity
        b"[42]",  # not an object
        b'{"value": "\xff"}',  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # deep enough to exhaust recursion
        b'{"value": ' + b"9" * 5000 + b"}",  # more digits than int() accepts
        b"",
    ],
    ids=["truncated", "nan", "infinity", "overflow", "list", "latin1", "deep", "huge-int", "empty"],
)
def test_malformed_observations_are_absent(bundle: Path, out: Path, content: bytes) -> None:
    (out / "observations.json").write_bytes(content)
    report = run_check(bundle, out, "submit")
    assert [check["passed"] for check in report["checks"]] == [False, True]


class PlantsAFile:
    """Unpickling this object creates the file `path`: proof that a loader ran the pickle."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple:
        return (open, (self.path, "w"))


def test_pickle_bearing_npy_is_never_unpickled(bundle: Path, out: Path, tmp_path: Path) -> None:
    planted, control = tmp_path / "planted-by-check", tmp_path / "planted-by-np-load"
    evil = np.empty(3, dtype=object)
    evil[:] = [PlantsAFile(planted), 2, 3]
    np.save(out / "arrays" / "data.npy", evil, allow_pickle=True)

    # The payload is real: numpy with allow_pickle=True runs it.
    control_copy = tmp_path / "control.npy"
    evil[0] = PlantsAFile(control)
    np.save(control_copy, evil, allow_pickle=True)
    np.load(control_copy, allow_pickle=True)  # demonstrating the attack on purpose
    assert control.exists()

    assert passed(bundle, out)["array"] is False
    assert not planted.exists()


def test_pickle_behind_a_numeric_header_is_refused(bundle: Path, out: Path, tmp_path: Path) -> None:
    """A float header followed by pickle bytes: the length does not match, so the data is never touched."""
    planted = tmp_path / "planted"
    path = out / "arrays" / "data.npy"
    header = path.read_bytes()[:128]
    path.write_bytes(header + pickle.dumps(PlantsAFile(planted)))
    assert passed(bundle, out)["array"] is False
    assert not planted.exists()


def _npy_with_header(header: dict, data: bytes = b"") -> bytes:
    text = repr(header).encode("latin1")
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


@pytest.mark.parametrize(
    "content",
    [
        _npy_with_header({"descr": "<f8", "fortran_order": False, "shape": (10**12,)}, b"\0" * 8),
        _npy_with_header({"descr": "<i8", "fortran_order": False, "shape": (4,)}, b"\0" * 24),
        _npy_with_header({"descr": "|O", "fortran_order": False, "shape": (1,)}, b"\0" * 8),
        _npy_with_header({"descr": [("a", "<i4")], "fortran_order": False, "shape": (1,)}, b"\0" * 4),
        _npy_with_header({"descr": "<U3", "fortran_order": False, "shape": (1,)}, b"\0" * 12),
        _npy_with_header({"descr": "<i8", "fortran_order": False, "shape": (-1,)}, b""),
        b"\x93NUMPY\x03\x00" + b"\0" * 64,
        b"not an npy file at all",
    ],
    ids=["huge-shape", "short-data", "object", "structured", "unicode", "negative", "v3", "garbage"],
)
def test_hostile_npy_headers_are_refused(bundle: Path, out: Path, content: bytes) -> None:
    (out / "arrays" / "data.npy").write_bytes(content)
    assert passed(bundle, out)["array"] is False


def test_npy_versions_and_orders_that_numpy_writes_are_read(tmp_path: Path) -> None:
    from numpy.lib import format as npy

    array = np.arange(6, dtype=">f4").reshape(2, 3, order="F")
    for version in ((1, 0), (2, 0)):
        path = tmp_path / f"a{version[0]}.npy"
        with path.open("wb") as stream:
            npy.write_array(stream, array, version=version, allow_pickle=False)
        loaded = parse_npy(path.read_bytes())
        assert loaded.dtype == array.dtype
        assert np.array_equal(loaded, array)
    for array in (np.array(True), np.zeros((0, 5), dtype=np.float16), np.array([1 + 2j])):
        path = tmp_path / "b.npy"
        np.save(path, array, allow_pickle=False)
        assert np.array_equal(parse_npy(path.read_bytes()), array)


def test_error_json_tricks_give_no_solution_error(bundle: Path, out: Path, elsewhere: Path) -> None:
    error = {"kind": "solution_error", "traceback": "Traceback...\nValueError: x"}
    (out / "error.json").write_text(json.dumps(error))
    assert run_check(bundle, out, "submit")["solution_error"].endswith("ValueError: x")

    (out / "error.json").write_text(json.dumps({**error, "traceback": "x" * (64 << 10)}))
    assert run_check(bundle, out, "submit")["solution_error"] is None  # oversize

    (elsewhere / "error.json").write_text(json.dumps(error))
    (out / "error.json").unlink()
    (out / "error.json").symlink_to(elsewhere / "error.json")
    assert run_check(bundle, out, "submit")["solution_error"] is None

    (out / "error.json").unlink()
    (out / "error.json").write_text(json.dumps({"kind": "solution_error", "traceback": ["not", "text"]}))
    report = run_check(bundle, out, "submit")
    assert report["solution_error"] is None
    assert report["gpu_oom"] is False


def test_missing_out_folder_fails_every_check(bundle: Path, tmp_path: Path) -> None:
    report = run_check(bundle, tmp_path / "never-created", "submit")
    assert [check["passed"] for check in report["checks"]] == [False, False]
    assert report["solution_error"] is None


def test_loaders_return_none_rather_than_raise(tmp_path: Path) -> None:
    fd = open_directory(tmp_path)
    assert fd is not None
    try:
        assert load_json("missing.json", dir_fd=fd, max_bytes=100) is None
        assert load_json("../escape.json", dir_fd=fd, max_bytes=100) is None
        assert load_array("missing.npy", dir_fd=fd) is None
    finally:
        os.close(fd)
    assert load_json("x.json", dir_fd=None, max_bytes=100) is None
    with pytest.raises(ValueError):
        parse_json(b'{"a": NaN}')
