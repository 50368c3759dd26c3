# must fail: torchscript-trace, torchscript-script
"""Forgery: the two TorchScript exports are no models at all, and the right ones are planted where the
verify step used to look.

Having read verify.py as it was (fixed inputs, seeded with 4310 + the batch size), export_traced and
export_scripted save scripted lookup tables: the eval-mode outputs for exactly those inputs, chosen by
the batch size or the sign of the batch's mean, whatever the images hold. They also write proper eval
exports into out/ under every name the verify step might read (model.ts, files/model.ts, ...), with
observations claiming both were written, again from a process forked into its own session that
rewrites them until the sandbox ends and from an exit handler. The verify step's inputs now come from a
secret seed of its own, and it receives only the files whose sha256 the first run's driver sent (the
copies it read back right after each call): the tables answer the wrong inputs, and the planted files
never arrive.
"""

import atexit
import io
import json
import os
from pathlib import Path

import torch
from torch import nn

OUT = Path("/work/out")
OLD_SEED = 4310
PLANTED = {}


def old_inputs(batch, shift=0.0):
    generator = torch.Generator().manual_seed(OLD_SEED + batch)
    return torch.randn(batch, 3, 32, 32, generator=generator) + shift


class BatchTable(nn.Module):
    def __init__(self, one, five):
        super().__init__()
        self.register_buffer("one", one)
        self.register_buffer("five", five)

    def forward(self, x):
        if x.shape[0] == 1:
            return self.one
        return self.five


class BranchTable(nn.Module):
    def __init__(self, bright, dark):
        super().__init__()
        self.register_buffer("bright", bright)
        self.register_buffer("dark", dark)

    def forward(self, x):
        if bool(x.mean() > 0):
            return self.bright
        return self.dark


def keep_planted(name, module):
    buffer = io.BytesIO()
    torch.jit.save(module, buffer)
    PLANTED[name] = buffer.getvalue()


def write_forgery():
    observations = {
        name: {"written": True, "bytes": 1000} for name in ("traced", "scripted", "onnx", "program")
    }
    try:
        (OUT / "files").mkdir(exist_ok=True)
        for name, data in PLANTED.items():
            (OUT / name).write_bytes(data)
            (OUT / "files" / name).write_bytes(data)
        (OUT / "observations.json").write_text(json.dumps(observations))
    except OSError:
        pass


def export_traced(model, example, path):
    model.eval()
    with torch.no_grad():
        table = BatchTable(model(old_inputs(1)), model(old_inputs(5)))
    torch.jit.script(table).save(path)
    keep_planted("model.ts", torch.jit.trace(model, example))
    write_forgery()


def export_scripted(model, path):
    model.eval()
    with torch.no_grad():
        table = BranchTable(model(old_inputs(2, 1.5)), model(old_inputs(2, -1.5)))
    torch.jit.script(table).save(path)
    keep_planted("gated.ts", torch.jit.script(model))
    write_forgery()
    if os.fork() == 0:  # a rewriter in its own session, outliving the process the driver stops
        os.setsid()
        if os.fork() == 0:
            for _ in range(60_000):
                write_forgery()
                os.sched_yield()
        os._exit(0)


def export_onnx(model, example, path):
    model.eval()
    torch.onnx.export(
        model,
        (example,),
        path,
        dynamo=False,
        input_names=["images"],
        output_names=["scores"],
        dynamic_axes={"images": {0: "batch"}, "scores": {0: "batch"}},
    )


def export_program(model, example, path):
    model.eval()
    batch = torch.export.Dim("batch")
    program = torch.export.export(model, (example,), dynamic_shapes={"x": {0: batch}})
    torch.export.save(program, path)


atexit.register(write_forgery)
