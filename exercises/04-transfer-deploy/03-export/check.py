"""Check for trial 4.3, export. Runs outside the sandbox and scores what the verify step observed.

Every check is *verified*: the first run's driver kept the file each export function wrote (read back
by it, named in its manifest); the verify step loaded those files in a fresh sandbox without the
student's code and its driver sent them inputs drawn from its secret seed, receiving the outputs as
data. The expected outputs are computed here from the bundle's own public/models.py (the same seeded
weights, in eval mode) on the inputs rebuilt from that seed (`job.seed` of the verify step), never
taken from either sandbox.
"""

import functools
import importlib.util
from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from
from exercises.kit.data import seed_from

HERE = Path(__file__).resolve().parent
EXPORTS = literal_from(HERE / "probe.py", "EXPORTS")
BATCHES = literal_from(HERE / "verify.py", "BATCHES")
SHIFTS = literal_from(HERE / "verify.py", "SHIFTS")
GATED_BATCH = literal_from(HERE / "verify.py", "GATED_BATCH")
TOLERANCE = 1e-4

FUNCTIONS = {key: function for key, function, _, _, _ in EXPORTS}
FILES = {key: filename for key, _, _, filename, _ in EXPORTS}
MODELS = {key: name for key, _, name, _, _ in EXPORTS}

NOTE = (
    "the file the driver read back, run in a fresh sandbox without the student's code on inputs from the verify "
    "step's secret seed; outputs returned as data, expected ones computed outside from the bundle's models"
)

CHECKS = [
    Check(
        "torchscript-trace",
        zh="追踪导出的 TorchScript 脱离你的代码也能算对",
        en="The traced TorchScript model computes the right outputs without your code",
        points=25,
        basis="verified",
        basis_note=NOTE,
    ),
    Check(
        "torchscript-script",
        zh="带数据相关分支的模型用 script 导出，两条分支都对",
        en="The model with data-dependent control flow is scripted, and both branches are right",
        points=25,
        basis="verified",
        basis_note=NOTE,
    ),
    Check(
        "onnx-export",
        zh="ONNX 模型在 onnxruntime 中对任意批大小都算对",
        en="The ONNX model computes the right outputs in onnxruntime, for any batch size",
        points=25,
        visible=False,
        basis="verified",
        basis_note=NOTE,
    ),
    Check(
        "torch-export",
        zh="torch.export 导出的程序对任意批大小都算对",
        en="The torch.export program computes the right outputs for any batch size",
        points=25,
        visible=False,
        basis="verified",
        basis_note=NOTE,
    ),
]


def check(ctx):
    yield ctx.evaluate("torchscript-trace", lambda ctx: check_batches(ctx, "torchscript-trace", "traced"))
    yield ctx.evaluate("torchscript-script", check_scripted)
    yield ctx.evaluate("onnx-export", lambda ctx: check_batches(ctx, "onnx-export", "onnx"))
    yield ctx.evaluate("torch-export", lambda ctx: check_batches(ctx, "torch-export", "program"))


# ---------------------------------------------------------------------------------------------------
# Expected outputs, computed here


@functools.cache
def models_module():
    spec = importlib.util.spec_from_file_location("huashen_trial_4_3_models", HERE / "public" / "models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inputs(seed, batch, shift=0.0):
    """verify.py's inputs for the job's seed."""
    import torch

    generator = torch.Generator().manual_seed(seed_from("export", batch, shift, seed))
    return torch.randn(batch, 3, 32, 32, generator=generator) + shift


@functools.cache
def expected(name, seed, batch, shift=0.0):
    import torch

    model = models_module().build(name).eval()
    with torch.no_grad():
        return model(inputs(seed, batch, shift)).numpy().astype(np.float64)


def verify_seed(ctx):
    """The seed the verify step drew its inputs from (None when it observed none: nothing matches)."""
    seed = ctx.verify_observations.get("job.seed")
    return seed if type(seed) is int else None


# ---------------------------------------------------------------------------------------------------


def export_failure(ctx, key, export):
    """A failed outcome when the student's export function raised or wrote no file, else None."""
    function, filename = FUNCTIONS[export], FILES[export]
    error = ctx.error_of(export)
    if error:
        zh, en = f"调用 {function}(...) 时出错：\n{error}", f"{function}(...) raised an error:\n{error}"
        if "onnxscript" in error:
            zh += "\n这台机器没有 onnxscript：调用 torch.onnx.export 时传 dynamo=False，使用基于 TorchScript 的导出器。"
            en += "\nonnxscript is not installed here: pass dynamo=False to torch.onnx.export to use the TorchScript-based exporter."
        if "specialized" in error or "Constraints violated" in error:
            zh += "\n例子的批大小不能是 1：torch.export 会把大小为 0 或 1 的维度当作常数。"
            en += "\nThe example's batch must not be 1: torch.export treats dimensions of size 0 or 1 as constants."
        return ctx.failed(key, zh=zh, en=en)
    written = ctx.observed(export)
    if not isinstance(written, dict):
        return ctx.failed(key)
    if not written.get("written"):
        return ctx.failed(
            key,
            zh=f"{function}(...) 没有把文件写到传入的 path（{filename}）。要保存到参数 path 指定的位置。",
            en=f"{function}(...) wrote no file at the path it was given ({filename}). Save to exactly that path.",
        )
    return None


def verify_failure(ctx, key, export):
    """A failed outcome when the verify step could not load the file, else (None, its observation)."""
    seen = ctx.verify_observations.get(export)
    filename = FILES[export]
    if not isinstance(seen, dict) or not seen.get("file"):
        return ctx.failed(
            key,
            zh=f"验证步骤里没有找到 {filename}（或它不是普通文件）。",
            en=f"The verify step found no {filename} (or it was not a regular file).",
        ), None
    if "load_error" in seen:
        zh = f"在没有你的代码的新沙箱里，{filename} 加载失败：\n{seen['load_error']}"
        en = f"In a fresh sandbox without your code, {filename} failed to load:\n{seen['load_error']}"
        if export in ("traced", "scripted"):
            zh += (
                "\nTorchScript 文件要用 traced.save(path) 或 torch.jit.save(...) 保存；torch.save(model) 保存的是"
                "需要你的 Python 类才能还原的 pickle，部署端加载不了。"
            )
            en += (
                "\nSave TorchScript with traced.save(path) or torch.jit.save(...); torch.save(model) writes a pickle "
                "that needs your Python classes to come back, which a deployment does not have."
            )
        if export == "program":
            zh += "\n用 torch.export.save(program, path) 保存 torch.export.export(...) 的结果。"
            en += "\nSave the result of torch.export.export(...) with torch.export.save(program, path)."
        return ctx.failed(key, zh=zh, en=en), None
    return None, seen


def compare(ctx, export, case, reference):
    """(ok, zh, en) for one case's output against the expected values."""
    seen = ctx.verify_observations.get(export, {}).get("outputs", {}).get(case)
    if not isinstance(seen, dict):
        return False, f"没有 {case} 的输出。", f"No output for {case}."
    if "error" in seen:
        return False, f"运行出错：{seen['error']}", f"running it raised: {seen['error']}"
    output = ctx.verify_array(f"{export}_{case}")
    if output is None or output.shape != reference.shape:
        shape = None if output is None else tuple(output.shape)
        return (
            False,
            f"输出形状是 {shape}，应为 {tuple(reference.shape)}。",
            f"the output's shape is {shape}; expected {tuple(reference.shape)}.",
        )
    difference = float(np.max(np.abs(output.astype(np.float64) - reference)))
    if not np.isfinite(difference) or difference > TOLERANCE * (1 + float(np.max(np.abs(reference)))):
        return (
            False,
            f"与正确输出最多相差 {difference:.3g}。",
            f"it differs from the right output by up to {difference:.3g}.",
        )
    return True, "", ""


def eval_hint(ctx, export):
    """Why outputs may differ: dropout still on (not repeatable) or BatchNorm on batch statistics."""
    outputs = ctx.verify_observations.get(export, {}).get("outputs", {})
    random = any(isinstance(seen, dict) and seen.get("repeatable") is False for seen in outputs.values())
    zh = "同一个输入算两次结果不同：dropout 还开着。" if random else ""
    en = "The same input gave two different results: dropout is still on. " if random else ""
    zh += (
        "导出之前先调用 model.eval()：训练模式下 dropout 随机丢弃、BatchNorm 用当前批次的统计量，"
        "这些都会被录进导出的模型。"
    )
    en += (
        "Call model.eval() before exporting: in train mode dropout drops at random and BatchNorm uses the "
        "current batch's statistics, and that is what gets recorded."
    )
    return zh, en


def check_batches(ctx, key, export):
    failure = export_failure(ctx, key, export)
    if failure:
        return failure
    failure, _ = verify_failure(ctx, key, export)
    if failure:
        return failure
    problems_zh, problems_en = [], []
    batch_errors = 0
    for batch in BATCHES:
        ok, zh, en = compare(ctx, export, f"b{batch}", expected(MODELS[export], verify_seed(ctx), batch))
        if not ok:
            problems_zh.append(f"批大小 {batch}：{zh}")
            problems_en.append(f"Batch size {batch}: {en}")
            seen = ctx.verify_observations[export].get("outputs", {}).get(f"b{batch}", {})
            batch_errors += isinstance(seen, dict) and "error" in seen
    if not problems_en:
        return ctx.passed(
            key,
            zh=f"在没有你代码的新沙箱里加载 {FILES[export]}，批大小 {BATCHES} 的输出都正确。",
            en=f"Loaded in a fresh sandbox without your code, {FILES[export]} gives the right outputs for "
            f"batch sizes {BATCHES}.",
        )
    zh, en = "\n".join(problems_zh), "\n".join(problems_en)
    if batch_errors and export == "onnx":
        zh += "\n导出时批大小被固定成了例子的大小：给 torch.onnx.export 传 dynamic_axes={输入名: {0: 'batch'}, 输出名: {0: 'batch'}}。"
        en += (
            "\nThe batch size was fixed to the example's at export: pass dynamic_axes={input_name: {0: 'batch'}, "
            "output_name: {0: 'batch'}} to torch.onnx.export."
        )
    elif batch_errors and export == "program":
        zh += (
            "\ntorch.export 默认把每个维度都固定成例子的大小：用 dynamic_shapes={'x': {0: torch.export.Dim('batch')}}"
            " 声明批维度可变。"
        )
        en += (
            "\ntorch.export fixes every dimension to the example's size by default: declare the batch dimension "
            "dynamic with dynamic_shapes={'x': {0: torch.export.Dim('batch')}}."
        )
    elif not batch_errors:
        hint_zh, hint_en = eval_hint(ctx, export)
        zh += "\n" + hint_zh
        en += "\n" + hint_en
    return ctx.failed(key, zh=zh, en=en)


def check_scripted(ctx):
    key = "torchscript-script"
    failure = export_failure(ctx, key, "scripted")
    if failure:
        return failure
    failure, _ = verify_failure(ctx, key, "scripted")
    if failure:
        return failure
    results = {
        branch: compare(ctx, "scripted", branch, expected("gatednet", verify_seed(ctx), GATED_BATCH, shift))
        for branch, shift in SHIFTS.items()
    }
    right = [branch for branch, (ok, _, _) in results.items() if ok]
    if len(right) == len(results):
        return ctx.passed(
            key,
            zh="明亮和昏暗两种输入都走了正确的分支：if 被完整地编译进了模型。",
            en="Bright and dark inputs both took the right branch: the `if` was compiled into the model.",
        )
    if len(right) == 1:
        wrong = next(branch for branch in results if branch not in right)
        return ctx.failed(
            key,
            zh=f"{right[0]} 输入的结果正确，{wrong} 输入却错了：这是追踪（trace）的典型症状——trace 只记录例子"
            "实际走过的那条分支。带有依赖数据的 if/循环的模型要用 torch.jit.script(model) 导出。",
            en=f"The {right[0]} inputs come out right but the {wrong} ones do not: the mark of tracing, which "
            "records only the branch its example took. Export a model with data-dependent if/loops with "
            "torch.jit.script(model).",
        )
    details_zh = "；".join(f"{branch}：{zh}" for branch, (_, zh, _) in results.items())
    details_en = "; ".join(f"{branch}: {en}" for branch, (_, _, en) in results.items())
    hint_zh, hint_en = eval_hint(ctx, "scripted")
    return ctx.failed(
        key,
        zh=f"两条分支都不对（{details_zh}）。{hint_zh}",
        en=f"Neither branch is right ({details_en}). {hint_en}",
    )
