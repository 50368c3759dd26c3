"""Driver for trial 1.4, autograd. The student's code runs in the agent; this process drives it.

The student's functions receive scalar functions `f` they have never seen and points `x` drawn from
this job's secret seed. A function is a live object, so the agent builds it from its spec (`agent_call`:
the name and shape, the same `function` below) and calls the student's code with it; the gradients
come back here as data and are *verified*: the check compares them with gradients it derives by hand
from the same spec and seed, outside the sandbox. Whether `gradients_with_zeroing` returned distinct
tensors (not one tensor, or one storage, several times) is only visible in the student's process:
that part of `zeroing` is *observed*; its values are verified.

Inputs are float64 tensors that do not require grad; weights come from `exercises.kit.data`, keyed by
the function and shape, points by the case and the job's seed (drawn here and sent as data: the seed
never enters the agent), so the check rebuilds them exactly.
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


def point(case, shape, seed):
    return torch.from_numpy(seeded_array(shape, "float64", seed_from(case, "x", seed)))


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process)


def agent_call(solution, student_function, names, shape, x, *extra):
    """Build the functions `names` (one name: a single function), call the student's code at the point
    `x` the driver drew from the job's seed and sent as data (the seed never enters the agent).
    For a list result, also say which items are distinct objects and memory blocks (observed)."""
    target = getattr(solution, student_function, None)
    if not callable(target):
        from exercises.kit.messages import both

        raise NameError(both("no_function", name=student_function))
    shape = tuple(shape)
    functions = function(names, shape) if isinstance(names, str) else [function(n, shape) for n in names]
    result = target(functions, x, *extra)
    if isinstance(names, str) or not isinstance(result, list | tuple):
        return result
    items = list(result)
    return {
        "items": items,
        "distinct_objects": len({id(item) for item in items}),
        "distinct_memory": len(
            {item.data_ptr() for item in items if isinstance(item, torch.Tensor) and item.numel()}
        ),
    }


# ---------------------------------------------------------------------------------------------------
# In the driver


def observe_tensor(ctx, key, value):
    ctx.observe(key, ctx.describe_tensor(value))
    ctx.save_array(key.replace(".", "_").replace("-", "_"), value)


def driver(ctx):
    ctx.load_solution()

    for case, name, shape in GRADIENT_CASES:
        result = ctx.run(
            f"gradient.{case}", "agent_call", "gradient", name, shape, point(case, shape, ctx.seed)
        )
        if result is not FAILED:
            observe_tensor(ctx, f"gradient.{case}", result)

    for case, name, shape, n in ACCUMULATION_CASES:
        result = ctx.run(
            f"accumulated.{case}",
            "agent_call",
            "accumulated_gradient",
            name,
            shape,
            point(case, shape, ctx.seed),
            n,
        )
        if result is not FAILED:
            observe_tensor(ctx, f"accumulated.{case}", result)

    for case, names, shape in ZEROING_CASES:
        key = f"zeroing.{case}"
        result = ctx.run(
            key, "agent_call", "gradients_with_zeroing", list(names), shape, point(case, shape, ctx.seed)
        )
        if result is FAILED:
            continue
        if not isinstance(result, dict) or not isinstance(result.get("items"), list):
            ctx.observe(
                key, {"type": getattr(result, "type_name", type(result).__name__), "repr": repr(result)[:200]}
            )
            continue
        items = result["items"]
        counts = {
            field: value if type(value) is int else None
            for field in ("distinct_objects", "distinct_memory")
            for value in [result.get(field)]
        }
        ctx.observe(
            key, {"length": len(items), "items": [ctx.describe_tensor(item) for item in items], **counts}
        )
        for number, item in enumerate(items[: len(names)]):
            ctx.save_array(f"zeroing_{case}_{number}", item)
