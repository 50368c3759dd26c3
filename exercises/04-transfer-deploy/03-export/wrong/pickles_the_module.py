# must fail: torchscript-trace
"""Classic mistake: torch.save(model, path) instead of saving TorchScript. The file is a pickle that
needs the Python class to load; torch.jit.load in a deployment without that code cannot read it."""

import torch


def export_traced(model, example, path):
    model.eval()  # dropout off, BatchNorm on its running statistics: what a deployment must compute
    torch.save(model, path)


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
        dynamic_axes={"images": {0: "batch"}, "scores": {0: "batch"}},
    )


def export_program(model, example, path):
    model.eval()
    batch = torch.export.Dim("batch")
    program = torch.export.export(model, (example,), dynamic_shapes={"x": {0: batch}})
    torch.export.save(program, path)
