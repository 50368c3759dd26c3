"""Check for trial 1.4, autograd. Runs outside the sandbox and scores the driver's observations.

The driver's functions are never run here: each one's gradient is written out by hand below (numpy,
float64), at points (from this job's seed, `job.seed`) and with weights rebuilt from
`exercises.kit.data`. So the expected gradients come from calculus in the bundle, not from anything
autograd computed in the sandbox.

Verified (gradient values that reached the driver as data): gradient, accumulation, zeroing's values.
Observed (only in the student's process): whether zeroing's list holds distinct tensors and storages.
"""

from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, show
from exercises.kit.data import seed_from, seeded_array

HERE = Path(__file__).resolve().parent
GRADIENT_CASES = literal_from(HERE / "probe.py", "GRADIENT_CASES")
ACCUMULATION_CASES = literal_from(HERE / "probe.py", "ACCUMULATION_CASES")
ZEROING_CASES = literal_from(HERE / "probe.py", "ZEROING_CASES")
RTOL, ATOL = 1e-4, 1e-6  # float32 arithmetic inside the student's code is fine

CHECKS = [
    Check(
        "gradient",
        zh="隐藏函数的梯度正确",
        en="Gradients of hidden functions are right",
        points=35,
        basis="verified",
        basis_note="the returned gradients, recomputed on points the driver sends",
    ),
    Check(
        "accumulation",
        zh="n 次 backward 累积成 n 倍梯度",
        en="n backward passes accumulate n times the gradient",
        points=30,
        basis="verified",
        basis_note="the accumulated gradients' values",
    ),
    Check(
        "zeroing",
        zh="每步清零梯度并保存副本",
        en="The gradient is zeroed before each step and a copy is kept",
        points=35,
        visible=False,
        basis="verified",
        basis_note="the gradients' values after zeroing; that they are distinct tensors and storages is observed",
    ),
]


def check(ctx):
    yield ctx.evaluate("gradient", check_gradient)
    yield ctx.evaluate("accumulation", check_accumulation)
    yield ctx.evaluate("zeroing", check_zeroing)


# ---------------------------------------------------------------------------------------------------
# The gradients, by hand


def weights(name, shape):
    return seeded_array(shape, "float64", seed_from(name, "weights", *shape))


def job_seed(ctx):
    """The seed the driver drew this job's points from (None when it observed none: nothing matches)."""
    seed = ctx.observed("job.seed")
    return seed if type(seed) is int else None


def point(case, shape, seed):
    return seeded_array(shape, "float64", seed_from(case, "x", seed))


def derivative(name, x):
    """d f_name / dx at x, for the probe's function `name` (see probe.function)."""
    if name == "square":
        return 2 * x
    if name == "cubic":
        return 3 * x**2 - 2
    if name == "sin_times_x":
        return np.cos(x) * x + np.sin(x)
    if name == "softplus_mean":
        return 1 / (1 + np.exp(-x)) / x.size
    if name == "weighted_exp":
        return np.exp(x) * weights(name, x.shape)
    if name == "quadratic_form":
        a = weights(name, (x.shape[0], x.shape[0]))
        return (a + a.T) @ x
    if name == "norm":
        return x / np.sqrt(np.sum(x**2))
    if name == "log_sum_exp":
        flat = np.exp(x.reshape(-1) - x.max())
        return (flat / flat.sum()).reshape(x.shape)
    raise ValueError(name)


def close(array, expected):
    return (
        array is not None
        and array.shape == expected.shape
        and array.dtype.kind == "f"
        and bool(np.allclose(array, expected, rtol=RTOL, atol=ATOL))
    )


def numbers(array, limit=4):
    flat = np.asarray(array, dtype=np.float64).reshape(-1)
    text = ", ".join(f"{value:.4g}" for value in flat[:limit])
    return f"[{text}{', …' if flat.size > limit else ''}]"


def verdict(ctx, key, problems, total, zh_ok, en_ok):
    if not problems:
        return ctx.passed(key, zh=zh_ok, en=en_ok)
    zh, en = problems[0]
    if len(problems) > 1:
        zh += f"\n（{total} 个用例中共有 {len(problems)} 处问题，这里先列出第一处。）"
        en += f"\n({len(problems)} problems in {total} cases; this is the first.)"
    return ctx.failed(key, zh=zh, en=en)


def returned_tensor(ctx, key, call, shape):
    """(array, None) when the call returned a float tensor of `shape`, else (None, (zh, en))."""
    error = ctx.error_of(key)
    if error:
        zh, en = f"{call} 出错：\n{error}", f"{call} raised an error:\n{error}"
        if "does not require grad" in error:
            zh += "\n要对 x 求导，先让它成为需要梯度的叶子张量：x = x.detach().clone().requires_grad_(True)。"
            en += "\nTo differentiate with respect to x, make it a leaf that requires grad: x = x.detach().clone().requires_grad_(True)."
        if "backward through the graph a second time" in error:
            zh += "\nbackward() 之后计算图就被释放了。每次都重新计算 y = f(x)，或者调用 backward(retain_graph=True)。"
            en += "\nbackward() frees the graph. Recompute y = f(x) every time, or call backward(retain_graph=True)."
        return None, (zh, en)
    value = ctx.observed(key)
    if not isinstance(value, dict):
        return None, (f"没有 {call} 的观测结果。", f"No observation for {call}.")
    if value.get("type") == "NoneType":
        return None, (
            f"{call} 返回了 None：x.grad 还是 None。最常见的原因是 x 不是叶子张量——在设置 requires_grad 之后又做了 "
            ".float()、.double()、.to(...) 或 .cuda()，得到的是一个新的、非叶子的张量，backward 把梯度存在原来那个叶子上。"
            "先转换类型/设备，再 requires_grad_(True)。",
            f"{call} returned None: x.grad was still None. The usual cause is that x is not a leaf — a .float(), "
            ".double(), .to(...) or .cuda() after setting requires_grad makes a new, non-leaf tensor, and backward "
            "stores the gradient on the original leaf. Convert dtype/device first, then requires_grad_(True).",
        )
    if not isinstance(value.get("shape"), list):
        return None, (
            f"{call} 返回的是 {show(value.get('type'))}，应返回一个张量（x.grad）。",
            f"{call} returned a {show(value.get('type'))}; it should return a tensor (x.grad).",
        )
    if tuple(value["shape"]) != tuple(shape):
        return None, (
            f"{call} 返回的形状是 {tuple(value['shape'])!r}，梯度的形状应与 x 相同：{tuple(shape)!r}。",
            f"{call} returned shape {tuple(value['shape'])!r}; a gradient has the shape of x, {tuple(shape)!r}.",
        )
    array = ctx.array(key.replace(".", "_").replace("-", "_"))
    if array is None or array.dtype.kind != "f":
        return None, (f"{call} 返回的不是浮点张量。", f"{call} did not return a floating-point tensor.")
    return array, None


# ---------------------------------------------------------------------------------------------------
# The checks


def check_gradient(ctx):
    problems = []
    for number_, (case, name, shape) in enumerate(GRADIENT_CASES, start=1):
        call = f"gradient(f{number_}, x: shape {tuple(shape)!r})"
        array, problem = returned_tensor(ctx, f"gradient.{case}", call, shape)
        if problem:
            problems.append(problem)
            continue
        x = point(case, shape, job_seed(ctx))
        expected = derivative(name, x)
        if not close(array, expected):
            problems.append(
                (
                    f"{call} 返回 {numbers(array)}，正确的梯度是 {numbers(expected)}（x = {numbers(x)}）。"
                    "让 x 需要梯度，计算 y = f(x)，调用 y.backward()，然后返回 x.grad。",
                    f"{call} returned {numbers(array)}; the gradient is {numbers(expected)} (at x = {numbers(x)}). "
                    "Make x require grad, compute y = f(x), call y.backward(), then return x.grad.",
                )
            )
    return verdict(
        ctx,
        "gradient",
        problems,
        len(GRADIENT_CASES),
        f"{len(GRADIENT_CASES)} 个隐藏函数的梯度全部正确。",
        f"The gradients of all {len(GRADIENT_CASES)} hidden functions are right.",
    )


def check_accumulation(ctx):
    problems = []
    for number_, (case, name, shape, n) in enumerate(ACCUMULATION_CASES, start=1):
        call = f"accumulated_gradient(f{number_}, x: shape {tuple(shape)!r}, n={n})"
        array, problem = returned_tensor(ctx, f"accumulated.{case}", call, shape)
        if problem:
            problems.append(problem)
            continue
        single = derivative(name, point(case, shape, job_seed(ctx)))
        if close(array, n * single):
            continue
        if n > 1 and close(array, single):
            problems.append(
                (
                    f"{call} 返回的恰好是一次的梯度 {numbers(array)}，应为 {n} 次累积的 {numbers(n * single)}。"
                    f"梯度会累加到 x.grad 上：{n} 次 backward() 之间不要清零，也不要重新创建 x。",
                    f"{call} returned a single gradient, {numbers(array)}; {n} passes accumulate to "
                    f"{numbers(n * single)}. Gradients add up in x.grad: don't zero it or re-create x between the "
                    f"{n} backward() calls.",
                )
            )
        else:
            problems.append(
                (
                    f"{call} 返回 {numbers(array)}，应为 {n} × f'(x) = {numbers(n * single)}。",
                    f"{call} returned {numbers(array)}; expected {n} × f'(x) = {numbers(n * single)}.",
                )
            )
    return verdict(
        ctx,
        "accumulation",
        problems,
        len(ACCUMULATION_CASES),
        "n 次 backward 之后，x.grad 正好是 n 倍的梯度。",
        "After n backward passes x.grad held exactly n times the gradient.",
    )


def zeroing_problem(ctx, case, names, shape):
    call = f"gradients_with_zeroing([{', '.join(f'g{i + 1}' for i in range(len(names)))}], x: shape {tuple(shape)!r})"
    key = f"zeroing.{case}"
    if error := ctx.error_of(key):
        zh, en = f"{call} 出错：\n{error}", f"{call} raised an error:\n{error}"
        if "'NoneType' object has no attribute 'zero_'" in error:
            zh += "\n第一次 backward 之前 x.grad 还是 None：先判断 if x.grad is not None，或者用 x.grad = None 清零。"
            en += "\nBefore the first backward x.grad is None: test `if x.grad is not None`, or zero it with x.grad = None."
        return zh, en
    value = ctx.observed(key)
    if not isinstance(value, dict):
        return f"没有 {call} 的观测结果。", f"No observation for {call}."
    if "length" not in value:
        return (
            f"{call} 返回的是 {show(value.get('type'))}，应返回一个列表，每个函数一个梯度张量。",
            f"{call} returned a {show(value.get('type'))}; it should return a list with one gradient tensor per function.",
        )
    if value["length"] != len(names):
        return (
            f"{call} 返回的列表有 {value['length']} 项，应有 {len(names)} 项（每个函数一个梯度）。",
            f"{call} returned {value['length']} items; expected {len(names)} (one gradient per function).",
        )
    x = point(case, shape, job_seed(ctx))
    expected = [derivative(name, x) for name in names]
    arrays = [ctx.array(f"zeroing_{case}_{index}") for index in range(len(names))]
    if all(close(array, want) for array, want in zip(arrays, expected, strict=True)):
        return None
    if any(array is None or array.shape != tuple(shape) for array in arrays):
        return (
            f"{call} 返回的列表里应当全是形状为 {tuple(shape)!r} 的张量。",
            f"The list from {call} should hold tensors of shape {tuple(shape)!r}.",
        )
    if all(close(array, expected[-1]) for array in arrays) or value.get("distinct_memory") == 1:
        return (
            f"{call} 返回的每一项都等于最后一个梯度 {numbers(expected[-1])}（它们是同一块内存）。你保存的是 x.grad 本身："
            "x.grad.zero_() 和下一次 backward() 都会原地改写这一个张量，于是之前存下的“值”也跟着变了。保存 x.grad.clone()。",
            f"Every item from {call} equals the last gradient, {numbers(expected[-1])} (they are one block of memory). "
            "You stored x.grad itself: x.grad.zero_() and the next backward() rewrite that one tensor in place, so "
            "the values you stored earlier change with it. Store x.grad.clone().",
        )
    running = np.cumsum(np.stack(expected), axis=0)
    if all(close(array, want) for array, want in zip(arrays, running, strict=True)):
        return (
            f"{call} 返回的第 k 项是前 k 个梯度之和（第 2 项是 {numbers(arrays[1])}，而 g2'(x) = {numbers(expected[1])}）："
            "梯度在累积。每次 backward() 之前清零：x.grad.zero_()（第一次时 x.grad 还是 None），或 x.grad = None。",
            f"Item k from {call} is the sum of the first k gradients (item 2 is {numbers(arrays[1])} while g2'(x) = "
            f"{numbers(expected[1])}): the gradients accumulate. Zero before each backward(): x.grad.zero_() (x.grad "
            "is None the first time), or x.grad = None.",
        )
    index = next(i for i, (a, want) in enumerate(zip(arrays, expected, strict=True)) if not close(a, want))
    return (
        f"{call} 返回的第 {index + 1} 项是 {numbers(arrays[index])}，应为 g{index + 1}'(x) = {numbers(expected[index])}。",
        f"Item {index + 1} from {call} is {numbers(arrays[index])}; expected g{index + 1}'(x) = {numbers(expected[index])}.",
    )


def check_zeroing(ctx):
    problems = []
    for case, names, shape in ZEROING_CASES:
        if problem := zeroing_problem(ctx, case, names, shape):
            problems.append(problem)
    return verdict(
        ctx,
        "zeroing",
        problems,
        len(ZEROING_CASES),
        "每一步都先清零，保存下来的每个梯度都只属于它自己的函数。",
        "Each step started from a zeroed gradient, and every stored gradient belongs to its own function.",
    )
