"""The probe side in-process: value conversion, traceback trimming, the out folder, error records.

These run `run_probe` inside the test process with tiny solutions and probes; the `clean_modules`
fixture removes the modules it registers and restores sys.dont_write_bytecode. The full path in a subprocess is in test_tensor_basics.py.
"""

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from exercises.kit import report as report_module
from exercises.kit.probe import (
    FAILED,
    PROBE_MODULE,
    SOLUTION_MODULE,
    ProbeContext,
    describe_tensor,
    jsonable,
    run_probe,
    trim_traceback,
)


@pytest.fixture(autouse=True)
def clean_modules() -> Iterator[None]:
    bytecode = sys.dont_write_bytecode
    yield
    sys.dont_write_bytecode = bytecode
    sys.modules.pop(SOLUTION_MODULE, None)
    sys.modules.pop(PROBE_MODULE, None)


def stage(tmp_path: Path, solution: str, probe: str) -> Path:
    work = tmp_path / "work"
    (work / "out").mkdir(parents=True)
    (work / "solution.py").write_text(solution)
    (work / "probe.py").write_text(probe)
    return work


def read_out(work: Path) -> tuple[dict, dict | None]:
    observations = json.loads((work / "out" / "observations.json").read_text())
    error_path = work / "out" / "error.json"
    return observations, json.loads(error_path.read_text()) if error_path.exists() else None


# --- values ------------------------------------------------------------------------------------------


class HostileRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no")


class SneakyStr(str):
    def __str__(self) -> str:
        return "something else"


def test_jsonable_keeps_plain_values_and_tags_objects() -> None:
    assert jsonable({"a": (1, 2.5, None, True, "s")}) == {"a": [1, 2.5, None, True, "s"]}
    assert jsonable([math.nan, math.inf, -math.inf]) == ["nan", "inf", "-inf"]
    assert jsonable(torch.Size([2, 3])) == [2, 3]
    assert jsonable(torch.float32) == {"$type": "torch.dtype", "repr": "torch.float32"}
    assert jsonable(torch.device("cpu")) == {"$type": "torch.device", "repr": "device(type='cpu')"}
    assert jsonable(np.int64(7)) == 7 and type(jsonable(np.int64(7))) is int
    assert jsonable(np.float32(0.5)) == 0.5
    assert jsonable(np.bool_(True)) is True
    assert jsonable({1: "x"}) == {"1": "x"}
    assert jsonable(SneakyStr("plain")) == "plain" and type(jsonable(SneakyStr("plain"))) is str
    assert jsonable(HostileRepr()) == {
        "$type": f"{__name__}.HostileRepr",
        "repr": f"<{__name__}.HostileRepr object>",
    }


def test_jsonable_caps_what_could_blow_the_size_limit() -> None:
    assert len(jsonable("x" * 10_000)) == 4097
    assert jsonable(10**400)["$type"] == "int"
    assert jsonable(list(range(20_000)))["length"] == 20_000
    nested: list = []
    for _ in range(100):
        nested = [nested]
    json.dumps(jsonable(nested))  # tagged at depth 32, not a RecursionError


def test_describe_tensor() -> None:
    assert describe_tensor(torch.zeros(2, 3, dtype=torch.int64)) == {
        "type": "torch.Tensor",
        "shape": [2, 3],
        "dtype": "torch.int64",
        "device": "cpu",
        "requires_grad": False,
    }
    assert describe_tensor(np.zeros(2))["type"] == "numpy.ndarray"


def test_trim_traceback_keeps_only_the_students_frames(tmp_path: Path) -> None:
    solution = tmp_path / "solution.py"
    solution.write_text("def inner():\n    raise ValueError('bad value')\n\ndef outer():\n    inner()\n")
    namespace: dict = {}
    exec(compile(solution.read_text(), str(solution), "exec"), namespace)  # noqa: S102
    try:
        namespace["outer"]()
    except ValueError as error:
        text = trim_traceback(error, solution)
    assert text.startswith("Traceback (most recent call last):")
    assert f'File "{solution}", line 5, in outer' in text
    assert f'File "{solution}", line 2, in inner' in text
    assert __file__ not in text
    assert text.rstrip().endswith("ValueError: bad value")


# --- run_probe -------------------------------------------------------------------------------------


def test_observations_survive_a_failing_probe(tmp_path: Path) -> None:
    probe = "def probe(ctx):\n    ctx.observe('first', 1)\n    raise KeyError('probe bug')\n"
    work = stage(tmp_path, "X = 1\n", probe)
    assert run_probe(work, work / "out", "submit", "cpu") == 1
    observations, error = read_out(work)
    assert observations == {"first": 1}
    assert error["kind"] == "probe_error"
    assert "KeyError: 'probe bug'" in error["traceback"]


def test_import_error_is_a_solution_error_with_status_0(tmp_path: Path) -> None:
    probe = "def probe(ctx):\n    ctx.observe('before', True)\n    ctx.load_solution()\n    ctx.observe('after', True)\n"
    work = stage(tmp_path, "import json\n\nraise RuntimeError('at import')\n", probe)
    assert run_probe(work, work / "out", "submit", "cpu") == 0
    observations, error = read_out(work)
    assert observations == {"before": True}
    assert error["kind"] == "solution_error"
    assert 'solution.py", line 3, in <module>' in error["traceback"]
    assert "exercises" not in error["traceback"] and "importlib" not in error["traceback"]


def test_call_records_errors_exits_and_missing_functions(tmp_path: Path) -> None:
    solution = "import sys\n\ndef fine(x):\n    return x * 2\n\ndef leaves():\n    sys.exit(3)\n\ndef broken():\n    return {}['k']\n"
    probe = """
from exercises.kit.probe import FAILED

def probe(ctx):
    ctx.observe("fine", ctx.call("fine", "fine", 21))
    assert ctx.call("leaves", "leaves") is FAILED
    assert ctx.call("broken", "broken") is FAILED
    assert ctx.call("absent", "absent") is FAILED
"""
    work = stage(tmp_path, solution, probe)
    assert run_probe(work, work / "out", "submit", "cpu") == 0
    observations, error = read_out(work)
    assert error is None
    assert observations["fine"] == 42
    assert observations["leaves"]["error"].rstrip().endswith("SystemExit: 3")
    assert "line 10, in broken" in observations["broken"]["error"]
    assert "defines no function absent()" in observations["absent"]["error"]


def test_an_exception_raised_by_the_students_object_inside_the_probe_is_theirs(tmp_path: Path) -> None:
    solution = "class Weird:\n    @property\n    def shape(self):\n        raise AttributeError('no shape here')\n\ndef make():\n    return Weird()\n"
    probe = "def probe(ctx):\n    ctx.observe('shape', ctx.call('make', 'make').shape)\n"
    work = stage(tmp_path, solution, probe)
    assert run_probe(work, work / "out", "submit", "cpu") == 0
    _, error = read_out(work)
    assert error["kind"] == "solution_error"
    assert "line 4, in shape" in error["traceback"]


def test_reload_solution_failure_is_an_observation_not_a_solution_error(tmp_path: Path) -> None:
    solution = "import os\nif os.environ.get('SECOND_TIME'):\n    raise OSError('second import fails')\nos.environ['SECOND_TIME'] = '1'\n"
    probe = """
import os
from exercises.kit.probe import FAILED

def probe(ctx):
    ctx.load_solution()
    ctx.observe("reloaded", ctx.reload_solution("again") is FAILED)
    os.environ.pop("SECOND_TIME")
"""
    work = stage(tmp_path, solution, probe)
    run_probe(work, work / "out", "submit", "cpu")
    observations, error = read_out(work)
    assert error is None
    assert observations["reloaded"] is True
    assert "OSError: second import fails" in observations["again"]["error"]


def test_stale_and_planted_files_in_out_are_replaced(tmp_path: Path) -> None:
    work = stage(tmp_path, "X = 1\n", "def probe(ctx):\n    ctx.observe('x', 1)\n")
    out = work / "out"
    (out / "observations.json").mkdir()  # a directory where our file goes
    (out / "error.json").symlink_to(tmp_path / "elsewhere.json")
    (out / "arrays").mkdir()
    (out / "arrays" / "old.npy").write_bytes(b"stale")
    assert run_probe(work, out, "submit", "cpu") == 0
    observations, error = read_out(work)
    assert observations == {"x": 1}
    assert error is None
    assert not (out / "arrays").exists()
    assert not (tmp_path / "elsewhere.json").exists()


def test_bad_keys_are_the_probe_authors_bug(tmp_path: Path) -> None:
    work = stage(tmp_path, "X = 1\n", "def probe(ctx):\n    ctx.observe('Bad Key', 1)\n")
    assert run_probe(work, work / "out", "submit", "cpu") == 1
    _, error = read_out(work)
    assert "observation key 'Bad Key'" in error["traceback"]


def test_save_array(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    context = ProbeContext(work=tmp_path, out=out, mode="submit", device="cpu")
    assert context.save_array("ints", torch.arange(6).reshape(2, 3))
    assert context.save_array("grad", torch.ones(2, requires_grad=True) * 2)
    assert context.save_array("brain", torch.ones(3, dtype=torch.bfloat16))
    assert context.save_array("scalar", np.float16(1.5))
    assert not context.save_array("objects", np.array([object()], dtype=object))
    assert not context.save_array("listy", [1, 2, 3])
    with pytest.raises(ValueError):
        context.save_array("../escape", np.zeros(1))
    assert np.load(out / "arrays" / "ints.npy").tolist() == [[0, 1, 2], [3, 4, 5]]
    assert np.load(out / "arrays" / "brain.npy").dtype == np.float32
    assert not (out / "arrays" / "objects.npy").exists()


def test_gpu_out_of_memory_in_a_call_is_recorded(tmp_path: Path) -> None:
    solution = "import torch\n\ndef big():\n    raise torch.cuda.OutOfMemoryError('CUDA out of memory')\n"
    work = stage(tmp_path, solution, "def probe(ctx):\n    ctx.call('big', 'big')\n")
    run_probe(work, work / "out", "submit", "cpu")
    observations, error = read_out(work)
    assert error["kind"] == "gpu_oom"
    assert "OutOfMemoryError" in observations["big"]["error"]


def test_failed_is_a_falsy_singleton() -> None:
    assert not FAILED
    assert repr(FAILED) == "FAILED"
    assert type(FAILED)() is FAILED


# --- report ----------------------------------------------------------------------------------------


def test_event_lines() -> None:
    line = report_module.event_line(step=np.int64(3), loss=torch.tensor(0.25), ok=True, bad=float("inf"))
    assert json.loads(line) == {"step": 3, "metrics": {"loss": 0.25, "ok": 1, "bad": "inf"}}
    with pytest.raises(ValueError):
        report_module.event_line(step=1)
    with pytest.raises(ValueError):
        report_module.event_line(**{"bad name!": 1})
    with pytest.raises(TypeError):
        report_module.event_line(loss="high")
    with pytest.raises(TypeError):
        report_module.event_line(step=1.5, loss=1)
    with pytest.raises(ValueError):
        report_module.event_line(**{f"m{i}": 1.0 for i in range(400)})
