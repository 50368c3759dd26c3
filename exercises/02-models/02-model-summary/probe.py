"""Probe for trial 2.2, model-summary. Runs inside the sandbox; observes, never judges.

It hands the student's `summarize(model, input_size)` three models the statement never shows (a
partly frozen MLP whose layers are defined in a different order than they run, a nested CNN with
BatchNorm, a 1-D convolution net fed a single sample) and records what it returns. Then it builds the
student's `FixedNet`, runs batches of 64 and 1 through it, and records its leaf layers (type, output
shape, parameters) with forward hooks. The check compares everything with hidden/expected.json, which
`generate.py` computes from the same builders below (so keep `MODELS` and the builders here).
"""

import torch
from torch import nn

from exercises.kit.probe import FAILED


class FrozenMLP(nn.Module):
    """The head is defined first but runs last; the body is frozen (not trainable)."""

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(32, 5)
        self.body = nn.Sequential(nn.Linear(20, 32), nn.ReLU())
        for parameter in self.body.parameters():
            parameter.requires_grad_(False)

    def forward(self, x):
        return self.head(self.body(x))


def frozen_mlp():
    return FrozenMLP()


def small_cnn():
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Conv2d(8, 16, 3), nn.ReLU()),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 4),
    )


def signal_net():
    return nn.Sequential(
        nn.Conv1d(4, 6, kernel_size=5, stride=2),
        nn.GELU(),
        nn.Dropout(0.1),
        nn.Flatten(),
        nn.Linear(6 * 13, 3),
    )


# (name, builder, input size). Names become observation keys.
MODELS = [
    ("frozen-mlp", frozen_mlp, (7, 20)),
    ("small-cnn", small_cnn, (2, 3, 20, 20)),
    ("signal-net", signal_net, (1, 4, 30)),
]
FIXED_BATCHES = [("batch", 64), ("single", 1)]


def leaf_layers(model, input_size):
    """[type, output shape, parameters] of every leaf module, in the order they run."""
    rows = []
    handles = []

    def record(module, inputs, output):
        shape = list(output.shape) if isinstance(output, torch.Tensor) else None
        rows.append([type(module).__name__, shape, sum(p.numel() for p in module.parameters())])

    for module in model.modules():
        if not any(module.children()):
            handles.append(module.register_forward_hook(record))
    try:
        with torch.no_grad():
            model.eval()
            model(torch.zeros(input_size))
    finally:
        for handle in handles:
            handle.remove()
    return rows


def probe(ctx):
    ctx.load_solution()
    for name, builder, input_size in MODELS:
        torch.manual_seed(0)
        summary = ctx.call(f"summary.{name}", "summarize", builder(), input_size)
        if summary is not FAILED:
            ctx.observe(f"summary.{name}", summary)

    torch.manual_seed(0)
    model = ctx.call("fixed.build", "FixedNet")
    if model is FAILED:
        return
    if not isinstance(model, nn.Module):
        ctx.observe("fixed.build", {"is_module": False, "type": ctx.describe_tensor(model)["type"]})
        return
    ctx.observe(
        "fixed.build",
        {
            "is_module": True,
            "total": sum(p.numel() for p in model.parameters()),
            "linear": [[m.in_features, m.out_features] for m in model.modules() if isinstance(m, nn.Linear)],
        },
    )
    for name, batch in FIXED_BATCHES:
        output = ctx.call(f"fixed.{name}", model, torch.randn(batch, 1, 28, 28))
        if output is not FAILED:
            ctx.observe(f"fixed.{name}", ctx.describe_tensor(output))
    layers = ctx.call("fixed.layers", leaf_layers, model, (2, 1, 28, 28))
    if layers is not FAILED:
        ctx.observe("fixed.layers", layers)
