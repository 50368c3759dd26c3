"""The check side of the grading kit. It runs OUTSIDE the sandbox, trusted, on untrusted observation files.

A trial's check.py declares its checks and yields one outcome per check::

    from exercises.kit.check import Check

    CHECKS = [
        Check("shape", zh="形状正确", en="Shapes are right", points=50),
        Check("values", zh="数值正确", en="Values are right", points=50, visible=False),
    ]

    def check(ctx):
        yield ctx.evaluate("shape", check_shape)     # check_shape(ctx) -> Outcome
        yield ctx.evaluate("values", check_values)

    def check_shape(ctx):
        observed = ctx.observed("sum.small")
        if error := ctx.error_of("sum.small"):
            return ctx.failed("shape", zh=f"add() 出错：\n{error}", en=f"add() raised:\n{error}")
        ...
        return ctx.passed("shape")

`ctx.evaluate(key, fn)` keeps a bug in one check from sinking the others. Expected values come from the
bundle (literals, `ctx.hidden` files, `exercises.kit.data`), never from what the sandbox wrote.

`run_check(bundle, out, mode)` loads the observations with the safe loaders of
`exercises.kit.observations`, runs the bundle's `check(ctx)` and returns::

    {"checks": [{"key", "passed", "score", "max_score", "title": {zh, en}, "message": {zh, en},
                 "visible"}, ...],          # in run mode only the visible checks
     "score": 0..100,                       # the percentage of the reported checks' points
     "solution_error": str | None,          # the student's traceback when their code raised
     "gpu_oom": bool,
     "probe_error": str | None,             # the trial's probe failed: an internal error
     "internal_errors": [str, ...]}         # bugs in check.py, for the grader's log, never the student's

When the student's module raised at import (a solution error and no observations), every check fails
with a message pointing at that traceback, without consulting check.py. Anything wrong with the
observation files makes checks fail; it never raises. A broken bundle (no
CHECKS, a duplicate key, a check.py that does not import) is our bug and raises `CheckDefinitionError`.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import math
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from exercises.kit.observations import (
    ARRAY_KEY,
    ARRAYS_DIR,
    ARTIFACT_NAME,
    ARTIFACTS_DIR,
    ERROR_FILE,
    GPU_OOM,
    MAX_ERROR_BYTES,
    MAX_OBSERVATIONS_BYTES,
    OBSERVATIONS_FILE,
    PROBE_ERROR,
    SOLUTION_ERROR,
    UnsafeFile,
    load_array,
    load_json,
    open_directory,
    read_regular_file,
)

CHECK_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_MESSAGE_CHARS = 4000
MAX_TRACEBACK_CHARS = 16_000
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()
"""What `ctx.observed(key)` returns when there is no such observation."""

NO_OBSERVATION = {
    "zh": "没有观测结果：探针没能记录这一项（代码可能提前退出或超时）。",
    "en": "No observation: the probe could not record this (the code may have exited early or timed out).",
}
SOLUTION_RAISED = {
    "zh": "你的代码在这项检查运行之前就出错了，请查看错误信息（traceback）。",
    "en": "Your code raised an error before this check could run; see its traceback.",
}
NOT_EVALUATED = {
    "zh": "这项检查没能完成评估（评测程序的问题，不是你的代码的问题），已记录下来。",
    "en": "This check could not be evaluated (a problem on our side, not in your code); it has been logged.",
}
PASSED = {"zh": "通过。", "en": "Passed."}


class CheckDefinitionError(Exception):
    """The bundle's check.py is broken: a bug in the trial, reported as an internal error."""


BASES = ("verified", "observed")
"""How a check knows what it scores. *verified*: the answer reached the trusted side as data and the check
recomputes what it must be; *observed*: only the student's process can see it (docs/architecture.md)."""


@dataclass(frozen=True)
class Check:
    """One declared check: a stable key, its title in both languages, its points, whether Run shows it, and
    its basis ("verified" or "observed"; "" for a trial not yet classed) with a short note saying what."""

    key: str
    zh: str
    en: str
    points: float = 1
    visible: bool = True
    basis: str = ""
    basis_note: str = ""

    @property
    def title(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Outcome:
    """The result of one check: the fraction of its points earned (1.0 = passed) and a message."""

    key: str
    fraction: float
    message: dict[str, str] = field(default_factory=lambda: dict(PASSED))

    @property
    def passed(self) -> bool:
        return self.fraction >= 1.0


def _text(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _message(zh: str, en: str, default: dict[str, str]) -> dict[str, str]:
    if not zh and not en:
        return dict(default)
    return {"zh": _text(zh or en), "en": _text(en or zh)}


class CheckContext:
    """What a trial's `check(ctx)` works with.

    - `ctx.observations`: the dict from observations.json (empty when it was absent or unsafe).
    - `ctx.observed(key, default=MISSING)`, `ctx.error_of(key)`: one observation; the student's
      traceback when the probe's call for `key` raised.
    - `ctx.array(key)`: the numpy array the probe saved under `key`, or None.
    - `ctx.mode` ("run"/"submit"), `ctx.bundle` (the trial folder), `ctx.hidden` (bundle/hidden:
      expected values that never enter the sandbox), `ctx.solution_error` (str or None).
    - `ctx.job_seed`: the job's secret seed (an int, None when the check runs without a job), from
      which per-job held-out inputs were drawn; `exercises.kit.heldout.job_labels` turns it into labels.
    - `ctx.verify_observations`, `ctx.verify_array(key)`: what the trial's `verify.py` observed in its
      second, fresh sandbox (no student code, the first run's out/ files at /work/first/); empty / None
      for trials without a verify step or when it observed nothing.
    - `ctx.passed(key, zh=, en=)`, `ctx.failed(key, zh=, en=)`, `ctx.partial(key, fraction, zh=, en=)`
      build outcomes; `ctx.evaluate(key, fn)` runs `fn(ctx)` and turns an exception into a neutral failure.
    """

    def __init__(
        self,
        *,
        observations: dict[str, Any],
        arrays_fd: Callable[[], int | None],
        mode: str,
        bundle: Path,
        solution_error: str | None,
        verify_observations: dict[str, Any] | None = None,
        verify_arrays_fd: Callable[[], int | None] | None = None,
        job_seed: int | None = None,
    ) -> None:
        self.observations = observations
        self.verify_observations = verify_observations or {}
        self._verify_arrays_fd = verify_arrays_fd or (lambda: None)
        self._verify_arrays: dict[str, Any] = {}
        self.mode = mode
        self.bundle = bundle
        self.hidden = bundle / "hidden"
        self.solution_error = solution_error
        self.job_seed = job_seed
        self.internal_errors: list[str] = []
        self._arrays_fd = arrays_fd
        self._arrays: dict[str, Any] = {}

    def observed(self, key: str, default: Any = MISSING) -> Any:
        return self.observations.get(key, default)

    def error_of(self, key: str) -> str | None:
        """The traceback the probe recorded when the student's call for `key` raised, else None."""
        value = self.observations.get(key)
        if isinstance(value, dict) and set(value) == {"error"} and isinstance(value["error"], str):
            return value["error"][-MAX_TRACEBACK_CHARS:]
        return None

    def array(self, key: str) -> Any | None:
        """The array saved as out/arrays/<key>.npy, loaded safely (no pickle), or None."""
        if not ARRAY_KEY.match(key):
            raise ValueError(f"array key {key!r} must match {ARRAY_KEY.pattern}")
        if key not in self._arrays:
            self._arrays[key] = load_array(f"{key}.npy", dir_fd=self._arrays_fd())
        return self._arrays[key]

    def verify_array(self, key: str) -> Any | None:
        """The array the verify step saved under `key`, loaded safely, or None."""
        if not ARRAY_KEY.match(key):
            raise ValueError(f"array key {key!r} must match {ARRAY_KEY.pattern}")
        if key not in self._verify_arrays:
            self._verify_arrays[key] = load_array(f"{key}.npy", dir_fd=self._verify_arrays_fd())
        return self._verify_arrays[key]

    def passed(self, key: str, zh: str = "", en: str = "") -> Outcome:
        return Outcome(key, 1.0, _message(zh, en, PASSED))

    def failed(self, key: str, zh: str = "", en: str = "") -> Outcome:
        return Outcome(key, 0.0, _message(zh, en, NO_OBSERVATION))

    def partial(self, key: str, fraction: float, zh: str = "", en: str = "") -> Outcome:
        """Part of the points: `fraction` in [0, 1]; only 1.0 counts as passed."""
        value = float(fraction)
        value = 0.0 if math.isnan(value) else min(1.0, max(0.0, value))
        return Outcome(key, value, _message(zh, en, PASSED if value >= 1.0 else NO_OBSERVATION))

    def evaluate(self, key: str, fn: Callable[[CheckContext], Outcome]) -> Outcome:
        """`fn(ctx)`, or a neutral failure of `key` if it raised (the traceback goes to internal_errors)."""
        try:
            outcome = fn(self)
        except Exception:
            self.internal_errors.append(f"check {key!r} raised:\n{traceback.format_exc()}")
            return Outcome(key, 0.0, dict(NOT_EVALUATED))
        if not isinstance(outcome, Outcome) or outcome.key != key:
            self.internal_errors.append(f"check {key!r} returned {outcome!r}, not an Outcome for {key!r}")
            return Outcome(key, 0.0, dict(NOT_EVALUATED))
        return outcome


# ---------------------------------------------------------------------------------------------------
# Helpers for check authors


def literal_from(path: Path | str, name: str) -> Any:
    """The literal assigned to the top-level `name` in the Python file `path`, without running the file.

    A check reads the probe's case table this way (`literal_from(HERE / "probe.py", "CASES")`), so the
    two can never disagree, and expectations still come from the bundle, not from the sandbox.
    """
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            return ast.literal_eval(value)
    raise CheckDefinitionError(f"{path} assigns no literal {name}")


def show(value: Any, limit: int = 120) -> str:
    """A short, readable rendering of an observed JSON value for a message (tagged objects included)."""
    if isinstance(value, dict) and set(value) >= {"$type", "repr"}:
        text = f"{value['repr']} ({value['$type']})"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(value: Any) -> float | None:
    """An observed number as a float: JSON numbers, and the strings "nan", "inf", "-inf"; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return None


# ---------------------------------------------------------------------------------------------------
# Running a bundle's check


def _load_check_module(bundle: Path) -> ModuleType:
    path = bundle / "check.py"
    name = "huashen_check_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise CheckDefinitionError(f"{path}: no check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(name, None)
        raise CheckDefinitionError(f"{path} does not import: {error!r}") from error
    return module


def declared_checks(module: ModuleType) -> list[Check]:
    """The module's CHECKS, validated (keys unique slugs, titles in both languages, points >= 0)."""
    checks = getattr(module, "CHECKS", None)
    where = getattr(module, "__file__", module.__name__)
    if not isinstance(checks, list | tuple) or not checks:
        raise CheckDefinitionError(f"{where}: CHECKS must be a non-empty list of Check")
    keys: set[str] = set()
    for item in checks:
        if not isinstance(item, Check):
            raise CheckDefinitionError(f"{where}: {item!r} is not a Check")
        if not CHECK_KEY.match(item.key) or item.key in keys:
            raise CheckDefinitionError(f"{where}: check key {item.key!r} is not a unique slug")
        if not (
            isinstance(item.zh, str) and item.zh.strip() and isinstance(item.en, str) and item.en.strip()
        ):
            raise CheckDefinitionError(f"{where}: check {item.key!r} needs zh and en titles")
        if isinstance(item.points, bool) or not isinstance(item.points, int | float) or not item.points >= 0:
            raise CheckDefinitionError(f"{where}: check {item.key!r} needs points >= 0")
        if item.basis and item.basis not in BASES:
            raise CheckDefinitionError(
                f"{where}: check {item.key!r} has basis {item.basis!r}, not one of {BASES}"
            )
        keys.add(item.key)
    if not callable(getattr(module, "check", None)):
        raise CheckDefinitionError(f"{where}: defines no check(ctx) function")
    return list(checks)


def load_checks(bundle: Path | str) -> list[Check]:
    """The checks a bundle declares (for content tests and the platform's list of checks)."""
    return declared_checks(_load_check_module(Path(bundle)))


class _OutFolder:
    """Descriptors for out/ and out/arrays/, opened without following symlinks; closed on exit."""

    def __init__(self, out: Path) -> None:
        self.fd = open_directory(out)
        self._arrays: int | None = None
        self._arrays_opened = False

    def arrays_fd(self) -> int | None:
        if not self._arrays_opened:
            self._arrays_opened = True
            if self.fd is not None:
                self._arrays = open_directory(ARRAYS_DIR, dir_fd=self.fd)
        return self._arrays

    def close(self) -> None:
        for fd in (self._arrays, self.fd):
            if fd is not None:
                os.close(fd)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_ARTIFACT_BYTES = 512 * 1024
MAX_ARTIFACTS = 4


def read_artifacts(out_fd: int | None) -> list[dict[str, str]]:
    """The PNG images the probe left in out/artifacts/ (e.g. a Grad-CAM overlay), for the student to see.

    Regular files only, no symlinks, each at most 512 KiB with a PNG signature, at most four, names from
    a strict alphabet; anything else is skipped. Returned base64-encoded, never decoded here.
    """
    import base64

    if out_fd is None:
        return []
    folder = open_directory(ARTIFACTS_DIR, dir_fd=out_fd)
    if folder is None:
        return []
    found: list[dict[str, str]] = []
    try:
        for name in sorted(os.listdir(folder))[: MAX_ARTIFACTS * 4]:
            if len(found) >= MAX_ARTIFACTS or not ARTIFACT_NAME.match(name):
                continue
            try:
                data = read_regular_file(name, dir_fd=folder, max_bytes=MAX_ARTIFACT_BYTES)
            except (OSError, UnsafeFile):
                continue
            if data.startswith(PNG_SIGNATURE):
                found.append(
                    {
                        "name": name[: -len(".png")],
                        "media_type": "image/png",
                        "data": base64.b64encode(data).decode(),
                    }
                )
    finally:
        os.close(folder)
    return found


def _error_text(error: Any) -> str | None:
    text = error.get("traceback") if isinstance(error, dict) else None
    if not isinstance(text, str):
        return None
    return text[-MAX_TRACEBACK_CHARS:]


def run_check(
    bundle: Path | str,
    out: Path | str,
    mode: str,
    verify_out: Path | str | None = None,
    *,
    job_seed: int | None = None,
) -> dict[str, Any]:
    """Score the observations in `out` (and `verify_out`, the verify step's) with the bundle's check.py.

    `job_seed` is the job's secret seed, for trials whose held-out inputs were staged per job."""
    bundle, out = Path(bundle), Path(out)
    module = _load_check_module(bundle)
    checks = declared_checks(module)
    folder = _OutFolder(out)
    verify_folder = _OutFolder(Path(verify_out)) if verify_out is not None else None
    try:
        verify_observations = (
            load_json(OBSERVATIONS_FILE, dir_fd=verify_folder.fd, max_bytes=MAX_OBSERVATIONS_BYTES)
            if verify_folder is not None
            else None
        )
        artifacts = read_artifacts(folder.fd)
        observations = load_json(OBSERVATIONS_FILE, dir_fd=folder.fd, max_bytes=MAX_OBSERVATIONS_BYTES)
        error = load_json(ERROR_FILE, dir_fd=folder.fd, max_bytes=MAX_ERROR_BYTES)
        kind = error.get("kind") if isinstance(error, dict) else None
        solution_error = _error_text(error) if kind == SOLUTION_ERROR else None
        context = CheckContext(
            observations=observations if isinstance(observations, dict) else {},
            arrays_fd=folder.arrays_fd,
            mode=mode,
            bundle=bundle,
            solution_error=solution_error,
            verify_observations=verify_observations if isinstance(verify_observations, dict) else None,
            verify_arrays_fd=verify_folder.arrays_fd if verify_folder is not None else None,
            job_seed=job_seed,
        )
        if solution_error and not context.observations:
            # The module raised at import, so nothing was observed: say so rather than "no observation".
            outcomes = {item.key: Outcome(item.key, 0.0, dict(SOLUTION_RAISED)) for item in checks}
        else:
            outcomes = _collect(module, checks, context)
    finally:
        folder.close()
        if verify_folder is not None:
            verify_folder.close()

    results: list[dict[str, Any]] = []
    for declared in checks:
        if mode == "run" and not declared.visible:
            continue
        outcome = outcomes[declared.key]
        fraction = min(1.0, max(0.0, float(outcome.fraction))) if math.isfinite(outcome.fraction) else 0.0
        results.append(
            {
                "key": declared.key,
                "passed": fraction >= 1.0,
                "score": round(declared.points * fraction, 6),
                "max_score": float(declared.points),
                "title": declared.title,
                "message": {
                    "zh": _text(outcome.message.get("zh", "")),
                    "en": _text(outcome.message.get("en", "")),
                },
                "visible": declared.visible,
            }
        )
    total = sum(result["max_score"] for result in results)
    earned = sum(result["score"] for result in results)
    return {
        "checks": results,
        "score": round(100.0 * earned / total, 4) if total else 0.0,
        "solution_error": solution_error,
        "gpu_oom": kind == GPU_OOM,
        "probe_error": _error_text(error) if kind == PROBE_ERROR else None,
        "internal_errors": context.internal_errors,
        "artifacts": artifacts,
    }


def _collect(module: ModuleType, checks: list[Check], context: CheckContext) -> dict[str, Outcome]:
    declared = {item.key for item in checks}
    outcomes: dict[str, Outcome] = {}
    crashed = False
    try:
        produced: Iterable[Any] = module.check(context) or ()
        for outcome in produced:
            if not isinstance(outcome, Outcome) or outcome.key not in declared:
                context.internal_errors.append(
                    f"check() yielded {outcome!r}, not an Outcome of a declared check"
                )
            elif outcome.key in outcomes:
                context.internal_errors.append(f"check() yielded a second outcome for {outcome.key!r}")
            else:
                outcomes[outcome.key] = outcome
    except Exception:
        crashed = True
        context.internal_errors.append(f"check() raised:\n{traceback.format_exc()}")
    for key in declared - set(outcomes):
        if crashed:
            message = NOT_EVALUATED
        elif context.solution_error:
            message = SOLUTION_RAISED
        else:
            message = NO_OBSERVATION
        outcomes[key] = Outcome(key, 0.0, dict(message))
    return outcomes
