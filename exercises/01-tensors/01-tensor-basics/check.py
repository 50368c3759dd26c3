"""Check for trial 1.1, tensor-basics. Runs outside the sandbox and scores the driver's observations.

Expectations come from the driver's own case table (read as a literal, never run) and from
`exercises.kit.data`, which rebuilds the exact tensors the driver handed to describe() and round_trip()
from this job's secret seed (`job.seed`, written by the driver). Nothing the student's process wrote is
taken as an expected value.

Verified (the answer arrived in the driver as data and is compared here): shape, dtype, describe,
round-trip (values, shape, dtype). Observed (only the student's process could see it): the device a
tensor is on, whether CUDA was asked for (device-follows-availability, and the "ends on the CPU" part
of round-trip).
"""

from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, show
from exercises.kit.data import seed_from, seeded_array

HERE = Path(__file__).resolve().parent
CASES = literal_from(HERE / "probe.py", "CASES")
DEVICE_CASES = literal_from(HERE / "probe.py", "DEVICE_CASES")
SHAPES = {name: tuple(shape) for name, shape, _ in CASES}
DTYPES = {name: dtype for name, _, dtype in CASES}

CHECKS = [
    Check(
        "shape",
        zh="make_tensor 的形状正确",
        en="make_tensor gives the right shape",
        points=20,
        basis="verified",
        basis_note="the returned tensors' shapes, on inputs drawn from the job's seed",
    ),
    Check(
        "dtype",
        zh="make_tensor 的数据类型正确",
        en="make_tensor gives the right dtype",
        points=20,
        basis="verified",
        basis_note="the returned tensors' dtypes",
    ),
    Check(
        "describe",
        zh="describe 用字符串报告形状、类型与设备",
        en="describe reports shape, dtype and device as plain values",
        points=20,
        basis="verified",
        basis_note="describe()'s answers as returned, against the tensors the driver sent",
    ),
    Check(
        "device-follows-availability",
        zh="有 GPU 时用 GPU，没有时用 CPU",
        en="The GPU is used when there is one, the CPU otherwise",
        points=20,
        visible=False,
        basis="observed",
        basis_note="where a tensor was placed in the simulated CUDA world, as the student's process reports it",
    ),
    Check(
        "round-trip",
        zh="往返之后数值不变、回到 CPU",
        en="A round trip keeps the values and ends on the CPU",
        points=20,
        visible=False,
        basis="verified",
        basis_note="values, shape and dtype after the round trip; that it ends on the CPU is observed",
    ),
]


def check(ctx):
    yield ctx.evaluate("shape", check_shape)
    yield ctx.evaluate("dtype", check_dtype)
    yield ctx.evaluate("describe", check_describe)
    yield ctx.evaluate("device-follows-availability", check_device)
    yield ctx.evaluate("round-trip", check_round_trip)


# ---------------------------------------------------------------------------------------------------
# Shared pieces


def job_seed(ctx):
    """The seed the driver drew this job's inputs from (None when it observed none: nothing matches)."""
    seed = ctx.observed("job.seed")
    return seed if type(seed) is int else None


def shape_text(name):
    return repr(SHAPES[name])


def make_call(name):
    return f"make_tensor({shape_text(name)}, torch.{DTYPES[name]})"


def tensor_text(name):
    return f"t: shape {shape_text(name)}, torch.{DTYPES[name]}"


def is_tensor_summary(value):
    """The probe's describe_tensor() of a tensor (anything else carries no shape)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("shape"), list)
        and isinstance(value.get("dtype"), str)
        and isinstance(value.get("device"), str)
    )


def returned_tensor(ctx, key, call):
    """(summary, None) for a tensor the call returned, or (None, (zh, en)) saying what went wrong."""
    error = ctx.error_of(key)
    if error:
        return None, (f"调用 {call} 时出错：\n{error}", f"{call} raised an error:\n{error}")
    value = ctx.observed(key)
    if key not in ctx.observations:
        return None, (
            f"没有 {call} 的观测结果（代码可能提前退出了）。",
            f"No observation for {call} (the code may have exited early).",
        )
    if not is_tensor_summary(value):
        kind = value.get("type", "?") if isinstance(value, dict) else type(value).__name__
        return None, (
            f"{call} 返回的是 {kind}，不是 torch.Tensor。",
            f"{call} returned a {kind}, not a torch.Tensor.",
        )
    return value, None


def verdict(ctx, key, problems, total, zh_ok, en_ok):
    if not problems:
        return ctx.passed(key, zh=zh_ok, en=en_ok)
    zh, en = problems[0]
    if len(problems) > 1:
        zh += f"\n（{total} 个用例中共有 {len(problems)} 处问题，这里先列出第一处。）"
        en += f"\n({len(problems)} problems in {total} cases; this is the first.)"
    return ctx.failed(key, zh=zh, en=en)


def same_values(array, expected):
    return (
        array is not None
        and array.dtype == expected.dtype
        and array.shape == expected.shape
        and bool(np.array_equal(array, expected))
    )


# ---------------------------------------------------------------------------------------------------
# The checks


def check_shape(ctx):
    problems = []
    for name, shape, _ in CASES:
        summary, problem = returned_tensor(ctx, f"make.{name}", make_call(name))
        if problem:
            problems.append(problem)
        elif summary["shape"] != list(shape):
            got = tuple(summary["shape"])
            problems.append(
                (
                    f"{make_call(name)} 返回的形状是 {got!r}，应为 {tuple(shape)!r}。"
                    "把 shape 原样传给 torch.rand / torch.randint，() 表示标量，(0, 5) 表示空张量。",
                    f"{make_call(name)} returned shape {got!r}; expected {tuple(shape)!r}. Pass shape "
                    "through unchanged: () is a scalar, (0, 5) an empty tensor.",
                )
            )
    return verdict(
        ctx,
        "shape",
        problems,
        len(CASES),
        f"{len(CASES)} 个用例的形状全部正确。",
        f"All {len(CASES)} shapes are right.",
    )


def check_dtype(ctx):
    problems = []
    for name, _, dtype in CASES:
        summary, problem = returned_tensor(ctx, f"make.{name}", make_call(name))
        if problem:
            problems.append(problem)
        elif summary["dtype"] != f"torch.{dtype}":
            zh = f"{make_call(name)} 返回的数据类型是 {summary['dtype']}，应为 torch.{dtype}。"
            en = f"{make_call(name)} returned dtype {summary['dtype']}; expected torch.{dtype}."
            if not dtype.startswith("float"):
                zh += "torch.rand 只产生浮点数：整数请用 torch.randint(low, high, shape, dtype=...)，布尔值可以用 torch.rand(shape) < 0.5。"
                en += (
                    " torch.rand makes only floating-point numbers: use torch.randint(low, high, shape, "
                    "dtype=...) for integers and a comparison such as torch.rand(shape) < 0.5 for bool."
                )
            else:
                zh += "把 dtype 传给创建函数：torch.rand(shape, dtype=dtype)。"
                en += " Pass dtype to the factory: torch.rand(shape, dtype=dtype)."
            problems.append((zh, en))
    return verdict(
        ctx,
        "dtype",
        problems,
        len(CASES),
        f"{len(CASES)} 个用例的数据类型全部正确。",
        f"All {len(CASES)} dtypes are right.",
    )


def describe_problem(name, value):
    """What is wrong with describe()'s answer for case `name`, as (zh, en), or None."""
    call = f"describe({tensor_text(name)})"
    if not isinstance(value, dict) or "$type" in value:
        return (
            f"{call} 返回了 {show(value)}，应返回一个 dict，包含 'shape'、'dtype'、'device' 三个键。",
            f"{call} returned {show(value)}; it should return a dict with the keys 'shape', 'dtype' and 'device'.",
        )
    for field in ("shape", "dtype", "device"):
        if field not in value:
            return (f"{call} 返回的 dict 缺少键 {field!r}。", f"The dict from {call} has no {field!r} key.")
    shape, expected_shape = value["shape"], list(SHAPES[name])
    if not isinstance(shape, list) or not all(type(size) is int for size in shape):
        return (
            f"{call} 的 'shape' 是 {show(shape)}，应是由整数组成的元组或列表，例如 {SHAPES[name]!r}（tuple(t.shape)）。",
            f"'shape' from {call} is {show(shape)}; it should be a tuple or list of ints such as "
            f"{SHAPES[name]!r} (tuple(t.shape)).",
        )
    if shape != expected_shape:
        return (
            f"{call} 的 'shape' 是 {tuple(shape)!r}，应为 {SHAPES[name]!r}。",
            f"'shape' from {call} is {tuple(shape)!r}; expected {SHAPES[name]!r}.",
        )
    expected_dtype = f"torch.{DTYPES[name]}"
    for field, expected, how in (
        ("dtype", expected_dtype, "str(t.dtype)"),
        ("device", "cpu", "str(t.device)"),
    ):
        got = value[field]
        if not isinstance(got, str):
            return (
                f"{call} 的 {field!r} 是 {show(got)}，应是字符串 {expected!r}：用 {how} 把它变成字符串。",
                f"{field!r} from {call} is {show(got)}; it should be the string {expected!r}: convert it with {how}.",
            )
        if got != expected:
            return (
                f"{call} 的 {field!r} 是 {got!r}，应为 {expected!r}（即 {how}）。",
                f"{field!r} from {call} is {got!r}; expected {expected!r} (that is, {how}).",
            )
    return None


def check_describe(ctx):
    problems = []
    for name, _, _ in CASES:
        key = f"describe.{name}"
        call = f"describe({tensor_text(name)})"
        error = ctx.error_of(key)
        value = ctx.observed(key)
        if error:
            problems.append((f"调用 {call} 时出错：\n{error}", f"{call} raised an error:\n{error}"))
        elif key not in ctx.observations:
            problems.append((f"没有 {call} 的观测结果。", f"No observation for {call}."))
        elif problem := describe_problem(name, value):
            problems.append(problem)
    return verdict(
        ctx,
        "describe",
        problems,
        len(CASES),
        f"describe 对 {len(CASES)} 个张量的报告全部正确。",
        f"describe reported all {len(CASES)} tensors correctly.",
    )


def plain_call_worked(ctx, key):
    return ctx.error_of(key) is None and is_tensor_summary(ctx.observed(key))


def check_device(ctx):
    problems = []
    judged = 0
    for world, where_zh, where_en in (
        ("cuda", "有 GPU 时", "With a GPU available"),
        ("cpu", "没有 GPU 时", "With no GPU"),
    ):
        error = ctx.error_of(f"{world}.import")
        if error:
            problems.append(
                (
                    f"{where_zh}，导入 solution.py 出错：\n{error}",
                    f"{where_en}, importing solution.py raised:\n{error}",
                )
            )
            continue
        for name in DEVICE_CASES:
            # A case whose plain call already fails is reported by the shape/dtype/round-trip checks.
            if plain_call_worked(ctx, f"make.{name}"):
                judged += 1
                problems += device_problems(
                    ctx, world, where_zh, where_en, f"{world}.make.{name}", make_call(name), made=True
                )
            if plain_call_worked(ctx, f"round_trip.{name}"):
                judged += 1
                call = f"round_trip({tensor_text(name)})"
                problems += device_problems(
                    ctx, world, where_zh, where_en, f"{world}.round_trip.{name}", call, made=False
                )
    if not problems and not judged:
        return ctx.failed(
            "device-follows-availability",
            zh="make_tensor 和 round_trip 在每个用例上都出错了，无法判断设备选择。请先修好它们。",
            en="make_tensor and round_trip raised in every case, so the device choice could not be judged. Fix them first.",
        )
    return verdict(
        ctx,
        "device-follows-availability",
        problems,
        judged,
        "有 GPU 时张量放到了 GPU 上，没有 GPU 时留在 CPU 上。",
        "Tensors went to the GPU when one was available and stayed on the CPU otherwise.",
    )


def device_problems(ctx, world, where_zh, where_en, key, call, *, made):
    error = ctx.error_of(key)
    if error:
        zh, en = f"{where_zh}，调用 {call} 出错：\n{error}", f"{where_en}, {call} raised an error:\n{error}"
        if world == "cpu":
            zh += "\n不要把 'cuda' 写死：先用 torch.cuda.is_available() 判断。"
            en += "\nDo not hard-code 'cuda': check torch.cuda.is_available() first."
        return [(zh, en)]
    value = ctx.observed(key)
    if not isinstance(value, dict):
        return [(f"{where_zh}，没有 {call} 的观测结果。", f"{where_en}, there is no observation for {call}.")]
    if world == "cuda" and made and value.get("on_cuda") is not True:
        return [
            (
                f"有 GPU 时，{call} 返回的张量仍在 CPU 上。应在函数里（或导入时）用 "
                "device = 'cuda' if torch.cuda.is_available() else 'cpu' 选设备，再用 device=device 创建张量。",
                f"With a GPU available, {call} still returned a tensor on the CPU. Choose "
                "device = 'cuda' if torch.cuda.is_available() else 'cpu' and create the tensor with device=device.",
            )
        ]
    if world == "cuda" and not made and value.get("cuda_requested") is not True:
        return [
            (
                f"有 GPU 时，{call} 从没把张量移到 GPU 上。往返应先 t.to(device)，再 .cpu() 回来。",
                f"With a GPU available, {call} never moved the tensor to the GPU. A round trip is "
                "t.to(device) first, then .cpu() back.",
            )
        ]
    if world == "cpu" and value.get("cuda_requested") is not False:
        return [
            (
                f"没有 GPU 时，{call} 仍然请求了 CUDA 设备。设备要跟着 torch.cuda.is_available() 走。",
                f"With no GPU, {call} still asked for a CUDA device. The device must follow torch.cuda.is_available().",
            )
        ]
    return []


def check_round_trip(ctx):
    problems = []
    total = 0
    for name, shape, dtype in CASES:
        total += 1
        call = f"round_trip({tensor_text(name)})"
        summary, problem = returned_tensor(ctx, f"round_trip.{name}", call)
        if problem:
            problems.append(problem)
            continue
        expected = seeded_array(shape, dtype, seed_from(name, "round-trip", job_seed(ctx)))
        problems += round_trip_problems(ctx, call, summary, f"round_trip_{name}", expected)
    for world in ("cuda", "cpu"):
        if ctx.error_of(f"{world}.import"):
            continue  # the device check reports it
        for name in DEVICE_CASES:
            if not plain_call_worked(ctx, f"round_trip.{name}"):
                continue  # already reported above
            total += 1
            shape, dtype = SHAPES[name], DTYPES[name]
            where_zh, where_en = (
                ("有 GPU 时，", "With a GPU available, ")
                if world == "cuda"
                else ("没有 GPU 时，", "With no GPU, ")
            )
            call = f"round_trip({tensor_text(name)})"
            key = f"{world}.round_trip.{name}"
            error = ctx.error_of(key)
            value = ctx.observed(key)
            if error:
                problems.append(
                    (f"{where_zh}调用 {call} 出错：\n{error}", f"{where_en}{call} raised an error:\n{error}")
                )
                continue
            if not isinstance(value, dict) or not is_tensor_summary(value.get("tensor")):
                problems.append(
                    (f"{where_zh}{call} 没有返回张量。", f"{where_en}{call} did not return a tensor.")
                )
                continue
            if value.get("on_cuda") is not False:
                problems.append(
                    (
                        f"有 GPU 时，{call} 返回的张量还留在 GPU 上。最后要用 .cpu()（或 .to('cpu')）把它带回 CPU。",
                        f"With a GPU available, {call} returned a tensor still on the GPU. Bring it back "
                        "with .cpu() (or .to('cpu')) at the end.",
                    )
                )
                continue
            expected = seeded_array(shape, dtype, seed_from(name, f"{world}-round-trip", job_seed(ctx)))
            for zh, en in round_trip_problems(
                ctx, call, value["tensor"], f"{world}_round_trip_{name}", expected
            ):
                problems.append((where_zh + zh, where_en + en))
    return verdict(
        ctx,
        "round-trip",
        problems,
        total,
        "往返之后数值、形状、类型都没变，结果在 CPU 上。",
        "Round trips kept values, shape and dtype, and ended on the CPU.",
    )


def round_trip_problems(ctx, call, summary, array_key, expected):
    expected_dtype = f"torch.{expected.dtype}"
    if summary["device"] != "cpu":
        return [
            (
                f"{call} 返回的张量在 {summary['device']} 上，应回到 CPU：最后调用 .cpu()。",
                f"{call} returned a tensor on {summary['device']}; it must end on the CPU: call .cpu() last.",
            )
        ]
    if summary["dtype"] != expected_dtype or summary["shape"] != list(expected.shape):
        return [
            (
                f"{call} 返回的是 {tuple(summary['shape'])!r}、{summary['dtype']} 的张量，应与输入相同："
                f"{expected.shape!r}、{expected_dtype}。移动设备不会改变形状和类型。",
                f"{call} returned a {tuple(summary['shape'])!r} {summary['dtype']} tensor; it should match the "
                f"input, {expected.shape!r} {expected_dtype}. Moving between devices keeps shape and dtype.",
            )
        ]
    if not same_values(ctx.array(array_key), expected):
        return [
            (
                f"{call} 返回的数值和输入不一样。往返只移动数据，不能改变它（不要新建随机张量）。",
                f"{call} returned different values from its input. A round trip moves the data; it must not "
                "change it (no new random tensor).",
            )
        ]
    return []
