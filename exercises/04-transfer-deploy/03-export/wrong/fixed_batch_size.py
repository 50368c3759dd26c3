# must fail: onnx-export, torch-export
"""Classic mistake: no dynamic batch dimension. ONNX and torch.export both fix every dimension to the
example's size unless told otherwise, so a batch of 1 or 5 is rejected."""

import torch


def export_traced(model, example, path):
    model.eval()  # dropout off, BatchNorm on its running statistics: what a deployment must compute
    traced = torch.jit.trace(model, example)
    traced.save(path)


def export_scripted(model, path):
    model.eval()
    scripted = torch.jit.script(model)  # compiles the Python code: both branches of the `if` survive
    scripted.save(path)


def export_onnx(model, example, path):
    model.eval()
    torch.onnx.export(
        model,
        (example,),
        path,
        dynamo=False,
        input_names=["images"],
        output_names=["scores"],
    )


def export_program(model, example, path):
    model.eval()
    program = torch.export.export(model, (example,))
    torch.export.save(program, path)
