"""Probe for trial 1.4, autograd. Runs inside the sandbox; observes, never judges.

The student's functions receive scalar functions `f` they have never seen (built here from FUNCTIONS,
with hidden weights) and points `x` that differ from every example in the statement. The probe saves
what comes back; the check compares it with gradients it derives by hand, outside the sandbox.

Inputs are float64 tensors that do not require grad; weights and points come from
`exercises.kit.data`, keyed by the case and function names, so the check rebuilds them exactly.
check.py reads the case tables as literals, so keep them plain literals.
"""

import torch

from exercises.kit.data import seed_from, seeded_array
from exercises.kit.probe import FAILED

# (case, function, shape of x)
GRADIENT_CASES = [
    ("scalar", "square", ()),
    ("vector", "cubic", (5,)),
    ("matrix", "sin_times_x", (2, 3)),
    ("mean", "softplus_mean", (4,)),
    ("weights", "weighted_exp", (3, 2)),
    ("quadratic", "quadratic_form", (4,)),
    ("length", "norm", (6,)),
    ("softmax", "log_sum_exp", (2, 2)),
]
# (case, function, shape of x, number of backward passes)
ACCUMULATION_CASES = [
    ("three", "cubic", (3,), 3),
    ("four", "quadratic_form", (4,), 4),
    ("two", "weighted_exp", (2, 2), 2),
    ("one", "norm", (5,), 1),
]
# (case, functions in order, shape of x)
ZEROING_CASES = [
    ("steps", ["cubic", "sin_times_x", "norm"], (4,)),
    ("losses", ["weighted_exp", "softplus_mean", "square", "log_sum_exp"], (2, 3)),
]


def weights(name, shape):
    return torch.from_numpy(seeded_array(shape, "float64", seed_from(name, "weights", *shape)))


def function(name, shape):
    """The scalar function `name` for inputs of `shape` (its weights depend on both)."""
    if name == "square":
        return lambda x: (x**2).sum()
    if name == "cubic":
        return lambda x: (x**3 - 2 * x).sum()
    if name == "sin_times_x":
        return lambda x: (torch.sin(x) * x).sum()
    if name == "softplus_mean":
        return lambda x: torch.nn.functional.softplus(x).mean()
    if name == "weighted_exp":
        w = weights(name, shape)
        return lambda x: (torch.exp(x) * w).sum()
    if name == "quadratic_form":
        a = weights(name, (shape[0], shape[0]))
        return lambda x: x @ a @ x
    if name == "norm":
        return lambda x: torch.linalg.vector_norm(x)
    if name == "log_sum_exp":
        return lambda x: torch.logsumexp(x.reshape(-1), dim=0)
    raise ValueError(name)


def point(case, shape):
    return torch.from_numpy(seeded_array(shape, "float64", seed_from(case, "x")))


def observe_tensor(ctx, key, value):
    ctx.observe(key, ctx.describe_tensor(value))
    ctx.save_array(key.replace(".", "_").replace("-", "_"), value)


def probe(ctx):
    ctx.load_solution()

    for case, name, shape in GRADIENT_CASES:
        result = ctx.call(f"gradient.{case}", "gradient", function(name, shape), point(case, shape))
        if result is not FAILED:
            observe_tensor(ctx, f"gradient.{case}", result)

    for case, name, shape, n in ACCUMULATION_CASES:
        result = ctx.call(
            f"accumulated.{case}", "accumulated_gradient", function(name, shape), point(case, shape), n
        )
        if result is not FAILED:
            observe_tensor(ctx, f"accumulated.{case}", result)

    for case, names, shape in ZEROING_CASES:
        functions = [function(name, shape) for name in names]
        result = ctx.call(f"zeroing.{case}", "gradients_with_zeroing", functions, point(case, shape))
        if result is FAILED:
            continue
        if not isinstance(result, list | tuple):
            ctx.observe(f"zeroing.{case}", {"type": type(result).__name__, "repr": repr(result)[:200]})
            continue
        items = list(result)
        ctx.observe(
            f"zeroing.{case}",
            {
                "length": len(items),
                "items": [ctx.describe_tensor(item) for item in items],
                # How many different tensor objects and memory blocks the list holds.
                "distinct_objects": len({id(item) for item in items}),
                "distinct_memory": len(
                    {item.data_ptr() for item in items if isinstance(item, torch.Tensor) and item.numel()}
                ),
            },
        )
        for number, item in enumerate(items[: len(names)]):
            ctx.save_array(f"zeroing_{case}_{number}", item)
