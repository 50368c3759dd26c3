"""Driver for trial 1.1, tensor-basics. Runs in the driver process; the student's code runs in the agent.

It calls the student's three functions on a fixed table of cases that differs from every example in
the statement (a scalar, an empty tensor, integer and boolean dtypes), with round-trip inputs drawn
from this job's secret seed, then has the agent run solution.py again with CUDA simulated as available
and as unavailable, to see that the code asks for the GPU exactly when there is one and brings
round-trip results back to the CPU. Shapes, dtypes, describe()'s answers and round-trip values are
*verified*: they arrive here as data and the check compares them with what it rebuilds itself. Devices
(where the agent says a tensor lives, whether it asked for CUDA) are *observed* inside the agent.
check.py reads CASES and DEVICE_CASES from this file as literals, so keep them plain literals.
"""

import torch

from exercises.kit.data import seed_from, seeded_array
from exercises.kit.probe import FAILED

# (name, shape, dtype name). Names become observation keys.
CASES = [
    ("scalar", (), "float32"),
    ("single", (1,), "float64"),
    ("cube", (2, 3, 4), "int64"),
    ("empty", (0, 5), "float16"),
    ("mask", (3, 1, 2), "bool"),
    ("column", (5, 1), "int32"),
]
# The cases run again with CUDA simulated as available ("cuda.") and as unavailable ("cpu.").
DEVICE_CASES = ["single", "cube"]


def fresh_tensor(name, shape, dtype_name, purpose, seed):
    """A CPU tensor the check can rebuild from the job's seed: values from the case and its purpose."""
    return torch.from_numpy(seeded_array(shape, dtype_name, seed_from(name, purpose, seed)))


def driver(ctx):
    ctx.load_solution()
    cases = {name: (shape, getattr(torch, dtype_name), dtype_name) for name, shape, dtype_name in CASES}

    for name, (shape, dtype, dtype_name) in cases.items():
        made = ctx.call(f"make.{name}", "make_tensor", shape, dtype)
        if made is not FAILED:
            ctx.observe(f"make.{name}", ctx.describe_tensor(made))

        described = ctx.call(
            f"describe.{name}", "describe", fresh_tensor(name, shape, dtype_name, "describe", ctx.seed)
        )
        if described is not FAILED:
            ctx.observe(f"describe.{name}", described)

        returned = ctx.call(
            f"round_trip.{name}",
            "round_trip",
            fresh_tensor(name, shape, dtype_name, "round-trip", ctx.seed),
        )
        if returned is not FAILED:
            ctx.observe(f"round_trip.{name}", ctx.describe_tensor(returned))
            ctx.save_array(f"round_trip_{name}", returned)

    for world, available in (("cuda", True), ("cpu", False)):
        with ctx.patch_cuda_available(available):
            # Run the module again so that a module-level `device = ...` sees this world too.
            if ctx.reload_solution(f"{world}.import") is FAILED:
                continue
            for name in DEVICE_CASES:
                shape, dtype, dtype_name = cases[name]
                made = ctx.call(f"{world}.make.{name}", "make_tensor", shape, dtype)
                if made is not FAILED:
                    ctx.observe(f"{world}.make.{name}", placed(ctx, made))
                returned = ctx.call(
                    f"{world}.round_trip.{name}",
                    "round_trip",
                    fresh_tensor(name, shape, dtype_name, f"{world}-round-trip", ctx.seed),
                )
                if returned is not FAILED:
                    ctx.observe(f"{world}.round_trip.{name}", placed(ctx, returned))
                    ctx.save_array(f"{world}_round_trip_{name}", returned)


def placed(ctx, value):
    """The summary of a returned tensor with where the agent says it asked for and put it."""
    return {
        "tensor": ctx.describe_tensor(value),
        "cuda_requested": ctx.last_call.get("cuda_requested") is True,
        "on_cuda": ctx.facts(value).get("on_cuda") is True,
    }
