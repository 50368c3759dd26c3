"""Trial 4.3, a second reference written differently: train(False) instead of eval(), torch.jit.save,
positional dynamic shapes with Dim.DYNAMIC, and other ONNX input/output names."""

import torch
from torch.export import Dim


def export_traced(model, example, path):
    torch.jit.save(torch.jit.trace(model.train(False), example), path)


def export_scripted(model, path):
    torch.jit.save(torch.jit.script(model.train(False)), path)


def export_onnx(model, example, path):
    model.train(False)
    with torch.no_grad():
        torch.onnx.export(
            model,
            example,
            path,
            dynamo=False,
            input_names=["x"],
            output_names=["logits"],
            dynamic_axes={"x": [0], "logits": [0]},
            opset_version=17,
        )


def export_program(model, example, path):
    program = torch.export.export(model.train(False), (example,), dynamic_shapes=({0: Dim.DYNAMIC},))
    torch.export.save(program, path)
