# must fail: torchscript-trace, torch-export
"""Classic mistake: exporting straight after training, in train mode. Dropout keeps dropping at random
and BatchNorm normalises with each batch's own statistics, and the export records exactly that."""

import torch


def export_traced(model, example, path):
    traced = torch.jit.trace(model, example)
    traced.save(path)


def export_scripted(model, path):
    scripted = torch.jit.script(model)  # compiles the Python code: both branches of the `if` survive
    scripted.save(path)


def export_onnx(model, example, path):
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
    batch = torch.export.Dim("batch")
    program = torch.export.export(model, (example,), dynamic_shapes={"x": {0: batch}})
    torch.export.save(program, path)
