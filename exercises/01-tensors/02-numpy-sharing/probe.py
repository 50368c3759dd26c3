"""Driver for trial 1.2, numpy-sharing. The student's code runs in the agent; this process drives it.

For every case the driver draws a fresh array from this job's seed and sends it as data (the seed itself
never enters the agent); the agent (`agent_writes`, which only the student's process can run: memory
sharing exists only there) turns it into the case's input (a tensor, a transposed view), hands it to
the student's function, snapshots the result, then writes into one side and snapshots the other:

1. it writes a new value into the *input* at its last element and snapshots what the *result* holds;
2. it writes a new value into the *result* at its first element and snapshots what the *input* holds.

Whether a write shows up on the other side is the whole question of this trial, so the sharing checks
are *observed* (the snapshots come from the student's process); the result's kind, shape and dtype are
*verified* here from the data that arrived (dtype-kept), and the check rebuilds every expected snapshot
from the seed itself. check.py reads the case tables as literals, so keep them plain literals.
"""

import numpy as np
import torch

from exercises.kit.data import seed_from, seeded_array
from exercises.kit.probe import FAILED

# (name, shape, numpy dtype, transposed). A transposed case is the .T view of an array of the reversed
# shape: not contiguous, and still shared by from_numpy / .numpy().
ARRAY_CASES = [
    ("ones", (2, 2), "float64", False),
    ("pixels", (3, 4), "float32", False),
    ("counts", (2, 5), "int32", False),
    ("mask", (4, 3), "bool", False),
    ("half", (2, 1, 3), "float16", False),
    ("scalar", (), "int64", False),
    ("columns", (4, 3), "float64", True),
]
TENSOR_CASES = [
    ("weights", (3, 2), "float32", False),
    ("ids", (5,), "int64", False),
    ("flags", (2, 3), "bool", False),
    ("rows", (2, 3), "float64", True),
]
# The functions the probe calls, with the seed purpose of their inputs.
CALLS = [("shared", "shared_tensor"), ("copy", "independent_tensor"), ("array", "shared_array")]


def input_position(shape):
    return tuple(size - 1 for size in shape)  # the last element


def result_position(shape):
    return tuple(0 for _ in shape)  # the first element


def written(value):
    """What a write puts where `value` was: always something different."""
    if isinstance(value, bool):
        return not value
    return value + 3


def fresh_base(name, shape, dtype, transposed, purpose, seed):
    """The contiguous array a case's input is made from (for a transposed case, of the reversed shape)."""
    seed = seed_from(name, purpose, seed)
    return seeded_array(tuple(reversed(shape)) if transposed else tuple(shape), dtype, seed)


def from_base(base, transposed):
    return base.T if transposed else base


def fresh_array(name, shape, dtype, transposed, purpose, seed):
    """The input values of a case; the check rebuilds them the same way from the job's seed."""
    return from_base(fresh_base(name, shape, dtype, transposed, purpose, seed), transposed)


def write(target, index):
    target[index] = written(target[index].item())


def snapshot(value):
    return value.copy() if isinstance(value, np.ndarray) else value.detach().clone()


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process)


def agent_writes(solution, function, case, base, wanted):
    """Call the student's `function` on a fresh input made from `base` (the driver's data), then write
    into each side and snapshot the other."""
    transposed = case[3]
    source = from_base(np.array(base, copy=True), transposed)
    if wanted == "numpy.ndarray":
        source = torch.from_numpy(source)
    target = getattr(solution, function, None)
    if not callable(target):
        from exercises.kit.messages import both

        raise NameError(both("no_function", name=function))
    result = target(source)
    kind = torch.Tensor if wanted == "torch.Tensor" else np.ndarray
    if not isinstance(result, kind) or tuple(result.shape) != tuple(source.shape):
        return {}
    report = {"before": snapshot(result)}
    write(source, input_position(tuple(source.shape)))
    report["after_input_write"] = snapshot(result)
    try:
        write(result, result_position(tuple(result.shape)))
    except Exception as error:  # a read-only array, a tensor that requires grad, …
        report["write_error"] = f"{type(error).__name__}: {error}"
        return report
    report["after_result_write"] = snapshot(source)
    return report


# ---------------------------------------------------------------------------------------------------
# In the driver


def summary_of(value):
    """The result's kind, shape and dtype, from the data that arrived here (verified)."""
    if isinstance(value, torch.Tensor):
        return {"type": "torch.Tensor", "shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, np.ndarray):
        return {"type": "numpy.ndarray", "shape": list(value.shape), "dtype": str(value.dtype)}
    return {"type": getattr(value, "type_name", type(value).__name__)}


def observe_case(ctx, key, function, case, purpose, wanted):
    """The student's function called directly on this job's input (verified: kind, shape, dtype and
    values), then the agent's write-and-snapshot routine for sharing (observed)."""
    name, shape, dtype, transposed = case
    source = fresh_array(name, shape, dtype, transposed, purpose, ctx.seed)
    if wanted == "numpy.ndarray":
        source = torch.from_numpy(np.ascontiguousarray(source))
    result = ctx.call(key, function, source)
    if result is FAILED:
        return
    summary = summary_of(result)
    ctx.observe(key, summary)
    if summary["type"] != wanted or tuple(summary["shape"]) != tuple(shape):
        return  # the check explains the type or shape
    prefix = key.replace(".", "_")
    ctx.save_array(f"{prefix}_before", result)
    base = fresh_base(name, shape, dtype, transposed, purpose, ctx.seed)
    report = ctx.run(f"{key}.sharing", "agent_writes", function, list(case), base, wanted)
    if not isinstance(report, dict):
        return
    for part in ("after_input_write", "after_result_write"):
        if part in report:
            ctx.save_array(f"{prefix}_{part}", report[part])
    if isinstance(report.get("write_error"), str):
        ctx.observe(f"{key}.write", {"error": report["write_error"][:2000]})


def driver(ctx):
    ctx.load_solution()
    for case in ARRAY_CASES:
        for purpose, function in CALLS[:2]:
            observe_case(ctx, f"{purpose}.{case[0]}", function, case, purpose, "torch.Tensor")
    for case in TENSOR_CASES:
        observe_case(ctx, f"array.{case[0]}", "shared_array", case, "array", "numpy.ndarray")
