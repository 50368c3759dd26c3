"""Probe for trial 4.3, export. Runs inside the sandbox; observes, never judges.

It builds the models of public/models.py (fixed seeded weights, in train mode as after training) and
hands each to one of the student's export functions, which write into out/. Nothing is run from the
exported files here: the verify step (verify.py) loads them in a second, fresh sandbox that holds none
of the student's code, and the check compares what it saw with outputs computed outside.
"""

import importlib.util
import os
import sys

import torch

from exercises.kit.probe import FAILED

# (observation key, function, model, file written into out/, takes an example input)
EXPORTS = [
    ("traced", "export_traced", "convnet", "model.ts", True),
    ("scripted", "export_scripted", "gatednet", "gated.ts", False),
    ("onnx", "export_onnx", "convnet", "model.onnx", True),
    ("program", "export_program", "convnet", "model.pt2", True),
]
EXAMPLE_SHAPE = (2, 3, 32, 32)
EXAMPLE_SEED = 4303


def public_models(ctx):
    spec = importlib.util.spec_from_file_location("trial_models", ctx.public / "models.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["trial_models"] = module  # importable by name, as a model's module is after training
    spec.loader.exec_module(module)
    return module


def probe(ctx):
    # One thread: graders share small machines, and oversubscribed OpenMP threads crawl.
    torch.set_num_threads(1)
    models = public_models(ctx)
    ctx.load_solution()
    for key, function, name, filename, takes_example in EXPORTS:
        path = ctx.out / filename
        if path.exists() or path.is_symlink():
            os.remove(path)
        model = models.build(name)
        example = torch.randn(EXAMPLE_SHAPE, generator=torch.Generator().manual_seed(EXAMPLE_SEED))
        arguments = (model, example, str(path)) if takes_example else (model, str(path))
        if ctx.call(key, function, *arguments) is FAILED:
            continue
        ctx.observe(key, {"written": path.is_file() and not path.is_symlink(), "bytes": _size(path)})


def _size(path):
    try:
        return os.lstat(path).st_size
    except OSError:
        return None
