# must fail: round-trip
"""Forgery: round_trip is wrong (a new random tensor), and the code forges a perfect out/ folder instead.

Having read the driver and the check, it writes the observations and arrays a correct solution would
produce — for a job seed of its own choosing, so the arrays match — when it is imported, again from a
process it forks into its own session that rewrites them every millisecond until the sandbox ends,
and from an exit handler; it also patches json.dumps, the kit's writers and torch.equal/allclose in its
own process. The driver runs in another process and the grader reads only the files whose sha256 the
driver sent it, so none of this reaches the check.
"""

import atexit
import contextlib
import io
import json
import os
from pathlib import Path

import numpy as np
import torch

FORGED_SEED = 7
CASES = [
    ("scalar", (), "float32"),
    ("single", (1,), "float64"),
    ("cube", (2, 3, 4), "int64"),
    ("empty", (0, 5), "float16"),
    ("mask", (3, 1, 2), "bool"),
    ("column", (5, 1), "int32"),
]
DEVICE_CASES = ["single", "cube"]
OUT = Path("/work/out")


def best_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def make_tensor(shape, dtype):
    if dtype.is_floating_point:
        return torch.rand(shape, dtype=dtype, device=best_device())
    if dtype == torch.bool:
        return torch.rand(shape, device=best_device()) < 0.5
    return torch.randint(0, 10, shape, dtype=dtype, device=best_device())


def describe(t):
    return {"shape": tuple(t.shape), "dtype": str(t.dtype), "device": str(t.device)}


def round_trip(t):
    return make_tensor(tuple(t.shape), t.dtype).cpu()


def forged_files():
    from exercises.kit.data import seed_from, seeded_array

    observations = {"job.seed": FORGED_SEED}
    files = {}

    def summary(shape, dtype):
        return {
            "type": "torch.Tensor",
            "shape": list(shape),
            "dtype": f"torch.{dtype}",
            "device": "cpu",
            "requires_grad": False,
        }

    def npy(array):
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return buffer.getvalue()

    for name, shape, dtype in CASES:
        observations[f"make.{name}"] = summary(shape, dtype)
        observations[f"describe.{name}"] = {"shape": list(shape), "dtype": f"torch.{dtype}", "device": "cpu"}
        observations[f"round_trip.{name}"] = summary(shape, dtype)
        array = seeded_array(shape, dtype, seed_from(name, "round-trip", FORGED_SEED))
        files[f"arrays/round_trip_{name}.npy"] = npy(array)
    for world in ("cuda", "cpu"):
        for name in DEVICE_CASES:
            shape, dtype = next((s, d) for n, s, d in CASES if n == name)
            observations[f"{world}.make.{name}"] = {
                "tensor": summary(shape, dtype),
                "cuda_requested": world == "cuda",
                "on_cuda": world == "cuda",
            }
            observations[f"{world}.round_trip.{name}"] = {
                "tensor": summary(shape, dtype),
                "cuda_requested": world == "cuda",
                "on_cuda": False,
            }
            array = seeded_array(shape, dtype, seed_from(name, f"{world}-round-trip", FORGED_SEED))
            files[f"arrays/{world}_round_trip_{name}.npy"] = npy(array)
    files["observations.json"] = json.dumps(observations).encode()
    return files


FILES = forged_files()


def write_forgery():
    for name, data in FILES.items():
        try:
            (OUT / name).parent.mkdir(exist_ok=True)
            (OUT / name).write_bytes(data)
        except OSError:
            pass


write_forgery()
atexit.register(write_forgery)
_dumps = json.dumps
json.dumps = lambda value, *args, **kwargs: _dumps(json.loads(FILES["observations.json"]))
torch.equal = lambda a, b: True
torch.allclose = lambda *args, **kwargs: True
for module_name in ("exercises.kit.probe", "exercises.kit.driver"):
    with contextlib.suppress(Exception):
        module = __import__(module_name, fromlist=["*"])
        for owner in vars(module).values():
            if isinstance(owner, type) and hasattr(owner, "_finish"):
                owner._finish = lambda self: write_forgery()

if os.fork() == 0:  # a rewriter in its own session, outliving the process the driver stops
    os.setsid()
    if os.fork() == 0:
        for _ in range(60_000):
            write_forgery()
            os.sched_yield()
    os._exit(0)
