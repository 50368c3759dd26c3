"""The probe side of the grading kit. It runs INSIDE the sandbox, in the same process as the student's code.

The grader stages a work folder and its harness calls `run_probe(work, out, mode, device)`:

    /work/solution.py   the student's code
    /work/probe.py      the trial's probe: defines `probe(ctx)`
    /work/public/       the bundle's public/ folder, if it has one
    /work/out/          empty and writable: observations go here (layout in `exercises.kit.observations`)
    env HUASHEN_MODE = run | submit, HUASHEN_DEVICE = cpu | gpu; fd 3 = the metric events pipe

A trial's probe is a function of a `ProbeContext`::

    from exercises.kit.probe import FAILED

    def probe(ctx):
        ctx.load_solution()
        result = ctx.call("sum.small", "add", torch.ones(2), torch.ones(2))
        if result is not FAILED:
            ctx.observe("sum.small", ctx.describe_tensor(result))
            ctx.save_array("sum_small", result)

The probe only *observes*; it never decides pass or fail. The trusted check does that outside, against
expectations that never enter the sandbox. Nothing here is a security boundary: the student's code
shares this process and could rewrite the out folder, which is why the check never trusts exit status
or anything the sandbox wrote beyond "this is what was observed", and why expected answers stay
outside. What the kit does guarantee is that stale files in out/ are removed before the probe starts
and that the kit's own final write replaces whatever the student's code may have put there.

Errors and verdicts: an exception at import of solution.py is written to out/error.json as
`{"kind": "solution_error", "traceback": ...}` with only the student's own frames; an exception inside
`ctx.call` becomes the observation `{"error": traceback}` (and `gpu_oom` in error.json when it is
`torch.cuda.OutOfMemoryError`); an exception in the probe itself becomes `probe_error`. The exit status
of `run_probe` is 0 unless the probe itself failed, and nothing should be read into it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import os
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from exercises.kit import report as _report
from exercises.kit.messages import both
from exercises.kit.observations import (
    ARRAY_KEY,
    ARRAYS_DIR,
    ARTIFACT_NAME,
    ARTIFACTS_DIR,
    ERROR_FILE,
    GPU_OOM,
    MAX_ARRAY_BYTES,
    MAX_OBSERVATIONS_BYTES,
    NUMERIC_KINDS,
    OBSERVATION_KEY,
    OBSERVATIONS_FILE,
    PROBE_ERROR,
    SOLUTION_ERROR,
)

SOLUTION_MODULE = "solution"
PROBE_MODULE = "huashen_probe"
MAX_TRACEBACK_CHARS = 16_000
MAX_STRING_CHARS = 4096  # longer strings are cut (observations must fit in 1 MiB)
MAX_ITEMS = 10_000  # longer lists and dicts are summarised, not copied
MAX_DEPTH = 32
MAX_REPR_CHARS = 200
_NPY_HEADER_ROOM = 4096


class SolutionFailed(Exception):
    """The student's module raised while it was imported; `run_probe` stops the probe quietly."""


class _Failed:
    """The type of `FAILED`."""

    _instance: _Failed | None = None

    def __new__(cls) -> _Failed:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "FAILED"

    def __bool__(self) -> bool:
        return False


FAILED = _Failed()
"""What `ctx.call` returns when the student's function raised (test with `is FAILED`)."""


# ---------------------------------------------------------------------------------------------------
# Values and tracebacks


def _type_name(value: object) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", kind.__name__)
    return name if module == "builtins" else f"{module}.{name}"


def _safe_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # the student's __repr__ may raise; that is not our failure
        return f"<{_type_name(value)} object>"
    if type(text) is not str:
        return f"<{_type_name(value)} object>"
    return text if len(text) <= MAX_REPR_CHARS else text[: MAX_REPR_CHARS - 1] + "…"


def _tagged(value: object, **extra: Any) -> dict[str, Any]:
    return {"$type": _type_name(value), "repr": _safe_repr(value), **extra}


def jsonable(value: Any, _depth: int = 0) -> Any:
    """`value` as a JSON value that keeps the distinctions a check cares about.

    - None, bools, ints, finite floats and strings stay what they are (strings are cut at 4096
      characters; ints with more than 1000 bits are tagged);
    - NaN and infinities become the strings "nan", "inf" and "-inf";
    - lists, tuples and their subclasses (torch.Size) become lists; dicts become objects (non-string keys
      become their repr); containers of more than 10,000 items or nested over 32 levels are tagged;
    - numpy scalars become the matching Python number;
    - anything else — a torch.dtype, a torch.device, a tensor, a student's object — becomes a *tagged*
      object `{"$type": "torch.dtype", "repr": "torch.float32"}`, so a check can tell the string
      "torch.float32" from the dtype object. Use `describe_tensor` or `save_array` for tensors.
    """
    if value is None or value is True or value is False:
        return value
    if isinstance(value, bool):  # a bool subclass cannot exist, but numpy-like objects may claim it
        return bool(value)
    if isinstance(value, int):
        number = int.__int__(value)
        return number if number.bit_length() <= 1000 else _tagged(value)
    if isinstance(value, float):
        real = float.__float__(value)
        if math.isnan(real):
            return "nan"
        if math.isinf(real):
            return "inf" if real > 0 else "-inf"
        return real
    if isinstance(value, str):
        text = str.__getitem__(value, slice(0, MAX_STRING_CHARS + 1))
        return text if len(text) <= MAX_STRING_CHARS else text[:MAX_STRING_CHARS] + "…"
    if isinstance(value, list | tuple | dict):
        try:
            length = len(value)
        except Exception:
            return _tagged(value)
        if _depth >= MAX_DEPTH or length > MAX_ITEMS:
            return _tagged(value, length=length)
        try:
            if isinstance(value, dict):
                return {
                    (key if type(key) is str else _safe_repr(key)): jsonable(item, _depth + 1)
                    for key, item in dict.items(value)
                }
            items = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
            return [jsonable(item, _depth + 1) for item in items]
        except Exception:
            return _tagged(value)
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic) and not isinstance(value, numpy.object_):
        try:
            return jsonable(value.item(), _depth + 1)
        except Exception:
            return _tagged(value)
    return _tagged(value)


def _is_gpu_oom(error: BaseException) -> bool:
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    kinds = tuple(
        kind
        for kind in (getattr(torch, "OutOfMemoryError", None), getattr(torch.cuda, "OutOfMemoryError", None))
        if isinstance(kind, type)
    )
    return bool(kinds) and isinstance(error, kinds)


def trim_traceback(error: BaseException, solution: str | os.PathLike[str]) -> str:
    """The traceback of `error` showing only frames from the student's file, then the exception line.

    The harness, the kit, the probe and library internals are left out: the student sees their own
    lines and the error message. Chained exceptions ("During handling of the above…") are trimmed the
    same way. Cut to 16,000 characters, keeping the end, where the message is.
    """
    solution = os.fspath(solution)
    summary = traceback.TracebackException.from_exception(error)
    seen: set[int] = set()

    def keep_student_frames(exception: traceback.TracebackException | None) -> None:
        if exception is None or id(exception) in seen:
            return
        seen.add(id(exception))
        exception.stack = traceback.StackSummary.from_list(
            [frame for frame in exception.stack if frame.filename == solution]
        )
        keep_student_frames(exception.__cause__)
        keep_student_frames(exception.__context__)
        for member in getattr(exception, "exceptions", None) or ():
            keep_student_frames(member)

    keep_student_frames(summary)
    try:
        text = "".join(summary.format())
    except Exception:  # a hostile exception can break formatting; the type name still helps
        text = f"{_type_name(error)}: <the error message could not be shown>\n"
    if len(text) > MAX_TRACEBACK_CHARS:
        text = "…\n" + text[-MAX_TRACEBACK_CHARS:]
    return text


def _raised_in(error: BaseException, filename: str) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and frames[-1].filename == filename


def describe_tensor(value: object) -> dict[str, Any]:
    """A JSON summary of a value that should be a tensor.

    A tensor gives `{"type": "torch.Tensor", "shape": [2, 3], "dtype": "torch.float32", "device": "cpu",
    "requires_grad": false}`; anything else gives `{"type": "<its type>", "repr": "..."}`.
    """
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(value, torch.Tensor):
        return {"type": _type_name(value), "repr": _safe_repr(value)}
    try:
        return {
            "type": _type_name(value),
            "shape": [int(size) for size in value.shape],
            "dtype": str(value.dtype),
            "device": str(value.device),
            "requires_grad": bool(value.requires_grad),
        }
    except Exception:
        return {"type": _type_name(value), "repr": _safe_repr(value)}


def _as_numpy(value: object) -> Any | None:
    """A numpy array of a numeric dtype holding `value` (a tensor or ndarray), or None."""
    import numpy

    torch = sys.modules.get("torch")
    try:
        if torch is not None and isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().resolve_conj().resolve_neg()
            try:
                array = tensor.numpy()
            except (TypeError, RuntimeError):  # bfloat16, float8, …: no numpy dtype; dtype is observed apart
                array = tensor.to(torch.float32).numpy()
        elif isinstance(value, numpy.ndarray | numpy.generic):
            array = numpy.asarray(value)
        else:
            return None
    except Exception:
        return None
    if array.dtype.kind not in NUMERIC_KINDS or array.dtype.fields:
        return None
    return array


# ---------------------------------------------------------------------------------------------------
# Files


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    elif path.exists():  # a FIFO, a socket…
        path.unlink()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `path` so that it is either the old file or the complete new one; replaces whatever is there."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        _remove(temporary)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    os.replace(temporary, path)


def _prepare_out(out: Path) -> None:
    """An empty-of-our-files out folder: stale (or planted) observations never survive into a new run."""
    if out.is_symlink():
        out.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for name in (OBSERVATIONS_FILE, ERROR_FILE, ARRAYS_DIR, ARTIFACTS_DIR):
        with contextlib.suppress(FileNotFoundError):
            _remove(out / name)


# ---------------------------------------------------------------------------------------------------
# The context


class ProbeContext:
    """What a trial's `probe(ctx)` works with. Attributes and methods for trial authors:

    - `ctx.mode`: "run" (visible checks only) or "submit"; `ctx.device`: "cpu" or "gpu" (the grader's);
      `ctx.work`: the work folder; `ctx.public`: its public/ folder (read the trial's public data here).
    - `ctx.load_solution()`: import solution.py (once) as the module `solution`.
    - `ctx.reload_solution(key)`: run solution.py again, e.g. inside `patch_cuda_available`.
    - `ctx.call(key, fn_or_name, *args, **kwargs)`: call the student's code; on an exception record
      `{"error": traceback}` as observation `key` and return `FAILED`.
    - `ctx.observe(key, value)`: record a JSON observation (see `jsonable` for how values are kept).
    - `ctx.describe_tensor(value)`: the usual summary of a returned tensor, to pass to `observe`.
    - `ctx.save_array(key, tensor_or_array)`: save `out/arrays/<key>.npy` for the check.
    - `ctx.report(step=None, **metrics)`: a point on the live charts.
    - `ctx.patch_cuda_available(value)`: pretend CUDA is or is not available (see exercises.kit.devices).

    Observation keys match `^[a-z0-9][a-z0-9_.-]{0,127}$`, array keys `^[a-z0-9_]{1,64}$`; a bad key is
    the probe author's bug and raises ValueError.
    """

    def __init__(self, *, work: Path, out: Path, mode: str, device: str) -> None:
        self.work = Path(work)
        self.out = Path(out)
        self.mode = mode
        self.device = device
        self.public = self.work / "public"
        self.first = self.work / "first"  # in a verify step: the first run's out/ files
        self.solution_path = str(self.work / "solution.py")
        self.observations: dict[str, Any] = {}
        self.error: dict[str, str] | None = None
        self._solution: ModuleType | None = None

    # -- the student's module -----------------------------------------------------------------------

    def load_solution(self) -> ModuleType:
        """Import /work/solution.py as the module `solution` (once; later calls return the same module).

        The work folder is not put on sys.path. If the module raises while it is imported, its trimmed
        traceback goes to out/error.json as a solution error and `SolutionFailed` is raised, which
        `run_probe` catches: the probe stops there and the checks report what is missing.
        """
        if self._solution is None:
            self._solution = self._execute_solution()
        return self._solution

    def reload_solution(self, key: str) -> ModuleType | _Failed:
        """Run solution.py again as a fresh module and make it the one `call` uses.

        For a changed world: inside `patch_cuda_available(True)` a module-level
        `DEVICE = "cuda" if torch.cuda.is_available() else "cpu"` sees the simulated GPU. If the module
        raises this time, the traceback is recorded as observation `key` and `FAILED` is returned
        (the earlier module stays current).
        """
        _check_key(key)
        try:
            self._solution = self._execute_solution(record=False)
        except SolutionFailed as failure:
            self.observations[key] = {"error": str(failure)}
            return FAILED
        return self._solution

    def _execute_solution(self, *, record: bool = True) -> ModuleType:
        spec = importlib.util.spec_from_file_location(SOLUTION_MODULE, self.solution_path)
        if spec is None or spec.loader is None:
            raise SolutionFailed(both("cannot_load"))
        module = importlib.util.module_from_spec(spec)
        previous = sys.modules.get(SOLUTION_MODULE)
        sys.modules[SOLUTION_MODULE] = module  # dataclasses and pickling look the module up here
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:
            if previous is None:
                sys.modules.pop(SOLUTION_MODULE, None)
            else:
                sys.modules[SOLUTION_MODULE] = previous
            text = trim_traceback(error, self.solution_path)
            print(text, file=sys.stderr, end="", flush=True)
            if record:
                self._record_error(GPU_OOM if _is_gpu_oom(error) else SOLUTION_ERROR, text)
            raise SolutionFailed(text) from None
        return module

    def call(self, key: str, fn: Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> Any:
        """Call the student's `fn(*args, **kwargs)` and return its result, or `FAILED`.

        `fn` may be a function or the name of one in the current solution module (loading it if
        needed); a missing name is recorded like an exception. On an exception (SystemExit included)
        the observation `key` becomes `{"error": "<the student's trimmed traceback>"}`, the traceback is
        printed to stderr (the student's log), and a CUDA out-of-memory error is also recorded as
        `gpu_oom` in error.json. Observe the result under the same key when the call succeeds.
        """
        _check_key(key)
        target: Any = fn
        if isinstance(fn, str):
            name = fn
            target = getattr(self.load_solution(), name, None)
            if not callable(target):
                message = both("no_function", name=name) + "\n"
                self.observations[key] = {"error": message}
                print(message, file=sys.stderr, end="", flush=True)
                return FAILED
        try:
            return target(*args, **kwargs)
        except (Exception, SystemExit) as error:
            text = trim_traceback(error, self.solution_path)
            self.observations[key] = {"error": text}
            print(text, file=sys.stderr, end="", flush=True)
            if _is_gpu_oom(error):
                self._record_error(GPU_OOM, text)
            return FAILED

    # -- observations -------------------------------------------------------------------------------

    def observe(self, key: str, value: Any) -> None:
        """Record observation `key` = `value`, converted by `jsonable` (never raises for odd values)."""
        _check_key(key)
        self.observations[key] = jsonable(value)

    describe_tensor = staticmethod(describe_tensor)

    def save_array(self, key: str, value: Any) -> bool:
        """Save a tensor or numpy array as out/arrays/<key>.npy (no pickle); return whether it was saved.

        Tensors are detached and copied to the CPU; dtypes numpy lacks (bfloat16, float8) are saved as
        float32, so observe the dtype separately. A value that is not a numeric tensor/array, or is over
        64 MiB, is not saved (returns False): the check then sees no array under that key.
        """
        if not ARRAY_KEY.match(key):
            raise ValueError(f"array key {key!r} must match {ARRAY_KEY.pattern}")
        import numpy

        array = _as_numpy(value)
        if array is None or array.nbytes > MAX_ARRAY_BYTES - _NPY_HEADER_ROOM:
            return False
        folder = self.out / ARRAYS_DIR
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            _remove(folder)
        folder.mkdir(exist_ok=True)
        buffer = io.BytesIO()
        numpy.save(buffer, array, allow_pickle=False)
        _write_atomically(folder / f"{key}.npy", buffer.getvalue())
        return True

    def save_artifact(self, name: str, png: bytes) -> bool:
        """Save a PNG image the student will see with their result (e.g. a Grad-CAM overlay).

        `name` is a short slug (letters, digits, `-`, `_`); `png` the encoded image, at most 512 KiB,
        starting with the PNG signature. Returns whether it was saved. At most four are shown.
        """
        if not ARTIFACT_NAME.match(f"{name}.png") or not isinstance(png, bytes | bytearray):
            raise ValueError(f"artifact name {name!r} must be a short slug and png must be bytes")
        if not bytes(png).startswith(b"\x89PNG\r\n\x1a\n") or len(png) > 512 * 1024:
            return False
        folder = self.out / ARTIFACTS_DIR
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            _remove(folder)
        folder.mkdir(exist_ok=True)
        _write_atomically(folder / f"{name}.png", bytes(png))
        return True

    def report(self, step: Any = None, **metrics: Any) -> bool:
        """A point on the live charts (see `exercises.kit.report.report`)."""
        return _report.report(step, **metrics)

    def patch_cuda_available(self, value: bool) -> contextlib.AbstractContextManager[Any]:
        """Pretend `torch.cuda.is_available()` is `value` while the block runs; yields a `DeviceRecorder`.

        The recorder lists the devices the code asked for (`.requests`, `.cuda_requested(since)`) and
        tells whether a tensor would be on the GPU (`.on_cuda(t)`). With value True on a machine without
        a GPU, CUDA work runs on the CPU. Details and limits: `exercises.kit.devices`.
        """
        from exercises.kit.devices import simulate_cuda

        return simulate_cuda(bool(value))

    # -- finishing ------------------------------------------------------------------------------------

    def _record_error(self, kind: str, text: str) -> None:
        """Keep the first error, except that a GPU out-of-memory error is always what the student sees."""
        if self.error is None or (kind == GPU_OOM and self.error["kind"] != GPU_OOM):
            self.error = {"kind": kind, "traceback": text}

    def _finish(self) -> None:
        try:
            data = json.dumps(self.observations, ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError) as error:  # only a probe that wrote into .observations directly
            self._record_error(PROBE_ERROR, f"observations are not JSON: {error}")
            data = b"{}"
        if len(data) > MAX_OBSERVATIONS_BYTES:
            self._record_error(PROBE_ERROR, f"observations take {len(data)} bytes, over the 1 MiB cap")
            data = b"{}"
        _write_atomically(self.out / OBSERVATIONS_FILE, data)
        if self.error is not None:
            _write_atomically(self.out / ERROR_FILE, json.dumps(self.error, ensure_ascii=False).encode())


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not OBSERVATION_KEY.match(key):
        raise ValueError(f"observation key {key!r} must match {OBSERVATION_KEY.pattern}")


def load_probe_module(path: Path) -> ModuleType | None:
    """The trial's probe module (imported once), or None when importing it raised: `run_probe` then
    imports it again and records the error as the probe's."""
    try:
        return _import_probe(path)
    except Exception:
        sys.modules.pop(PROBE_MODULE, None)
        return None


def _import_probe(path: Path) -> ModuleType:
    loaded = sys.modules.get(PROBE_MODULE)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path):
        return loaded
    spec = importlib.util.spec_from_file_location(PROBE_MODULE, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the probe {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[PROBE_MODULE] = module
    spec.loader.exec_module(module)
    return module


def run_probe(work: Path, out: Path, mode: str, device: str) -> int:
    """Run the trial's probe against the student's code and write the out folder; the harness calls this.

    Always writes out/observations.json (whatever was observed, even if the probe raised) and, when
    something went wrong, out/error.json. Returns 0, or 1 when the probe itself failed (an internal
    error, not the student's); the check never reads the status.
    """
    work, out = Path(work), Path(out)
    sys.dont_write_bytecode = True  # no __pycache__ in the work folder
    module = load_probe_module(work / "probe.py")
    if module is not None and callable(getattr(module, "driver", None)):
        from exercises.kit.driver import run_boundary

        return run_boundary(work, out, mode, device, module)
    _prepare_out(out)
    context = ProbeContext(work=work, out=out, mode=mode, device=device)
    status = 0
    try:
        module = _import_probe(work / "probe.py")
        module.probe(context)
    except SolutionFailed:
        pass
    except (Exception, SystemExit) as error:
        if _raised_in(error, context.solution_path):
            # The probe touched the student's object (an attribute, an iterator) and their code raised.
            text = trim_traceback(error, context.solution_path)
            context._record_error(GPU_OOM if _is_gpu_oom(error) else SOLUTION_ERROR, text)
            print(text, file=sys.stderr, end="", flush=True)
        else:
            text = "".join(traceback.format_exception(error))[-MAX_TRACEBACK_CHARS:]
            context._record_error(PROBE_ERROR, text)
            print(f"internal error in the trial's probe:\n{text}", file=sys.stderr, end="", flush=True)
            status = 1
    finally:
        context._finish()
        _report_peak_gpu_memory()
    return status


def _report_peak_gpu_memory() -> None:
    """Tell the grader the peak GPU memory (display only: it comes from inside the sandbox)."""
    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_initialized():
            _report.send_resources(peak_gpu_memory_mb=torch.cuda.max_memory_allocated() / 2**20)
    except Exception as error:  # never let a statistic turn into a failure
        print(f"peak GPU memory unavailable: {error!r}", file=sys.stderr)


def main() -> int:
    """`python -m exercises.kit.probe`: run with the sandbox's fixed layout and the HUASHEN_* variables."""
    work = Path(os.environ.get("HUASHEN_WORK", "/work"))
    return run_probe(
        work,
        work / "out",
        os.environ.get("HUASHEN_MODE", "submit"),
        os.environ.get("HUASHEN_DEVICE", "cpu"),
    )


if __name__ == "__main__":
    sys.exit(main())
