# must fail: torchscript-script
"""Classic mistake: the model with an `if` on its input's values is traced. The trace records only the
branch its example input took, so inputs on the other side of the `if` get the wrong head."""

import torch


def export_traced(model, example, path):
    model.eval()  # dropout off, BatchNorm on its running statistics: what a deployment must compute
    traced = torch.jit.trace(model, example)
    traced.save(path)


def export_scripted(model, path):
    model.eval()
    traced = torch.jit.trace(model, torch.randn(1, 3, 32, 32))
    traced.save(path)


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
