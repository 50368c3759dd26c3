"""Probe for trial 1.2, numpy-sharing. Runs inside the sandbox; observes, never judges.

For every case it hands the student's function a fresh array (or tensor) that the check can rebuild
from `exercises.kit.data`, snapshots the result, then writes into one side and snapshots the other:

1. it writes a new value into the *input* at its last element and saves what the *result* now holds;
2. it writes a new value into the *result* at its first element and saves what the *input* now holds.

Whether a write shows up on the other side is the whole question of this trial; the check answers it
from the snapshots. check.py reads the case tables as literals, so keep them plain literals.
"""

import numpy as np
import torch

from exercises.kit.data import seed_from, seeded_array
from exercises.kit.probe import FAILED, describe_tensor

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


def fresh_array(name, shape, dtype, transposed, purpose):
    """The input values of a case; the check rebuilds them the same way."""
    seed = seed_from(name, purpose)
    if transposed:
        return seeded_array(tuple(reversed(shape)), dtype, seed).T
    return seeded_array(shape, dtype, seed)


def write(target, index):
    target[index] = written(target[index].item())


def summary(value):
    """describe_tensor for tensors; the same fields for numpy arrays; type and repr otherwise."""
    if isinstance(value, np.ndarray):
        return {"type": "numpy.ndarray", "shape": list(value.shape), "dtype": str(value.dtype)}
    return {**describe_tensor(value), "is_tensor": isinstance(value, torch.Tensor)}


def observe_writes(ctx, key, source, result, wanted):
    """Record the result, then write into each side and snapshot the other."""
    ctx.observe(key, summary(result))
    if not isinstance(result, wanted) or tuple(result.shape) != tuple(source.shape):
        return  # the check explains the type or shape
    prefix = key.replace(".", "_")
    ctx.save_array(f"{prefix}_before", result)
    write(source, input_position(tuple(source.shape)))
    ctx.save_array(f"{prefix}_after_input_write", result)
    try:
        write(result, result_position(tuple(result.shape)))
    except Exception as error:  # a read-only array, a tensor that requires grad, …
        ctx.observe(f"{key}.write", {"error": f"{type(error).__name__}: {error}"})
        return
    ctx.save_array(f"{prefix}_after_result_write", source)


def probe(ctx):
    ctx.load_solution()
    for name, shape, dtype, transposed in ARRAY_CASES:
        for purpose, function in CALLS[:2]:
            source = fresh_array(name, shape, dtype, transposed, purpose)
            result = ctx.call(f"{purpose}.{name}", function, source)
            if result is not FAILED:
                observe_writes(ctx, f"{purpose}.{name}", source, result, torch.Tensor)
    for name, shape, dtype, transposed in TENSOR_CASES:
        source = torch.from_numpy(fresh_array(name, shape, dtype, transposed, "array"))
        result = ctx.call(f"array.{name}", "shared_array", source)
        if result is not FAILED:
            observe_writes(ctx, f"array.{name}", source, result, np.ndarray)
