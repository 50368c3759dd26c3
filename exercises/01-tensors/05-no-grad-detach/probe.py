"""Driver for trial 1.5, no-grad-detach. The student's code runs in the agent; this process drives it.

Models, optimizers and graphs are live objects, so each part runs as the trial's own routine in the
student's process (`agent_predict`, `agent_detached`, `agent_inplace`, `agent_train`), built there from
the specs below; what they return crosses as data. Verified (recomputed by the check from the specs):
predict's output values, the detached values and the leaf's gradient, the logged loss values. Observed
(only the student's process can see them): grad mode inside forward, tensors saved for backward,
memory sharing, version counters, whether a logged loss is a Python float.

1. `predict(model, x)`: hooks on the model record `torch.is_grad_enabled()` while its forward runs, and
   `torch.autograd.graph.saved_tensors_hooks` counts every tensor autograd saves for a backward pass
   during the call — the memory a graph costs. Then: the output's requires_grad/grad_fn and values,
   whether the parameters still require grad, and whether grad mode is still on after the call.
2. `detached(t)` with `t = leaf.exp()` (its graph saves t itself): does the result share t's memory,
   is it cut off from the graph, does t keep its graph (a backward through t still reaches the leaf)?
   Then, on a fresh t, an in-place write into the result (doubling it): t's values come back (a result
   that shares t's memory doubles t too), and does t's version counter see it (detach()), or not (.data)?
3. `train(model, optimizer, batches)`: the logged losses must be plain Python numbers.

Models and batches come from `exercises.kit.data`; predict's inputs are drawn from the job's seed here
and sent as data (saved as `predict_x_<case>`), so the check recomputes the expected outputs and the
whole loss trajectory with numpy. check.py reads the constants as literals.
"""

import itertools

import torch
from torch import nn

from exercises.kit.data import seed_from, seeded_array
from exercises.kit.probe import FAILED

# predict: an MLP with these layer sizes, on these batches (name, rows)
LAYERS = [6, 16, 3]
PREDICT_CASES = [("batch", 5), ("single", 1)]
# detached: t = leaf.exp() for a leaf of this shape
DETACH_SHAPE = (4, 3)
# train: a linear model, plain SGD, mean squared error, these batches
TRAIN_IN = 5
TRAIN_OUT = 3
TRAIN_ROWS = 8
TRAIN_STEPS = 4
LEARNING_RATE = 0.05


def tensor(shape, *parts, dtype="float32"):
    return torch.from_numpy(seeded_array(tuple(shape), dtype, seed_from(*parts)))


def predict_model():
    layers = []
    for number, (inputs, outputs) in enumerate(itertools.pairwise(LAYERS)):
        linear = nn.Linear(inputs, outputs)
        with torch.no_grad():
            linear.weight.copy_(tensor((outputs, inputs), "predict", number, "weight") / inputs**0.5)
            linear.bias.copy_(tensor((outputs,), "predict", number, "bias"))
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process)


def agent_predict(solution, x):
    model = predict_model()
    seen = []
    model.register_forward_pre_hook(
        lambda module, args: seen.append(
            {"grad_enabled": torch.is_grad_enabled(), "inference": torch.is_inference_mode_enabled()}
        )
    )
    saved = {"count": 0, "bytes": 0}

    def pack(value):
        saved["count"] += 1
        saved["bytes"] += value.numel() * value.element_size()
        return value

    torch.set_grad_enabled(True)
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda value: value):
            output = solution.predict(model, x)
        grad_after = torch.is_grad_enabled()
    finally:
        torch.set_grad_enabled(True)  # whatever predict left behind, the rest of the run needs it on
    return {
        "output": output,
        "grad_fn": None if not isinstance(output, torch.Tensor) else type(output.grad_fn).__name__,
        "forward_calls": seen[:10],
        "saved_tensors": saved["count"],
        "saved_bytes": saved["bytes"],
        "grad_enabled_after": grad_after,
        "parameters_require_grad": all(p.requires_grad for p in model.parameters()),
    }


def agent_detached(solution):
    leaf = tensor(DETACH_SHAPE, "detach", "leaf", dtype="float64").requires_grad_(True)
    t = leaf.exp()
    result = solution.detached(t)
    is_tensor = isinstance(result, torch.Tensor)
    observation = {
        "result": result,
        "grad_fn": type(result.grad_fn).__name__ if is_tensor else None,
        "same_data_ptr": is_tensor and result.data_ptr() == t.data_ptr(),
        "same_storage": is_tensor and result.untyped_storage().data_ptr() == t.untyped_storage().data_ptr(),
        "original_grad_fn": type(t.grad_fn).__name__,
        "original_requires_grad": t.requires_grad,
    }
    try:
        t.backward(torch.ones_like(t))
        observation["original_backward"] = "ok"
        observation["leaf_grad"] = leaf.grad
    except Exception as error:
        observation["original_backward"] = f"{type(error).__name__}: {error}"
    return observation


def agent_inplace(solution):
    """A fresh t: write into the result in place, then see whether autograd noticed."""
    leaf = tensor(DETACH_SHAPE, "detach", "leaf", dtype="float64").requires_grad_(True)
    t = leaf.exp()
    result = solution.detached(t)
    if not isinstance(result, torch.Tensor):
        return None
    observation = {"version_before": t._version}
    try:
        result.mul_(2)
    except Exception as error:
        return {**observation, "write": f"{type(error).__name__}: {error}"}
    observation["version_after"] = t._version
    observation["original_after_write"] = t.detach().clone()  # doubled too when the result shares t's memory
    try:
        t.backward(torch.ones_like(t))
        observation["backward"] = "ok"
        observation["leaf_grad"] = leaf.grad
    except Exception as error:
        observation["backward"] = f"{type(error).__name__}: {str(error)[:300]}"
    return observation


def train_setup():
    model = nn.Linear(TRAIN_IN, TRAIN_OUT)
    with torch.no_grad():
        model.weight.copy_(tensor((TRAIN_OUT, TRAIN_IN), "train", "weight") / TRAIN_IN**0.5)
        model.bias.copy_(tensor((TRAIN_OUT,), "train", "bias"))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    batches = [
        (
            tensor((TRAIN_ROWS, TRAIN_IN), "train", step, "x"),
            tensor((TRAIN_ROWS, TRAIN_OUT), "train", step, "y"),
        )
        for step in range(TRAIN_STEPS)
    ]
    return model, optimizer, batches


def agent_train(solution):
    model, optimizer, batches = train_setup()
    logged = solution.train(model, optimizer, batches)
    if not isinstance(logged, list | tuple):
        return {"type": type(logged).__name__, "repr": repr(logged)[:200]}
    items = []
    for value in list(logged)[:100]:
        is_tensor = isinstance(value, torch.Tensor)
        items.append(
            {
                "type": f"{type(value).__module__}.{type(value).__qualname__}",
                "is_float": isinstance(value, float),
                "is_tensor": is_tensor,
                "grad_fn": type(value.grad_fn).__name__ if is_tensor and value.grad_fn is not None else None,
                "value": float(value.detach().reshape(-1)[0]) if is_tensor and value.numel() else value,
            }
        )
    return {"length": len(logged), "items": items}


# ---------------------------------------------------------------------------------------------------
# In the driver


def plain(value):
    """An agent's answer with tensors replaced by their summaries (for observations)."""
    if isinstance(value, dict):
        return {
            key: plain(item)
            for key, item in value.items()
            if key not in ("leaf_grad", "original_after_write")
        }
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, torch.Tensor):
        return {"type": "torch.Tensor", "shape": list(value.shape), "dtype": str(value.dtype)}
    return value


def driver(ctx):
    ctx.load_solution()
    for case, rows in PREDICT_CASES:
        x = torch.from_numpy(seeded_array((rows, LAYERS[0]), "float32", seed_from("predict", case, ctx.seed)))
        ctx.save_array(f"predict_x_{case}", x)
        answer = ctx.run(f"predict.{case}", "agent_predict", x)
        if isinstance(answer, dict):
            output = answer.get("output")
            ctx.observe(f"predict.{case}", {**plain(answer), "output": ctx.describe_tensor(output)})
            ctx.save_array(f"predict_{case}", output)
    answer = ctx.run("detach", "agent_detached")
    if isinstance(answer, dict):
        result = answer.get("result")
        ctx.observe("detach", {**plain(answer), "result": ctx.describe_tensor(result)})
        ctx.save_array("detach_result", result)
        ctx.save_array("detach_leaf_grad", answer.get("leaf_grad"))
        answer = ctx.run("inplace", "agent_inplace")
        if isinstance(answer, dict):
            ctx.observe("inplace", plain(answer))
            ctx.save_array("inplace_leaf_grad", answer.get("leaf_grad"))
            ctx.save_array("inplace_original_after_write", answer.get("original_after_write"))
    answer = ctx.run("train", "agent_train")
    if answer is not FAILED:
        ctx.observe("train", plain(answer))
