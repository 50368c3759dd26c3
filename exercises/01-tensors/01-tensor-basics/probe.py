"""Probe for trial 1.1, tensor-basics. Runs inside the sandbox; observes, never judges.

It calls the student's three functions on a fixed table of cases that differs from every example in
the statement (a scalar, an empty tensor, integer and boolean dtypes), then runs solution.py again with
CUDA simulated as available and as unavailable, to see that the code asks for the GPU exactly when
there is one and brings round-trip results back to the CPU. check.py reads CASES and DEVICE_CASES from
this file as literals, so keep them plain literals.
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


def fresh_tensor(name, shape, dtype_name, purpose):
    """A CPU tensor the check can rebuild: deterministic values from the case and its purpose."""
    return torch.from_numpy(seeded_array(shape, dtype_name, seed_from(name, purpose)))


def probe(ctx):
    ctx.load_solution()
    cases = {name: (shape, getattr(torch, dtype_name), dtype_name) for name, shape, dtype_name in CASES}

    for name, (shape, dtype, dtype_name) in cases.items():
        made = ctx.call(f"make.{name}", "make_tensor", shape, dtype)
        if made is not FAILED:
            ctx.observe(f"make.{name}", ctx.describe_tensor(made))

        described = ctx.call(
            f"describe.{name}", "describe", fresh_tensor(name, shape, dtype_name, "describe")
        )
        if described is not FAILED:
            ctx.observe(f"describe.{name}", described)

        returned = ctx.call(
            f"round_trip.{name}", "round_trip", fresh_tensor(name, shape, dtype_name, "round-trip")
        )
        if returned is not FAILED:
            ctx.observe(f"round_trip.{name}", ctx.describe_tensor(returned))
            ctx.save_array(f"round_trip_{name}", returned)

    for world, available in (("cuda", True), ("cpu", False)):
        with ctx.patch_cuda_available(available) as devices:
            # Run the module again so that a module-level `device = ...` sees this world too.
            if ctx.reload_solution(f"{world}.import") is FAILED:
                continue
            for name in DEVICE_CASES:
                shape, dtype, dtype_name = cases[name]
                before = len(devices.requests)
                made = ctx.call(f"{world}.make.{name}", "make_tensor", shape, dtype)
                if made is not FAILED:
                    ctx.observe(
                        f"{world}.make.{name}",
                        {
                            "tensor": ctx.describe_tensor(made),
                            "cuda_requested": devices.cuda_requested(before),
                            "on_cuda": devices.on_cuda(made),
                        },
                    )
                before = len(devices.requests)
                returned = ctx.call(
                    f"{world}.round_trip.{name}",
                    "round_trip",
                    fresh_tensor(name, shape, dtype_name, f"{world}-round-trip"),
                )
                if returned is not FAILED:
                    ctx.observe(
                        f"{world}.round_trip.{name}",
                        {
                            "tensor": ctx.describe_tensor(returned),
                            "cuda_requested": devices.cuda_requested(before),
                            "on_cuda": devices.on_cuda(returned),
                        },
                    )
                    ctx.save_array(f"{world}_round_trip_{name}", returned)
