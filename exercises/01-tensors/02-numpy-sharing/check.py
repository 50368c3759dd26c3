"""Check for trial 1.2, numpy-sharing. Runs outside the sandbox and scores the driver's observations.

The driver's case tables are read as literals and every input is rebuilt with `exercises.kit.data` from
this job's seed (`job.seed`, written by the driver), so the check knows what each snapshot must hold: the
input values, then the input with the writes applied where memory is shared, and untouched where it is
not. Nothing the student's process wrote is taken as an expected value.

Verified (from data that reached the driver): dtype-kept, and each result's values before any write.
Observed (only the student's process can see memory sharing): shared-both-ways, independent-copy,
shared-array.
"""

from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, show
from exercises.kit.data import seed_from, seeded_array

HERE = Path(__file__).resolve().parent
ARRAY_CASES = literal_from(HERE / "probe.py", "ARRAY_CASES")
TENSOR_CASES = literal_from(HERE / "probe.py", "TENSOR_CASES")

CHECKS = [
    Check(
        "shared-both-ways",
        zh="shared_tensor 与数组共享内存（双向可见）",
        en="shared_tensor shares memory with the array, both ways",
        points=30,
        basis="observed",
        basis_note="memory sharing is seen only in the student's process; each result's values before any write are verified",
    ),
    Check(
        "independent-copy",
        zh="independent_tensor 是独立的副本",
        en="independent_tensor is an independent copy",
        points=25,
        basis="observed",
        basis_note="independence is seen only in the student's process; the copy's values are verified",
    ),
    Check(
        "dtype-kept",
        zh="数据类型保持不变",
        en="The dtype is kept",
        points=20,
        basis="verified",
        basis_note="the returned arrays' dtypes and values, on inputs the driver sends",
    ),
    Check(
        "shared-array",
        zh="shared_array 与张量共享内存（双向可见）",
        en="shared_array shares memory with the tensor, both ways",
        points=25,
        visible=False,
        basis="observed",
        basis_note="memory sharing is seen only in the student's process",
    ),
]


def check(ctx):
    yield ctx.evaluate("shared-both-ways", check_shared)
    yield ctx.evaluate("independent-copy", check_copy)
    yield ctx.evaluate("dtype-kept", check_dtype)
    yield ctx.evaluate("shared-array", check_array)


# ---------------------------------------------------------------------------------------------------
# The inputs and what the snapshots must hold (mirrors probe.py)


def job_seed(ctx):
    """The seed the driver drew this job's inputs from (None when it observed none: nothing matches)."""
    seed = ctx.observed("job.seed")
    return seed if type(seed) is int else None


def original(name, shape, dtype, transposed, purpose, job):
    seed = seed_from(name, purpose, job)
    if transposed:
        return seeded_array(tuple(reversed(shape)), dtype, seed).T.copy()
    return seeded_array(shape, dtype, seed)


def written(value):
    if isinstance(value, bool):
        return not value
    return value + 3


def with_write(array, index):
    changed = array.copy()
    changed[index] = written(changed[index].item())
    return changed


def input_position(shape):
    return tuple(size - 1 for size in shape)


def result_position(shape):
    return tuple(0 for _ in shape)


def snapshots(name, shape, dtype, transposed, purpose, job):
    """(input values, input after the probe's write into it, that plus the write into the result)."""
    values = original(name, shape, dtype, transposed, purpose, job)
    after_input = with_write(values, input_position(shape))
    return values, after_input, with_write(after_input, result_position(shape))


def same(array, expected):
    """Equal shape and values, the expected values taken in the result's dtype: a converted dtype is
    judged by dtype-kept, while these checks judge only whether memory is shared."""
    if array is None or array.shape != expected.shape:
        return False
    return bool(np.array_equal(array, expected.astype(array.dtype)))


TORCH_DTYPE = {
    "float64": "torch.float64",
    "float32": "torch.float32",
    "float16": "torch.float16",
    "int64": "torch.int64",
    "int32": "torch.int32",
    "bool": "torch.bool",
}


def input_text(shape, dtype, transposed, *, tensor=False):
    kind = f"torch.{dtype}" if tensor else f"np.{dtype}"
    layout = "，转置视图（不连续）" if transposed else ""
    layout_en = ", a transposed (non-contiguous) view" if transposed else ""
    return f"{kind} {shape!r}{layout}", f"{kind} {shape!r}{layout_en}"


def verdict(ctx, key, problems, total, zh_ok, en_ok):
    if not problems:
        return ctx.passed(key, zh=zh_ok, en=en_ok)
    zh, en = problems[0]
    if len(problems) > 1:
        zh += f"\n（{total} 个用例中共有 {len(problems)} 处问题，这里先列出第一处。）"
        en += f"\n({len(problems)} problems in {total} cases; this is the first.)"
    return ctx.failed(key, zh=zh, en=en)


def returned(ctx, key, call_zh, call_en, shape, *, tensor):
    """(summary, None) when the call returned a tensor (or an array) of the right shape, else (None, problem)."""
    error = ctx.error_of(key)
    if error:
        return None, (f"{call_zh} 出错：\n{error}", f"{call_en} raised an error:\n{error}")
    value = ctx.observed(key)
    if not isinstance(value, dict):
        return None, (f"没有 {call_zh} 的观测结果。", f"No observation for {call_en}.")
    wanted, wanted_name = ("torch.Tensor", "torch.Tensor") if tensor else ("numpy.ndarray", "numpy.ndarray")
    kind = value.get("type")
    if kind != wanted or not isinstance(value.get("shape"), list) or not isinstance(value.get("dtype"), str):
        got = kind if isinstance(kind, str) else "?"
        return None, (
            f"{call_zh} 返回的是 {got}，应返回 {wanted_name}。",
            f"{call_en} returned a {got}; it should return a {wanted_name}.",
        )
    if tuple(value["shape"]) != tuple(shape):
        got = tuple(value["shape"])
        return None, (
            f"{call_zh} 返回的形状是 {got!r}，应与输入相同：{tuple(shape)!r}。",
            f"{call_en} returned shape {got!r}; it should match the input, {tuple(shape)!r}.",
        )
    return value, None


def write_error(ctx, key, call_zh, call_en):
    value = ctx.observed(f"{key}.write")
    if isinstance(value, dict) and isinstance(value.get("error"), str):
        error = value["error"]
        return (
            f"探针往 {call_zh} 的返回值里写入一个元素时出错：{error}。返回值应当是可写的普通张量/数组。",
            f"Writing one element into the result of {call_en} failed: {error}. Return a plain, writable "
            "tensor/array.",
        )
    return None


# ---------------------------------------------------------------------------------------------------
# The checks


def check_shared(ctx):
    problems = []
    for name, shape, dtype, transposed in ARRAY_CASES:
        zh_in, en_in = input_text(shape, dtype, transposed)
        call_zh, call_en = f"shared_tensor(arr: {zh_in})", f"shared_tensor(arr: {en_in})"
        key = f"shared.{name}"
        summary, problem = returned(ctx, key, call_zh, call_en, shape, tensor=True)
        if problem:
            problems.append(problem)
            continue
        values, after_input, after_both = snapshots(name, shape, dtype, transposed, "shared", job_seed(ctx))
        prefix = key.replace(".", "_")
        expected_dtype = TORCH_DTYPE[dtype]
        if not same(ctx.array(f"{prefix}_before"), values):
            problems.append(
                (
                    f"{call_zh} 返回的数值和数组不一样。张量应当就是这个数组，只是换了个类型来看它。",
                    f"{call_en} returned values that differ from the array. The tensor should be the same "
                    "memory, seen as a tensor.",
                )
            )
        elif not same(ctx.array(f"{prefix}_after_input_write"), after_input):
            if summary["dtype"] != expected_dtype:
                problems.append(
                    (
                        f"{call_zh} 返回的是 {summary['dtype']} 张量：类型一变，torch 只能复制数据，"
                        f"于是再改 arr，张量也看不到。torch.from_numpy(arr) 会保留 {expected_dtype}，并与 arr 共享内存。",
                        f"{call_en} returned a {summary['dtype']} tensor: changing the dtype forces a copy, so "
                        f"a later write into arr never reaches the tensor. torch.from_numpy(arr) keeps "
                        f"{expected_dtype} and shares arr's memory.",
                    )
                )
            else:
                problems.append(
                    (
                        f"探针执行 arr{list(input_position(shape))} = 新值 之后，{call_zh} 返回的张量没有变化："
                        "它是一份副本。torch.tensor(arr) 总是复制；torch.from_numpy(arr)（或 torch.as_tensor(arr)）才共享内存。",
                        f"After the probe set arr{list(input_position(shape))} to a new value, the tensor from "
                        f"{call_en} did not change: it is a copy. torch.tensor(arr) always copies; "
                        "torch.from_numpy(arr) (or torch.as_tensor(arr)) shares the memory.",
                    )
                )
        elif problem := write_error(ctx, key, call_zh, call_en):
            problems.append(problem)
        elif not same(ctx.array(f"{prefix}_after_result_write"), after_both):
            problems.append(
                (
                    f"往 {call_zh} 返回的张量里写入 t{list(result_position(shape))} 之后，arr 没有变化。"
                    "共享是双向的：同一块内存，从哪边改都一样。",
                    f"After writing t{list(result_position(shape))} into the tensor from {call_en}, arr did not "
                    "change. Sharing works both ways: it is one block of memory.",
                )
            )
    return verdict(
        ctx,
        "shared-both-ways",
        problems,
        len(ARRAY_CASES),
        f"{len(ARRAY_CASES)} 个数组的修改都双向可见：张量和数组是同一块内存。",
        f"For all {len(ARRAY_CASES)} arrays, writes showed up on both sides: tensor and array are one memory.",
    )


def check_copy(ctx):
    problems = []
    for name, shape, dtype, transposed in ARRAY_CASES:
        zh_in, en_in = input_text(shape, dtype, transposed)
        call_zh, call_en = f"independent_tensor(arr: {zh_in})", f"independent_tensor(arr: {en_in})"
        key = f"copy.{name}"
        _, problem = returned(ctx, key, call_zh, call_en, shape, tensor=True)
        if problem:
            problems.append(problem)
            continue
        values, after_input, _ = snapshots(name, shape, dtype, transposed, "copy", job_seed(ctx))
        prefix = key.replace(".", "_")
        if not same(ctx.array(f"{prefix}_before"), values):
            problems.append(
                (
                    f"{call_zh} 返回的数值和数组不一样。副本要先和原数组完全相同。",
                    f"{call_en} returned values that differ from the array. A copy starts out equal to it.",
                )
            )
        elif not same(ctx.array(f"{prefix}_after_input_write"), values):
            problems.append(
                (
                    f"探针修改 arr{list(input_position(shape))} 之后，{call_zh} 返回的张量也跟着变了：它和数组共享内存，"
                    "不是独立副本。用 torch.tensor(arr.copy())（或 torch.from_numpy(arr).clone()）。",
                    f"After the probe changed arr{list(input_position(shape))}, the tensor from {call_en} changed "
                    "too: it shares the array's memory instead of being a copy. Use torch.tensor(arr.copy()) (or "
                    "torch.from_numpy(arr).clone()).",
                )
            )
        elif problem := write_error(ctx, key, call_zh, call_en):
            problems.append(problem)
        elif not same(ctx.array(f"{prefix}_after_result_write"), after_input):
            problems.append(
                (
                    f"往 {call_zh} 返回的张量里写入之后，arr 也被改了：它们仍然共享内存。",
                    f"Writing into the tensor from {call_en} changed arr as well: they still share memory.",
                )
            )
    return verdict(
        ctx,
        "independent-copy",
        problems,
        len(ARRAY_CASES),
        f"{len(ARRAY_CASES)} 个副本都与原数组相等，且互不影响。",
        f"All {len(ARRAY_CASES)} copies started equal to their array and stayed independent of it.",
    )


def check_dtype(ctx):
    problems = []
    judged = 0
    for name, shape, dtype, transposed in ARRAY_CASES:
        zh_in, en_in = input_text(shape, dtype, transposed)
        for purpose, function in (("shared", "shared_tensor"), ("copy", "independent_tensor")):
            summary, problem = returned(
                ctx, f"{purpose}.{name}", f"{function}(...)", f"{function}(...)", shape, tensor=True
            )
            if problem:
                continue  # reported by the sharing and copy checks
            judged += 1
            if summary["dtype"] != TORCH_DTYPE[dtype]:
                problems.append(
                    (
                        f"{function}(arr: {zh_in}) 返回的是 {summary['dtype']}，应为 {TORCH_DTYPE[dtype]}。"
                        "不要传 dtype=，也不要 .float()/.long()：NumPy 的类型原样对应过来。",
                        f"{function}(arr: {en_in}) returned {summary['dtype']}; expected {TORCH_DTYPE[dtype]}. "
                        "Pass no dtype= and call no .float()/.long(): numpy's dtype carries over as it is.",
                    )
                )
    for name, shape, dtype, transposed in TENSOR_CASES:
        zh_in, en_in = input_text(shape, dtype, transposed, tensor=True)
        summary, problem = returned(
            ctx, f"array.{name}", "shared_array(...)", "shared_array(...)", shape, tensor=False
        )
        if problem:
            continue
        judged += 1
        if summary["dtype"] != dtype:
            problems.append(
                (
                    f"shared_array(t: {zh_in}) 返回的数组类型是 {show(summary['dtype'])}，应为 {dtype}。",
                    f"shared_array(t: {en_in}) returned an array of dtype {show(summary['dtype'])}; expected {dtype}.",
                )
            )
    if not judged:
        return ctx.failed(
            "dtype-kept",
            zh="三个函数在每个用例上都没有返回正确形状的张量/数组，无法判断数据类型。请先修好它们。",
            en="None of the three functions returned a tensor/array of the right shape, so dtypes could not be "
            "judged. Fix them first.",
        )
    return verdict(
        ctx,
        "dtype-kept",
        problems,
        judged,
        "每个结果都保持了输入的数据类型。",
        "Every result kept its input's dtype.",
    )


def check_array(ctx):
    problems = []
    for name, shape, dtype, transposed in TENSOR_CASES:
        zh_in, en_in = input_text(shape, dtype, transposed, tensor=True)
        call_zh, call_en = f"shared_array(t: {zh_in})", f"shared_array(t: {en_in})"
        key = f"array.{name}"
        _summary, problem = returned(ctx, key, call_zh, call_en, shape, tensor=False)
        if problem:
            problems.append(problem)
            continue
        values, after_input, after_both = snapshots(name, shape, dtype, transposed, "array", job_seed(ctx))
        prefix = key.replace(".", "_")
        if not same(ctx.array(f"{prefix}_before"), values):
            problems.append(
                (
                    f"{call_zh} 返回的数组和张量的数值不一样。",
                    f"{call_en} returned an array whose values differ from the tensor's.",
                )
            )
        elif not same(ctx.array(f"{prefix}_after_input_write"), after_input):
            problems.append(
                (
                    f"探针修改 t{list(input_position(shape))} 之后，{call_zh} 返回的数组没有变化：它是一份副本。"
                    "np.array(t)、t.tolist()、t.clone().numpy() 都会复制；t.numpy()（CPU 张量）与张量共享内存。",
                    f"After the probe changed t{list(input_position(shape))}, the array from {call_en} did not "
                    "change: it is a copy. np.array(t), t.tolist() and t.clone().numpy() copy; t.numpy() (of a CPU "
                    "tensor) shares the tensor's memory.",
                )
            )
        elif problem := write_error(ctx, key, call_zh, call_en):
            problems.append(problem)
        elif not same(ctx.array(f"{prefix}_after_result_write"), after_both):
            problems.append(
                (
                    f"往 {call_zh} 返回的数组里写入之后，张量没有变化。共享是双向的。",
                    f"Writing into the array from {call_en} did not change the tensor. Sharing works both ways.",
                )
            )
    return verdict(
        ctx,
        "shared-array",
        problems,
        len(TENSOR_CASES),
        f"{len(TENSOR_CASES)} 个张量的修改都双向可见：t.numpy() 与张量是同一块内存。",
        f"For all {len(TENSOR_CASES)} tensors, writes showed up on both sides: the array is the tensor's memory.",
    )
