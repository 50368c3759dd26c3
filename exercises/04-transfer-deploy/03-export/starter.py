"""试炼 4.3 · 出窍 / Trial 4.3 · Out of the body.

把模型导出成不依赖你 Python 代码的文件。/ Export models to files that need none of your Python code.
"""

import torch
from torch import nn


def export_traced(model: nn.Module, example: torch.Tensor, path: str) -> None:
    """用 torch.jit.trace 导出结构固定的模型，保存到 path。/ Trace a fixed-structure model and save it to path."""
    # TODO 1: 先 model.eval()！然后 traced = torch.jit.trace(model, example); traced.save(path)
    #         model.eval() first! then trace and save
    raise NotImplementedError("export_traced: 还没写 / not written yet")


def export_scripted(model: nn.Module, path: str) -> None:
    """模型里有依赖输入数值的 if：用 torch.jit.script 导出。/ The model branches on its input's values: script it."""
    # TODO 2: torch.jit.script(model) 会编译 Python 代码，两条分支都保留 / compiles the code, keeps both branches
    raise NotImplementedError("export_scripted: 还没写 / not written yet")


def export_onnx(model: nn.Module, example: torch.Tensor, path: str) -> None:
    """导出 ONNX，批大小可变。/ Export to ONNX with a variable batch size."""
    # TODO 3: torch.onnx.export(model, (example,), path, dynamo=False, input_names=..., output_names=...,
    #                           dynamic_axes=...)
    raise NotImplementedError("export_onnx: 还没写 / not written yet")


def export_program(model: nn.Module, example: torch.Tensor, path: str) -> None:
    """用 torch.export 导出（今天推荐的方式），批大小可变。/ Export with torch.export, variable batch size."""
    # TODO 4: program = torch.export.export(model, (example,), dynamic_shapes=...); torch.export.save(program, path)
    raise NotImplementedError("export_program: 还没写 / not written yet")


if __name__ == "__main__":
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    export_traced(net, torch.randn(2, 3, 32, 32), "model.ts")
    print(torch.jit.load("model.ts")(torch.randn(5, 3, 32, 32)).shape)
