"""Driver for trial 4.3, export. The student's code runs in the agent; this process drives it.

The models of public/models.py (fixed seeded weights, in train mode as after training) are live
objects, so `agent_export` builds each in the agent (the student's process) and hands it to one of the
student's export functions, which writes into a fresh folder this process made under /tmp. Right after
each call this process reads the file back (a regular file, no link, at most the kit's cap) and keeps
that copy (`ctx.keep_file`): it becomes out/files/<name>, named in the manifest. Nothing is run from
the exported files here. The verify step (verify.py) receives only the files the manifest names —
whatever the student's code wrote to out/ itself, or changed after it was read, never reaches it — and
runs them in a second, fresh sandbox that holds none of the student's code, on inputs drawn there from
a secret seed of its own; the check compares those outputs with outputs computed outside.
"""

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import torch

from exercises.kit.observations import MAX_FILE_BYTES, UnsafeFile, open_directory, read_regular_file
from exercises.kit.probe import FAILED

# (observation key, function, model, file kept for the verify step, takes an example input)
EXPORTS = [
    ("traced", "export_traced", "convnet", "model.ts", True),
    ("scripted", "export_scripted", "gatednet", "gated.ts", False),
    ("onnx", "export_onnx", "convnet", "model.onnx", True),
    ("program", "export_program", "convnet", "model.pt2", True),
]
EXAMPLE_SHAPE = (2, 3, 32, 32)
EXAMPLE_SEED = 4303


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process)


def public_models():
    module = sys.modules.get("trial_models")
    if module is None:
        spec = importlib.util.spec_from_file_location("trial_models", Path("/work/public/models.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules["trial_models"] = module  # importable by name, as a model's module is after training
        spec.loader.exec_module(module)
    return module


def agent_export(solution, function, name, path, example):
    """Build the model `name` here and call the student's `function(model, [example,] path)`."""
    torch.set_num_threads(1)  # graders share small machines, and oversubscribed OpenMP threads crawl
    target = getattr(solution, function, None)
    if not callable(target):
        from exercises.kit.messages import both

        raise NameError(both("no_function", name=function))
    model = public_models().build(name)
    if example is None:
        target(model, path)
    else:
        target(model, example, path)


# ---------------------------------------------------------------------------------------------------
# In the driver


def read_back(folder, filename):
    """The bytes of the file the student's code wrote, or None (missing, a link, not a regular file,
    over the cap)."""
    folder_fd = open_directory(folder)
    if folder_fd is None:
        return None
    try:
        return read_regular_file(filename, dir_fd=folder_fd, max_bytes=MAX_FILE_BYTES)
    except (OSError, UnsafeFile):
        return None
    finally:
        os.close(folder_fd)


def driver(ctx):
    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="exports-", dir="/tmp"))
    ctx.load_solution()
    for key, function, name, filename, takes_example in EXPORTS:
        example = (
            torch.randn(EXAMPLE_SHAPE, generator=torch.Generator().manual_seed(EXAMPLE_SEED))
            if takes_example
            else None
        )
        if ctx.run(key, "agent_export", function, name, str(folder / filename), example) is FAILED:
            continue
        data = read_back(folder, filename)
        kept = data is not None and ctx.keep_file(filename, data)
        ctx.observe(key, {"written": bool(kept), "bytes": None if data is None else len(data)})
