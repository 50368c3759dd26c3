"""Driver for trial 2.2, model-summary. The student's code runs in the agent; this process drives it.

The agent builds three models the statement never shows (a partly frozen MLP whose layers are defined
in a different order than they run, a nested CNN with BatchNorm, a 1-D convolution net fed a single
sample) from the builders below and hands each to the student's `summarize(model, input_size)`
(`agent_summarize`); what it returns comes back as data and is *verified* against hidden/expected.json,
which `generate.py` computes outside from the same builders (so keep `MODELS` and the builders here).
Then the agent builds the student's `FixedNet` and keeps it: its outputs for batches of 64 and 1 are
*verified* shapes; its parameter counts, Linear layers and leaf layers (type, output shape, parameters,
recorded with forward hooks) are *observed* in the student's process.
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


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process): FixedNet lives here between calls

FIXED = []


def agent_summarize(solution, name, input_size):
    builder = dict((model_name, build) for model_name, build, _ in MODELS)[name]
    torch.manual_seed(0)
    return solution.summarize(builder(), tuple(input_size))


def agent_fixed_build(solution):
    torch.manual_seed(0)
    model = solution.FixedNet()
    if not isinstance(model, nn.Module):
        kind = type(model)
        return {"is_module": False, "type": f"{kind.__module__}.{kind.__qualname__}"}
    FIXED[:] = [model]
    return {
        "is_module": True,
        "total": sum(p.numel() for p in model.parameters()),
        "linear": [[m.in_features, m.out_features] for m in model.modules() if isinstance(m, nn.Linear)],
    }


def agent_fixed_forward(solution, batch):
    return FIXED[0](torch.randn(batch, 1, 28, 28))


def agent_fixed_layers(solution, input_size):
    return leaf_layers(FIXED[0], tuple(input_size))


# ---------------------------------------------------------------------------------------------------
# In the driver


def driver(ctx):
    ctx.load_solution()
    for name, _builder, input_size in MODELS:
        summary = ctx.run(f"summary.{name}", "agent_summarize", name, input_size)
        if summary is not FAILED:
            ctx.observe(f"summary.{name}", summary)

    built = ctx.run("fixed.build", "agent_fixed_build")
    if not isinstance(built, dict):
        return
    ctx.observe("fixed.build", built)
    if built.get("is_module") is not True:
        return
    for name, batch in FIXED_BATCHES:
        output = ctx.run(f"fixed.{name}", "agent_fixed_forward", batch)
        if output is not FAILED:
            ctx.observe(f"fixed.{name}", ctx.describe_tensor(output))
    layers = ctx.run("fixed.layers", "agent_fixed_layers", (2, 1, 28, 28))
    if layers is not FAILED:
        ctx.observe("fixed.layers", layers)
