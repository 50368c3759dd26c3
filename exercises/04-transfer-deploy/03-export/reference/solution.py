"""Trial 4.3 reference: eval() first, then trace, script, ONNX and torch.export, each with a batch size
that may vary at run time."""

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
        dynamic_axes={"images": {0: "batch"}, "scores": {0: "batch"}},
    )


def export_program(model, example, path):
    model.eval()
    batch = torch.export.Dim("batch")
    program = torch.export.export(model, (example,), dynamic_shapes={"x": {0: batch}})
    torch.export.save(program, path)
