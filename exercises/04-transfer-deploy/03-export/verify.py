"""Verify step for trial 4.3: a driver of its own, in a SECOND, fresh sandbox. No solution.py: only the
files the first run's driver kept, copied to /work/first/files/ (the grader stages nothing else of the
first run's out/).

Loading an exported file runs what the student put into it (a torch.export archive is unpickled by
`torch.export.load`), so the files are loaded in the agent, as a deployment would load them —
TorchScript with torch.jit.load, ONNX with onnxruntime, an ExportedProgram with torch.export.load — and
this process sends them inputs drawn from its own secret seed (`ctx.seed`, drawn after the fork, never
in the agent before the call): batch sizes other than the example's, and both branches of the gated
model. The outputs come back as data and are saved for the check, which recomputes the inputs from the
seed (`job.seed`) and the expected outputs from the bundle's own models, outside.

check.py reads the literals below.
"""

import torch

from exercises.kit.data import seed_from
from exercises.kit.probe import FAILED

BATCHES = [1, 5]
SHIFTS = {"bright": 1.5, "dark": -1.5}  # the gated model's two branches
GATED_BATCH = 2
MAX_ERROR_CHARS = 1500
# (observation key, file kept by the first run's driver, how a deployment loads it)
FILES = [
    ("traced", "model.ts", "torchscript"),
    ("scripted", "gated.ts", "torchscript"),
    ("onnx", "model.onnx", "onnx"),
    ("program", "model.pt2", "program"),
]


def inputs(seed, batch, shift=0.0):
    """The job's inputs of `batch` images (check.py rebuilds them from the same seed)."""
    generator = torch.Generator().manual_seed(seed_from("export", batch, shift, seed))
    return torch.randn(batch, 3, 32, 32, generator=generator) + shift


# ---------------------------------------------------------------------------------------------------
# In the agent: the loaded files live here

LOADED = {}


def agent_load(solution, key, kind, path):
    torch.set_num_threads(1)
    if kind == "torchscript":
        model = torch.jit.load(path, map_location="cpu")
        LOADED[key] = model
        return {"training": bool(model.training)}
    if kind == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        LOADED[key] = lambda x: torch.from_numpy(session.run(None, {name: x.numpy()})[0])
        return {}
    LOADED[key] = torch.export.load(path).module()
    return {}


def agent_forward(solution, key, x):
    with torch.no_grad():
        return torch.as_tensor(LOADED[key](x))


# ---------------------------------------------------------------------------------------------------
# In the driver


def short_error(ctx, key):
    """The end of the traceback the agent sent for `key` (it stays in the observations whole too)."""
    value = ctx.observations.get(key)
    text = value.get("error") if isinstance(value, dict) else None
    return text.strip()[-MAX_ERROR_CHARS:] if isinstance(text, str) else "?"


def driver(ctx):
    torch.set_num_threads(1)
    ctx.observe("solution_present", (ctx.work / "solution.py").exists())
    for key, filename, kind in FILES:
        if key == "scripted":
            cases = {name: inputs(ctx.seed, GATED_BATCH, shift) for name, shift in SHIFTS.items()}
        else:
            cases = {f"b{batch}": inputs(ctx.seed, batch) for batch in BATCHES}
        ctx.observe(key, verify(ctx, key, kind, ctx.first / "files" / filename, cases))


def verify(ctx, key, kind, path, cases):
    if path.is_symlink() or not path.is_file():
        return {"file": False}
    seen = {"file": True}
    loaded = ctx.run(f"{key}.load", "agent_load", key, kind, str(path))
    if loaded is FAILED:
        seen["load_error"] = short_error(ctx, f"{key}.load")
        return seen
    if isinstance(loaded, dict) and isinstance(loaded.get("training"), bool):
        seen["training"] = loaded["training"]
    seen["outputs"] = {}
    for case, x in cases.items():
        first = ctx.run(f"{key}.{case}", "agent_forward", key, x)
        again = ctx.run(f"{key}.{case}.again", "agent_forward", key, x) if first is not FAILED else FAILED
        if first is FAILED:
            seen["outputs"][case] = {"error": short_error(ctx, f"{key}.{case}")}
            continue
        if not isinstance(first, torch.Tensor):
            seen["outputs"][case] = {"error": f"the model returned {type(first).__name__}, not a tensor"}
            continue
        ctx.save_array(f"{key}_{case}", first)
        seen["outputs"][case] = {
            "shape": list(first.shape),
            "repeatable": isinstance(again, torch.Tensor)
            and again.shape == first.shape
            and bool(torch.equal(again, first)),
        }
    return seen
