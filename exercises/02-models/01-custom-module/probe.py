"""Probe for trial 2.1, custom-module. Runs inside the sandbox; observes, never judges.

It builds the student's `Net()`, lists the parameters the module registered, runs image batches of
sizes 1 and 64 through it, then loads known weights into the (10, 784) weight and (10,) bias it found
and runs a fresh batch of 5 images, and one of those images alone, so the check can recompute the
exact scores outside. check.py reads the literals below with `literal_from`, so keep them literals.
"""

import torch

from exercises.kit.data import seed_from, seeded_array
from exercises.kit.probe import FAILED

# (name, batch size) of (N, 1, 28, 28) image batches whose output shape is observed.
SHAPE_CASES = [("single", 1), ("batch", 64)]
VALUE_BATCH = 5  # the batch whose scores are compared with W · flatten(x) + b
LONE_INDEX = 3  # this image of the batch also goes through the model alone
WEIGHT_SCALE = 0.05


def images(name, batch):
    """Seeded images the check can rebuild (standard normal values, like normalised pixels)."""
    return torch.from_numpy(seeded_array((batch, 1, 28, 28), "float32", seed_from("custom-module", name)))


def known_weights():
    weight = seeded_array((10, 784), "float32", seed_from("custom-module", "weight")) * WEIGHT_SCALE
    bias = seeded_array((10,), "float32", seed_from("custom-module", "bias")) * WEIGHT_SCALE
    return torch.from_numpy(weight), torch.from_numpy(bias)


def parameter_table(model):
    table = []
    for name, parameter in model.named_parameters():
        table.append(
            {
                "name": name,
                "shape": [int(size) for size in parameter.shape],
                "numel": int(parameter.numel()),
                "requires_grad": bool(parameter.requires_grad),
            }
        )
    return table


def load_known_weights(model):
    """Copy the known weights into the one (10, 784) and the one (10,) parameter; say what happened."""
    weights = [p for p in model.parameters() if tuple(p.shape) == (10, 784)]
    biases = [p for p in model.parameters() if tuple(p.shape) == (10,)]
    if len(weights) != 1 or len(biases) != 1:
        return {"loaded": False, "weights": len(weights), "biases": len(biases)}
    weight, bias = known_weights()
    with torch.no_grad():
        weights[0].copy_(weight)
        biases[0].copy_(bias)
    return {"loaded": True}


def probe(ctx):
    ctx.load_solution()
    torch.manual_seed(0)
    model = ctx.call("build", "Net")
    if model is FAILED:
        return
    ctx.observe(
        "build",
        {"is_module": isinstance(model, torch.nn.Module), "type": ctx.describe_tensor(model)["type"]},
    )
    if not isinstance(model, torch.nn.Module):
        return
    ctx.observe("parameters", parameter_table(model))

    for name, batch in SHAPE_CASES:
        output = ctx.call(f"forward.{name}", model, images(name, batch))
        if output is not FAILED:
            ctx.observe(f"forward.{name}", ctx.describe_tensor(output))

    ctx.observe("weights", load_known_weights(model))
    batch = images("values", VALUE_BATCH)
    output = ctx.call("values.batch", model, batch)
    if output is not FAILED:
        ctx.observe("values.batch", ctx.describe_tensor(output))
        ctx.save_array("values_batch", output)
    alone = ctx.call("values.alone", model, batch[LONE_INDEX : LONE_INDEX + 1].clone())
    if alone is not FAILED:
        ctx.observe("values.alone", ctx.describe_tensor(alone))
        ctx.save_array("values_alone", alone)
