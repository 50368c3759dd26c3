"""Driver for trial 2.1, custom-module. The student's code runs in the agent; this process drives it.

The agent builds the student's `Net()` and keeps it (`agent_build`), lists the parameters the module
registered, runs the image batches this process sends (sizes 1 and 64; `agent_forward`), then loads
weights this process drew from the job's seed and sends as data (the seed never enters the agent) into
the (10, 784) weight and (10,) bias it found
(`agent_load_weights`) and runs a fresh batch of 5 images, and one of those images alone. Output shapes
and scores come back as data and are *verified*: the check recomputes the exact scores from the seed.
The parameter table and whether loading worked are *observed* (seen in the student's process).
check.py reads the literals below with `literal_from`, so keep them literals.
"""

import torch

from exercises.kit.data import seed_from, seeded_array
from exercises.kit.probe import FAILED

# (name, batch size) of (N, 1, 28, 28) image batches whose output shape is observed.
SHAPE_CASES = [("single", 1), ("batch", 64)]
VALUE_BATCH = 5  # the batch whose scores are compared with W · flatten(x) + b
LONE_INDEX = 3  # this image of the batch also goes through the model alone
WEIGHT_SCALE = 0.05


def images(name, batch, seed):
    """Seeded images the check can rebuild (standard normal values, like normalised pixels)."""
    return torch.from_numpy(
        seeded_array((batch, 1, 28, 28), "float32", seed_from("custom-module", name, seed))
    )


def known_weights(seed):
    weight = seeded_array((10, 784), "float32", seed_from("custom-module", "weight", seed)) * WEIGHT_SCALE
    bias = seeded_array((10,), "float32", seed_from("custom-module", "bias", seed)) * WEIGHT_SCALE
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


def load_known_weights(model, weight, bias):
    """Copy the known weights into the one (10, 784) and the one (10,) parameter; say what happened."""
    weights = [p for p in model.parameters() if tuple(p.shape) == (10, 784)]
    biases = [p for p in model.parameters() if tuple(p.shape) == (10,)]
    if len(weights) != 1 or len(biases) != 1:
        return {"loaded": False, "weights": len(weights), "biases": len(biases)}
    with torch.no_grad():
        weights[0].copy_(weight)
        biases[0].copy_(bias)
    return {"loaded": True}


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process): the model lives here between calls


MODEL = []


def agent_build(solution):
    torch.manual_seed(0)
    model = solution.Net()
    MODEL[:] = [model]
    is_module = isinstance(model, torch.nn.Module)
    kind = type(model)
    return {
        "is_module": is_module,
        "type": f"{kind.__module__}.{kind.__qualname__}",
        "parameters": parameter_table(model) if is_module else None,
    }


def agent_forward(solution, x):
    return MODEL[0](x)


def agent_load_weights(solution, weight, bias):
    """The known weights arrive as data: the driver drew them from the job's seed, which never enters the
    agent."""
    return load_known_weights(MODEL[0], weight, bias)


# ---------------------------------------------------------------------------------------------------
# In the driver


def driver(ctx):
    ctx.load_solution()
    built = ctx.run("build", "agent_build")
    if not isinstance(built, dict):
        return
    ctx.observe("build", {"is_module": built.get("is_module") is True, "type": str(built.get("type"))[:200]})
    if built.get("is_module") is not True:
        return
    ctx.observe("parameters", built.get("parameters"))

    for name, batch in SHAPE_CASES:
        output = ctx.run(f"forward.{name}", "agent_forward", images(name, batch, ctx.seed))
        if output is not FAILED:
            ctx.observe(f"forward.{name}", ctx.describe_tensor(output))

    loaded = ctx.run("weights", "agent_load_weights", *known_weights(ctx.seed))
    if loaded is not FAILED:
        ctx.observe("weights", loaded)
    batch = images("values", VALUE_BATCH, ctx.seed)
    output = ctx.run("values.batch", "agent_forward", batch)
    if output is not FAILED:
        ctx.observe("values.batch", ctx.describe_tensor(output))
        ctx.save_array("values_batch", output)
    alone = ctx.run("values.alone", "agent_forward", batch[LONE_INDEX : LONE_INDEX + 1].clone())
    if alone is not FAILED:
        ctx.observe("values.alone", ctx.describe_tensor(alone))
        ctx.save_array("values_alone", alone)
