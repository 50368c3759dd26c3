"""Check for trial 1.5, no-grad-detach. Runs outside the sandbox and scores the probe's observations.

Expected values are recomputed here with numpy from the probe's constants and `exercises.kit.data`:
the MLP's outputs for predict(), exp(leaf) and its gradient for detached(), and the whole SGD loss
trajectory of train(). What the probe observed about graphs (grad mode inside forward, saved tensors,
grad_fn, shared memory, version counters) is judged against the behaviour each API guarantees.

Verified (values that reached the driver as data, recomputed here): predict's outputs on the inputs the
driver drew from the job's seed (`predict_x_<case>`), the detached values, the leaf's gradient, t's values
after the detached result was doubled in place (memory sharing as an outcome: detach-shares-storage is a
verified check), the logged loss values. Observed (seen only by the trial's routines in the student's
process): grad mode and saved tensors during forward, grad_fn and requires_grad, version counters,
whether a logged loss is a Python float; predict-no-graph, logged-loss-float and detach-tracks-inplace
rest on those, so a student who replaces the trial's routines in their own process can fake them
(tests/security), and their messages say so.
"""

import itertools
from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, show
from exercises.kit.data import seed_from, seeded_array

HERE = Path(__file__).resolve().parent
LAYERS = literal_from(HERE / "probe.py", "LAYERS")
PREDICT_CASES = literal_from(HERE / "probe.py", "PREDICT_CASES")
DETACH_SHAPE = tuple(literal_from(HERE / "probe.py", "DETACH_SHAPE"))
TRAIN_IN = literal_from(HERE / "probe.py", "TRAIN_IN")
TRAIN_OUT = literal_from(HERE / "probe.py", "TRAIN_OUT")
TRAIN_ROWS = literal_from(HERE / "probe.py", "TRAIN_ROWS")
TRAIN_STEPS = literal_from(HERE / "probe.py", "TRAIN_STEPS")
LEARNING_RATE = literal_from(HERE / "probe.py", "LEARNING_RATE")

CHECKS = [
    Check(
        "predict-no-graph",
        zh="predict 推理时不建计算图",
        en="predict builds no graph during inference",
        points=30,
        basis="observed",
        basis_note="grad mode and the tensors saved for backward during forward are seen only in the student's process; the outputs' values, on inputs drawn from the job's seed, are verified",
    ),
    Check(
        "detach-shares-storage",
        zh="detach 的结果共享内存、脱离计算图",
        en="The detached tensor shares memory and leaves the graph",
        points=25,
        basis="verified",
        basis_note="the detached values, the leaf's gradient through t and t's values after a write into the result, computed by the driver; that the result has no grad_fn is observed",
    ),
    Check(
        "logged-loss-float",
        zh="记录的损失是 Python 浮点数",
        en="Logged losses are Python floats",
        points=30,
        basis="observed",
        basis_note="whether a logged loss is a Python float is seen only in the student's process; the loss values are recomputed by replaying SGD",
    ),
    Check(
        "detach-tracks-inplace",
        zh="对 detach 结果的原地修改，autograd 能察觉",
        en="Autograd notices in-place writes to the detached tensor",
        points=15,
        visible=False,
        basis="observed",
        basis_note="version counters are seen only in the student's process; the leaf's gradient is verified",
    ),
]


def check(ctx):
    yield ctx.evaluate("predict-no-graph", check_predict)
    yield ctx.evaluate("detach-shares-storage", check_detach)
    yield ctx.evaluate("logged-loss-float", check_logged_loss)
    yield ctx.evaluate("detach-tracks-inplace", check_inplace)


# ---------------------------------------------------------------------------------------------------
# Expected values (mirrors probe.py)


def tensor(shape, *parts, dtype="float32"):
    return seeded_array(tuple(shape), dtype, seed_from(*parts))


def predict_expected(x):
    h = np.asarray(x, dtype=np.float64)
    pairs = list(itertools.pairwise(LAYERS))
    for number, (inputs, outputs) in enumerate(pairs):
        weight = tensor((outputs, inputs), "predict", number, "weight") / np.float32(inputs**0.5)
        bias = tensor((outputs,), "predict", number, "bias")
        h = h @ weight.astype(np.float64).T + bias
        if number < len(pairs) - 1:
            h = np.maximum(h, 0)
    return h


def leaf():
    return tensor(DETACH_SHAPE, "detach", "leaf", dtype="float64")


def loss_trajectory():
    weight = (tensor((TRAIN_OUT, TRAIN_IN), "train", "weight") / np.float32(TRAIN_IN**0.5)).astype(np.float64)
    bias = tensor((TRAIN_OUT,), "train", "bias").astype(np.float64)
    losses = []
    for step in range(TRAIN_STEPS):
        x = tensor((TRAIN_ROWS, TRAIN_IN), "train", step, "x").astype(np.float64)
        y = tensor((TRAIN_ROWS, TRAIN_OUT), "train", step, "y").astype(np.float64)
        difference = x @ weight.T + bias - y
        losses.append(float(np.mean(difference**2)))
        grad = 2 * difference / difference.size
        weight -= LEARNING_RATE * grad.T @ x
        bias -= LEARNING_RATE * grad.sum(axis=0)
    return losses


def numbers(values, limit=4):
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    text = ", ".join(f"{value:.4g}" for value in flat[:limit])
    return f"[{text}{', …' if flat.size > limit else ''}]"


def verdict(ctx, key, problems, zh_ok, en_ok):
    if not problems:
        return ctx.passed(key, zh=zh_ok, en=en_ok)
    zh, en = problems[0]
    if len(problems) > 1:
        zh += f"\n（共发现 {len(problems)} 处问题，这里先列出第一处。）"
        en += f"\n({len(problems)} problems found; this is the first.)"
    return ctx.failed(key, zh=zh, en=en)


def is_summary(value):
    return (
        isinstance(value, dict)
        and isinstance(value.get("shape"), list)
        and isinstance(value.get("dtype"), str)
    )


# ---------------------------------------------------------------------------------------------------
# The checks


def predict_problem(ctx, case, rows):
    call = f"predict(model, x: shape ({rows}, {LAYERS[0]}))"
    key = f"predict.{case}"
    if error := ctx.error_of(key):
        return f"{call} 出错：\n{error}", f"{call} raised an error:\n{error}"
    value = ctx.observed(key)
    if not isinstance(value, dict) or "output" not in value:
        return f"没有 {call} 的观测结果。", f"No observation for {call}."
    output = value["output"]
    if not is_summary(output):
        return (
            f"{call} 返回的是 {show(output.get('type') if isinstance(output, dict) else output)}，应返回模型输出的张量。",
            f"{call} returned a {show(output.get('type') if isinstance(output, dict) else output)}; it should return the model's output tensor.",
        )
    if value.get("parameters_require_grad") is False:
        return (
            f"{call} 把模型参数的 requires_grad 关掉了：这样推理虽然不建图，模型之后却再也训练不了。"
            "不要改模型，改的是“梯度模式”：with torch.no_grad(): ...",
            f"{call} switched requires_grad off on the model's parameters: inference builds no graph that way, but the "
            "model can never be trained again. Leave the model alone and change the grad mode instead: "
            "with torch.no_grad(): ...",
        )
    calls = value.get("forward_calls")
    enabled_inside = isinstance(calls, list) and any(
        isinstance(call_, dict) and call_.get("grad_enabled") is True for call_ in calls
    )
    saved = value.get("saved_tensors")
    if enabled_inside or (isinstance(saved, int) and saved > 0):
        saved_bytes = value.get("saved_bytes", 0)
        return (
            f"{call} 运行模型 forward 时梯度是开着的（forward 里 torch.is_grad_enabled() 为 True），autograd 为一次永远不会发生的 "
            f"backward 保存了 {saved} 个张量（{saved_bytes} 字节）。之后再 .detach() 只是把结果剪下来，内存已经花掉了。"
            "把 forward 放进 with torch.no_grad():（或 torch.inference_mode()）里。",
            f"{call} ran the model's forward with gradients on (torch.is_grad_enabled() was True inside forward), and "
            f"autograd saved {saved} tensors ({saved_bytes} bytes) for a backward that never comes. A .detach() "
            "afterwards only cuts the result loose; the memory was already spent. Run the forward inside "
            "with torch.no_grad(): (or torch.inference_mode()).",
        )
    if output.get("requires_grad") is not False or value.get("grad_fn") not in (None, "NoneType"):
        return (
            f"{call} 的输出仍然需要梯度（grad_fn = {show(value.get('grad_fn'))}）：它还连在计算图上。",
            f"The output of {call} still requires grad (grad_fn = {show(value.get('grad_fn'))}): it is still attached to a graph.",
        )
    if value.get("grad_enabled_after") is False:
        return (
            f"{call} 返回之后，整个程序的梯度都还是关着的：把 torch.set_grad_enabled(False) 当普通函数调用，会一直改变全局状态，"
            "之后的训练就不再计算梯度了。用 with 块（with torch.no_grad(): 或 with torch.set_grad_enabled(False):），"
            "或者 @torch.no_grad() 装饰器，离开时会自动恢复。",
            f"After {call} returned, gradients stayed off for the whole program: torch.set_grad_enabled(False) called as "
            "a plain function changes global state, and later training silently computes no gradients. Use a with-block "
            "(with torch.no_grad(): or with torch.set_grad_enabled(False):) or the @torch.no_grad() decorator; they "
            "restore the mode on the way out.",
        )
    x = ctx.array(f"predict_x_{case}")
    if x is None or x.shape != (rows, LAYERS[0]):
        raise RuntimeError(f"the driver saved no inputs for predict.{case}")
    expected = predict_expected(x)
    array = ctx.array(f"predict_{case}")
    if tuple(output["shape"]) != expected.shape or array is None:
        return (
            f"{call} 返回的形状是 {tuple(output['shape'])!r}，应为 {expected.shape!r}。",
            f"{call} returned shape {tuple(output['shape'])!r}; expected {expected.shape!r}.",
        )
    if not np.allclose(array.astype(np.float64), expected, rtol=1e-4, atol=1e-5):
        return (
            f"{call} 返回 {numbers(array)}，模型的输出应为 {numbers(expected)}。直接返回 model(x) 的结果。",
            f"{call} returned {numbers(array)}; the model's output is {numbers(expected)}. Return what model(x) gives.",
        )
    return None


def check_predict(ctx):
    problems = [problem for case, rows in PREDICT_CASES if (problem := predict_problem(ctx, case, rows))]
    return verdict(
        ctx,
        "predict-no-graph",
        problems,
        "推理时 forward 在梯度关闭的状态下运行，没有为反向传播保存任何张量，输出正确且不需要梯度；之后梯度模式也恢复了。"
        "（输出的数值在你的进程之外核对；梯度模式和保存的张量只能在你的进程里观察。）",
        "The forward ran with gradients off, saved nothing for a backward pass, and gave the right output without "
        "grad; the grad mode was restored afterwards. (The outputs' values are checked outside your process; grad "
        "mode and saved tensors can only be observed inside it.)",
    )


def check_detach(ctx):
    call = f"detached(t)（t = leaf.exp()，形状 {DETACH_SHAPE!r}）"
    call_en = f"detached(t) (t = leaf.exp(), shape {DETACH_SHAPE!r})"
    if error := ctx.error_of("detach"):
        return ctx.failed(
            "detach-shares-storage", zh=f"{call} 出错：\n{error}", en=f"{call_en} raised an error:\n{error}"
        )
    value = ctx.observed("detach")
    if not isinstance(value, dict) or "result" not in value:
        return ctx.failed("detach-shares-storage")
    result = value["result"]
    problems = []
    if not is_summary(result):
        kind = show(result.get("type") if isinstance(result, dict) else result)
        problems.append(
            (
                f"{call} 返回的是 {kind}，应返回一个张量。",
                f"{call_en} returned a {kind}; it should return a tensor.",
            )
        )
    elif result.get("requires_grad") is not False or value.get("grad_fn") not in (None, "NoneType"):
        problems.append(
            (
                f"{call} 返回的张量仍然需要梯度（grad_fn = {show(value.get('grad_fn'))}）：它还在计算图里。用 t.detach()。",
                f"The tensor from {call_en} still requires grad (grad_fn = {show(value.get('grad_fn'))}): it is still in "
                "the graph. Use t.detach().",
            )
        )
    elif not (value.get("same_data_ptr") and value.get("same_storage")):
        problems.append(
            (
                f"{call} 返回的是一份副本（data_ptr 与 t 不同）：clone()、torch.tensor(t)、.numpy().copy() 都会复制，"
                "白白多占一份内存。detach() 返回的张量与 t 共享同一块内存，只是不再属于计算图。",
                f"{call_en} returned a copy (its data_ptr differs from t's): clone(), torch.tensor(t) and "
                ".numpy().copy() all copy, spending memory for nothing. detach() returns a tensor over the same memory "
                "as t, only outside the graph.",
            )
        )
    elif tuple(result["shape"]) != DETACH_SHAPE or result.get("dtype") != "torch.float64":
        problems.append(
            (
                f"{call} 返回的是 {tuple(result['shape'])!r}、{result.get('dtype')} 的张量，应与 t 相同。",
                f"{call_en} returned a {tuple(result['shape'])!r} {result.get('dtype')} tensor; it should match t.",
            )
        )
    else:
        array = ctx.array("detach_result")
        if array is None or not np.allclose(array, np.exp(leaf()), rtol=1e-12, atol=0):
            problems.append(
                (f"{call} 返回的数值与 t 不同。", f"{call_en} returned values different from t's.")
            )
    if not problems:
        original_ok = (
            value.get("original_requires_grad") is True
            and value.get("original_grad_fn") not in (None, "NoneType")
            and value.get("original_backward") == "ok"
        )
        grad = ctx.array("detach_leaf_grad")
        if not original_ok or grad is None or not np.allclose(grad, np.exp(leaf()), rtol=1e-10):
            problems.append(
                (
                    f"{call} 之后，t 自己丢了计算图（t.requires_grad = {show(value.get('original_requires_grad'))}，"
                    f"对 t 反向传播：{show(value.get('original_backward'))}）。detach_() 带下划线，是**原地**把 t 从图上摘下来；"
                    "detach() 返回一个新张量，t 本身原封不动。",
                    f"After {call_en}, t itself had lost its graph (t.requires_grad = "
                    f"{show(value.get('original_requires_grad'))}, backward through t: "
                    f"{show(value.get('original_backward'))}). detach_() with the underscore detaches t **in place**; "
                    "detach() returns a new tensor and leaves t as it was.",
                )
            )
    if not problems:
        after = ctx.array("inplace_original_after_write")
        if (
            after is None
            or after.shape != DETACH_SHAPE
            or not np.allclose(after, 2 * np.exp(leaf()), rtol=1e-12)
        ):
            problems.append(
                (
                    f"把 {call} 的结果原地乘以 2 之后，t 的数值没有跟着变成两倍（在你的进程之外比较）：结果并不和 t 共享内存，"
                    "是一份副本。detach() 返回的张量与 t 共享同一块内存。",
                    f"After the result of {call_en} was doubled in place, t's values did not double with it (compared "
                    "outside your process): the result does not share t's memory, it is a copy. detach() returns a "
                    "tensor over t's own memory.",
                )
            )
    return verdict(
        ctx,
        "detach-shares-storage",
        problems,
        "detach 的结果与 t 共享内存（把它原地乘以 2，t 也变成两倍），不需要梯度，而 t 的计算图完好无损。",
        "The detached tensor shares t's memory (doubling it in place doubled t), requires no grad, and t's graph "
        "is intact.",
    )


def check_logged_loss(ctx):
    call = f"train(model, optimizer, batches)（{TRAIN_STEPS} 个批次）"
    call_en = f"train(model, optimizer, batches) ({TRAIN_STEPS} batches)"
    if error := ctx.error_of("train"):
        return ctx.failed(
            "logged-loss-float", zh=f"{call} 出错：\n{error}", en=f"{call_en} raised an error:\n{error}"
        )
    value = ctx.observed("train")
    if not isinstance(value, dict):
        return ctx.failed("logged-loss-float")
    if "length" not in value:
        return ctx.failed(
            "logged-loss-float",
            zh=f"{call} 返回的是 {show(value.get('type'))}，应返回每一步损失组成的列表。",
            en=f"{call_en} returned a {show(value.get('type'))}; it should return a list with one loss per step.",
        )
    if value["length"] != TRAIN_STEPS:
        return ctx.failed(
            "logged-loss-float",
            zh=f"{call} 返回了 {value['length']} 个损失，应为 {TRAIN_STEPS} 个（每个批次一个）。",
            en=f"{call_en} returned {value['length']} losses; expected {TRAIN_STEPS} (one per batch).",
        )
    items = value.get("items") if isinstance(value.get("items"), list) else []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            return ctx.failed("logged-loss-float")
        if item.get("is_tensor"):
            grad_fn = item.get("grad_fn")
            zh = f"记录的第 {index} 个损失是 torch.Tensor，不是 Python 浮点数。用 loss.detach().cpu().item()（或 loss.item()）。"
            en = (
                f"Logged loss {index} is a torch.Tensor, not a Python float. Use loss.detach().cpu().item() (or "
                "loss.item())."
            )
            if grad_fn:
                zh += (
                    f"这个张量还带着 grad_fn（{grad_fn}），只要列表还在，它就让整张计算图和其中保存的激活值一直留在内存里："
                    "每训练一步，内存就涨一截。"
                )
                en += (
                    f" This tensor still carries its grad_fn ({grad_fn}), so as long as the list lives it keeps the "
                    "whole graph, with every activation it saved, in memory: memory grows with every step."
                )
            else:
                zh += (
                    "即使已经 detach，它也还是张量（在 GPU 上还占着显存）；日志、打印和绘图需要的是普通数字。"
                )
                en += " Even detached it is still a tensor (on a GPU, in GPU memory); logs, prints and plots want a plain number."
            return ctx.failed("logged-loss-float", zh=zh, en=en)
        if not item.get("is_float"):
            return ctx.failed(
                "logged-loss-float",
                zh=f"记录的第 {index} 个损失是 {show(item.get('type'))}，不是 Python 浮点数。用 loss.item()。",
                en=f"Logged loss {index} is a {show(item.get('type'))}, not a Python float. Use loss.item().",
            )
    logged = [item.get("value") for item in items]
    expected = loss_trajectory()
    if not all(isinstance(v, int | float) for v in logged) or not np.allclose(
        logged, expected, rtol=1e-4, atol=1e-6
    ):
        return ctx.failed(
            "logged-loss-float",
            zh=f"记录的损失 {numbers(logged)} 与真实的训练损失 {numbers(expected)} 不符。每个批次：optimizer.zero_grad()，"
            "loss = F.mse_loss(model(x), y)，loss.backward()，optimizer.step()，记录这个 loss。",
            en=f"The logged losses {numbers(logged)} differ from the real training losses {numbers(expected)}. For each "
            "batch: optimizer.zero_grad(), loss = F.mse_loss(model(x), y), loss.backward(), optimizer.step(), and log "
            "that loss.",
        )
    return ctx.passed(
        "logged-loss-float",
        zh=f"{TRAIN_STEPS} 个损失都是 Python 浮点数，与真实的训练损失一致。（数值在你的进程之外核对；"
        "是不是浮点数只能在你的进程里观察。）",
        en=f"All {TRAIN_STEPS} losses are Python floats and match the real training losses. (The values are checked "
        "outside your process; whether they are floats can only be observed inside it.)",
    )


def check_inplace(ctx):
    if ctx.error_of("inplace") or ctx.error_of("detach"):
        return ctx.failed(
            "detach-tracks-inplace",
            zh="detached(t) 出错了（见上一项检查）。",
            en="detached(t) raised an error (see the check above).",
        )
    value = ctx.observed("inplace")
    detach = ctx.observed("detach")
    if not isinstance(value, dict) or not isinstance(detach, dict):
        return ctx.failed(
            "detach-tracks-inplace",
            zh="detached(t) 没有返回张量，无法检查（见上一项检查）。",
            en="detached(t) did not return a tensor, so this could not be checked (see the check above).",
        )
    if "write" in value:
        return ctx.failed(
            "detach-tracks-inplace",
            zh=f"对 detached(t) 的结果做原地乘法失败了：{value['write']}。detach() 的结果是普通张量，可以原地修改。",
            en=f"Multiplying the result of detached(t) in place failed: {value['write']}. A detach() result is an "
            "ordinary tensor that can be written in place.",
        )
    if not detach.get("same_data_ptr"):
        return ctx.passed(
            "detach-tracks-inplace",
            zh="你的结果是副本，写它不会影响 t 的梯度（但它不共享内存，见上一项检查）。",
            en="Your result is a copy, so writing it cannot corrupt t's gradients (it does not share memory, though; "
            "see the check above).",
        )
    before, after = value.get("version_before"), value.get("version_after")
    if isinstance(before, int) and isinstance(after, int) and after > before:
        return ctx.passed(
            "detach-tracks-inplace",
            zh="原地修改 detach 的结果后，t 的版本计数随之增加，autograd 能发现保存的值被改过（反向传播会报错，而不是算错）。"
            "（版本计数只能在你的进程里观察。）",
            en="After the detached tensor was modified in place, t's version counter moved with it, so autograd can tell "
            "a saved value was changed (backward raises instead of computing wrong gradients). (Version counters can "
            "only be observed inside your process.)",
        )
    grad = ctx.array("inplace_leaf_grad")
    silently_wrong = grad is not None and not np.allclose(grad, np.exp(leaf()), rtol=1e-10)
    zh = (
        "探针把你返回的张量原地乘以 2，t 的版本计数却没有变：autograd 没有察觉 t 被改了，这正是 .data 的行为。"
        "t = leaf.exp() 在图里保存的正是 t 本身，"
        + (
            "于是随后的反向传播**悄悄地**算出了错误的梯度（2·eˣ 而不是 eˣ）。"
            if silently_wrong
            else "随后的反向传播可能算错。"
        )
        + "detach() 与 t 共享版本计数，autograd 会直接报错，而不是给出错误的结果。用 t.detach()，不要用 t.data。"
    )
    en = (
        "The probe multiplied your result by 2 in place, and t's version counter did not move: autograd never "
        "noticed that t changed, which is how .data behaves. t = leaf.exp() saves t itself for its backward, "
        + (
            "so the backward that followed **silently** computed wrong gradients (2·eˣ instead of eˣ). "
            if silently_wrong
            else "so a later backward may compute wrong gradients. "
        )
        + "detach() shares the version counter with t, and autograd raises an error instead of giving a wrong "
        "answer. Use t.detach(), not t.data."
    )
    return ctx.failed("detach-tracks-inplace", zh=zh, en=en)
