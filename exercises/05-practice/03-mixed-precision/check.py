"""Check for trial 5.3, mixed-precision. Runs outside the sandbox and scores the driver's observations.

*Verified* (loss-falls): the driver measured the float32 training loss itself, before training on the
model it built from the job's spec and after it with the weights the agent returned, replayed the
reference training from the same spec in the same world, and typed and counted the returned losses as
they arrived; the expected values here are those measurements and the tolerances below.

*Observed* (current-api, cpu-bfloat16, cuda-float16, scaler-steps): which autocast class was entered
with what device type and dtype, the GradScaler calls, where the optimizer steps happened and the dtype
the Linear layers produced, all recorded by the trial's watch in the student's process (driver and
agent: docs/architecture.md). Their messages say so. The parameters' dtype (part of cpu-bfloat16) is
that of the returned weights.
"""

import dataclasses
import math
from pathlib import Path

from exercises.kit.check import Check, literal_from, number, show

HERE = Path(__file__).resolve().parent
DEPRECATED = literal_from(HERE / "probe.py", "DEPRECATED")
CURRENT_AUTOCAST = "torch.amp.autocast_mode.autocast"
CURRENT_SCALER = "torch.amp.grad_scaler.GradScaler"
# The float32 training loss must fall at least half as far as the reference's, replayed from the same
# start in the same world (the reference goes from ~2.3 to ~0.4-0.7, and to ~1.2 on a rare start), and
# end at most REFERENCE_MARGIN above it.
SHARE_OF_THE_FALL = 0.5
REFERENCE_MARGIN = 0.25
FIRST_LOSS_TOLERANCE = 0.05  # the first returned loss against the reference's loss on the same first batch
ONLY_OBSERVED = (
    "（这一项只能由你进程里的记录看到，无法在外面重算。）",
    " (This can only be seen by what is recorded in your process; it cannot be recomputed outside.)",
)
OBSERVED_NOTE = (
    "Recorded by the trial's watch in the student's process (autocast, GradScaler, optimizer, Linear hooks)."
)

CHECKS = [
    Check(
        "current-api",
        zh="用的是当前的 torch.amp API，而不是已弃用的 torch.cuda.amp",
        en="Uses the current torch.amp API, not the deprecated torch.cuda.amp",
        points=20,
        basis="observed",
        basis_note=OBSERVED_NOTE,
    ),
    Check(
        "cpu-bfloat16",
        zh="CPU 上用 bfloat16 自动混合精度，权重保持 float32",
        en="On the CPU, autocast to bfloat16 with float32 weights",
        points=25,
        basis="observed",
        basis_note=OBSERVED_NOTE + " The weights' dtype is that of the returned weights.",
    ),
    Check(
        "cuda-float16",
        zh="有 GPU 时用 CUDA 的 float16 自动混合精度和 GradScaler",
        en="With a GPU, CUDA float16 autocast and a GradScaler",
        points=25,
        visible=False,
        basis="observed",
        basis_note=OBSERVED_NOTE,
    ),
    Check(
        "scaler-steps",
        zh="优化器通过 scaler.step 更新，每步之后 scaler.update",
        en="The optimizer steps through scaler.step, followed by scaler.update",
        points=15,
        visible=False,
        basis="observed",
        basis_note=OBSERVED_NOTE,
    ),
    Check(
        "loss-falls",
        zh="损失下降，返回每一步的损失（Python float）",
        en="The loss falls; the loss of every step is returned as a Python float",
        points=15,
        basis="verified",
        basis_note="The driver measures the float32 loss before and after (returned weights) and replays the reference from the same spec; the returned losses are typed and counted as they arrived.",
    ),
]

WORLD_TEXT = {"cpu": ("没有 GPU 时", "With no GPU"), "cuda": ("有 GPU 时", "With a GPU available")}
WORLD_LOWER = {"cpu": "with no GPU", "cuda": "with a GPU available"}
KNOWN_ERRORS = [
    (
        "No inf checks were recorded",
        "scaler.update() 之前必须先调用 scaler.step(optimizer)：是它检查梯度里有没有 inf/nan，update 再据此调整缩放因子。不要直接调用 optimizer.step()。",
        "scaler.update() needs scaler.step(optimizer) first: step checks the gradients for inf/nan and update "
        "adjusts the scale from that. Do not call optimizer.step() directly.",
    ),
    (
        "unsupported autocast device_type",
        "device_type 只能是 'cuda' 或 'cpu' 这样的设备类型字符串，不能是 'cuda:0' 或 torch.device：用 device.type。",
        "device_type must be a device type string such as 'cuda' or 'cpu', not 'cuda:0' or a torch.device: use device.type.",
    ),
]


def check(ctx):
    yield ctx.evaluate("current-api", noted(check_api))
    yield ctx.evaluate("cpu-bfloat16", noted(check_cpu))
    yield ctx.evaluate("cuda-float16", noted(check_cuda))
    yield ctx.evaluate("scaler-steps", noted(check_scaler))
    yield ctx.evaluate("loss-falls", check_loss)


def noted(check_fn):
    """An observed check whose messages say that it is observed."""

    def run(ctx):
        outcome = check_fn(ctx)
        message = {
            "zh": outcome.message.get("zh", "") + ONLY_OBSERVED[0],
            "en": outcome.message.get("en", "") + ONLY_OBSERVED[1],
        }
        return dataclasses.replace(outcome, message=message)

    return run


def run_of(ctx, world):
    """(record, None) for the training run in `world`, or (None, (zh, en)) saying why there is none."""
    where_zh, where_en = WORLD_TEXT[world]
    for key, what_zh, what_en in (
        (f"{world}.import", "导入 solution.py", "importing solution.py"),
        (f"{world}.train", "调用 train_mixed_precision", "train_mixed_precision"),
    ):
        if error := ctx.error_of(key):
            zh, en = f"{where_zh}，{what_zh}出错：\n{error}", f"{where_en}, {what_en} raised:\n{error}"
            for fragment, note_zh, note_en in KNOWN_ERRORS:
                if fragment in error:
                    zh, en = f"{zh}\n{note_zh}", f"{en}\n{note_en}"
            return None, (zh, en)
    record = ctx.observed(f"{world}.amp")
    if not isinstance(record, dict) or record.get("unreadable"):
        return None, (
            f"{where_zh}没有训练的观测结果（代码可能提前退出或超时了）。",
            f"{where_en}, there is no observation of the training (the code may have exited early or timed out).",
        )
    return record, None


def entries(record, name):
    items = record.get(name)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def count(record, name):
    value = record.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def check_api(ctx):
    deprecated, without_autocast = set(), []
    for world in WORLD_TEXT:
        record, problem = run_of(ctx, world)
        if problem:
            return ctx.failed("current-api", zh=problem[0], en=problem[1])
        used = entries(record, "autocast") + entries(record, "scalers")
        deprecated |= {DEPRECATED[item.get("class")] for item in used if item.get("class") in DEPRECATED}
        if not entries(record, "autocast"):
            without_autocast.append(world)
    if deprecated:
        names = ", ".join(sorted(deprecated))
        return ctx.failed(
            "current-api",
            zh=f"用到了已弃用的 {names}（PyTorch 会给出 FutureWarning）。当前的写法带上设备类型：\n"
            "torch.autocast(device_type=device_type, dtype=...)（即 torch.amp.autocast）\n"
            "torch.amp.GradScaler(device_type)\n同一份代码就能同时用于 'cuda' 和 'cpu'。",
            en=f"Uses the deprecated {names} (PyTorch warns with a FutureWarning). The current API names the "
            "device type:\ntorch.autocast(device_type=device_type, dtype=...) (that is, torch.amp.autocast)\n"
            "torch.amp.GradScaler(device_type)\nand the same code then serves 'cuda' and 'cpu'.",
        )
    if without_autocast:
        where = "、".join(WORLD_TEXT[world][0] for world in without_autocast)
        where_en = " and ".join(WORLD_LOWER[world] for world in without_autocast)
        return ctx.failed(
            "current-api",
            zh=f"{where}训练时从没进入过 autocast 区域。把前向和损失包在 with torch.autocast(device_type=..., dtype=...): 里；"
            "不要用 model.half() / model.to(torch.bfloat16) 代替——那是全程低精度，不是混合精度。",
            en=f"Training {where_en} never entered an autocast region. Wrap the forward pass and the loss in "
            "with torch.autocast(device_type=..., dtype=...):; model.half() / model.to(torch.bfloat16) is "
            "not a substitute — that is low precision everywhere, not mixed precision.",
        )
    return ctx.passed(
        "current-api",
        zh="autocast 和 GradScaler 都用的是 torch.amp 的当前写法。",
        en="autocast and GradScaler both come from the current torch.amp API.",
    )


def enabled_autocast(record, device):
    return [
        item for item in entries(record, "autocast") if item.get("enabled") and item.get("device") == device
    ]


def check_cpu(ctx):
    record, problem = run_of(ctx, "cpu")
    if problem:
        return ctx.failed("cpu-bfloat16", zh=problem[0], en=problem[1])
    regions = enabled_autocast(record, "cpu")
    asked = ", ".join(f"{item.get('device')}/{item.get('dtype')}" + ("" if item.get("enabled") else " (disabled)")
                      for item in entries(record, "autocast")) or "—"  # fmt: skip
    if not regions:
        zh = f"没有 GPU 时，没有任何启用的 CPU autocast 区域（请求的是：{asked}）。"
        en = f"With no GPU there was no enabled CPU autocast region (asked for: {asked}). "
        if any(item.get("device") == "cuda" for item in entries(record, "autocast")):
            zh += "没有 GPU 时 CUDA 的 autocast 会直接禁用自己，一切都以 float32 运行。设备类型要跟着 torch.cuda.is_available() 走。"
            en += (
                "Without a GPU a CUDA autocast disables itself and everything runs in float32. Let the device "
                "type follow torch.cuda.is_available()."
            )
        else:
            zh += "把前向和损失放进 with torch.autocast(device_type='cpu', dtype=torch.bfloat16): 里。"
            en += "Put the forward pass and the loss inside with torch.autocast(device_type='cpu', dtype=torch.bfloat16):."
        return ctx.failed("cpu-bfloat16", zh=zh, en=en)
    wrong_dtype = sorted({item.get("dtype") for item in regions} - {"torch.bfloat16"})
    outputs = record.get("linear_outputs") if isinstance(record.get("linear_outputs"), dict) else {}
    if wrong_dtype or set(outputs) != {"torch.bfloat16"}:
        seen = ", ".join(f"{dtype} ×{times}" for dtype, times in outputs.items()) or "—"
        if wrong_dtype:
            zh_why = f"CPU autocast 请求的是 {', '.join(map(str, wrong_dtype))}。"
            en_why = f"The CPU autocast asked for {', '.join(map(str, wrong_dtype))}."
        else:
            zh_why = "autocast 开着，但前向传播没有在它里面运行（只包住了损失？）。"
            en_why = (
                "autocast was on, but the forward pass did not run inside it (only the loss was wrapped?)."
            )
        return ctx.failed(
            "cpu-bfloat16",
            zh=f"没有 GPU 时，训练中 Linear 层输出的类型是 {seen}，应全部是 torch.bfloat16。{zh_why}"
            "CPU 上用 bfloat16：它和 float32 的数值范围相同，不需要损失缩放，CPU 的 float16 运算又慢又容易溢出。"
            "把 model(x) 和损失都放进 with torch.autocast(device_type='cpu', dtype=torch.bfloat16): 里。",
            en=f"With no GPU the Linear layers produced {seen} while training; all should be torch.bfloat16. "
            f"{en_why} On a CPU use bfloat16: it has float32's range, needs no loss scaling, and float16 on a "
            "CPU is slow and overflows easily. Put both model(x) and the loss inside "
            "with torch.autocast(device_type='cpu', dtype=torch.bfloat16):.",
        )
    parameters = record.get("parameter_dtypes") if isinstance(record.get("parameter_dtypes"), list) else []
    if parameters != ["torch.float32"]:
        return ctx.failed(
            "cpu-bfloat16",
            zh=f"训练后模型参数的类型是 {', '.join(map(str, parameters))}，应保持 torch.float32。混合精度只在 autocast 里把计算降到低精度，"
            "权重（和优化器的更新）始终是 float32；不要 model.half() 或 model.to(torch.bfloat16)。",
            en=f"After training the parameters are {', '.join(map(str, parameters))}; they should stay "
            "torch.float32. Mixed precision lowers the precision of the computations inside autocast only; "
            "the weights (and the optimizer's updates) stay float32. No model.half() or model.to(torch.bfloat16).",
        )
    return ctx.passed(
        "cpu-bfloat16",
        zh="没有 GPU 时，Linear 层在 autocast 里输出 bfloat16，参数保持 float32。",
        en="With no GPU the Linear layers computed in bfloat16 under autocast, and the parameters stayed float32.",
    )


def check_cuda(ctx):
    record, problem = run_of(ctx, "cuda")
    if problem:
        return ctx.failed("cuda-float16", zh=problem[0], en=problem[1])
    asked = ", ".join(f"{item.get('device')}/{item.get('dtype')}" + ("" if item.get("enabled") else " (disabled)")
                      for item in entries(record, "autocast")) or "—"  # fmt: skip
    if record.get("cuda_requested") is not True:
        return ctx.failed(
            "cuda-float16",
            zh="有 GPU 时，模型和数据都没有移到 GPU 上。先 model.to(device)，每个批次 x.to(device)、y.to(device)。",
            en="With a GPU available, neither the model nor the data went to the GPU. model.to(device) first, "
            "then x.to(device) and y.to(device) for every batch.",
        )
    regions = enabled_autocast(record, "cuda")
    if not regions or {item.get("dtype") for item in regions} != {"torch.float16"}:
        return ctx.failed(
            "cuda-float16",
            zh=f"有 GPU 时，autocast 请求的是：{asked}；应是启用的 device_type='cuda'、dtype=torch.float16。"
            "每张 CUDA 显卡都支持 float16（张量核心的主力），这正是 GradScaler 要配合的类型。"
            "device_type 请从 torch.cuda.is_available() 决定，而不是从张量的 .device 读（评测用的是模拟 GPU，张量的 .device 仍显示 cpu）。",
            en=f"With a GPU available, autocast was asked for: {asked}; it should be an enabled "
            "device_type='cuda' with dtype=torch.float16. Every CUDA GPU supports float16 (what tensor cores "
            "run on), and it is the dtype GradScaler exists for. Decide device_type from "
            "torch.cuda.is_available(), not from a tensor's .device (the grader simulates the GPU, and "
            "tensors there still report device cpu).",
        )
    scalers = [
        item for item in entries(record, "scalers") if item.get("enabled") and item.get("device") == "cuda"
    ]
    if not scalers or count(record, "scale_calls_enabled") == 0:
        return ctx.failed(
            "cuda-float16",
            zh="有 GPU 时没有使用启用的 CUDA GradScaler。float16 的数值范围很窄，小梯度会下溢成 0："
            "scaler = torch.amp.GradScaler('cuda')，再用 scaler.scale(loss).backward()。",
            en="With a GPU available no enabled CUDA GradScaler was used. float16 has a narrow range and small "
            "gradients underflow to 0: scaler = torch.amp.GradScaler('cuda'), then scaler.scale(loss).backward().",
        )
    outputs = record.get("linear_outputs") if isinstance(record.get("linear_outputs"), dict) else {}
    if ctx.observed("real_cuda") is True and set(outputs) != {"torch.float16"}:
        seen = ", ".join(f"{dtype} ×{times}" for dtype, times in outputs.items()) or "—"
        return ctx.failed(
            "cuda-float16",
            zh=f"在真实的 GPU 上，训练中 Linear 层输出的类型是 {seen}，应全部是 torch.float16：把 model(x) 也放进 autocast。",
            en=f"On the real GPU the Linear layers produced {seen} while training; all should be "
            "torch.float16: run model(x) inside autocast too.",
        )
    return ctx.passed(
        "cuda-float16",
        zh="有 GPU 时，模型和数据移到了 GPU，autocast 用 float16，并配了 CUDA GradScaler。",
        en="With a GPU, the model and data moved to it, autocast used float16, and a CUDA GradScaler was used.",
    )


def check_scaler(ctx):
    for world in WORLD_TEXT:
        record, problem = run_of(ctx, world)
        if problem:
            return ctx.failed("scaler-steps", zh=problem[0], en=problem[1])
        where_zh, where_en = WORLD_TEXT[world]
        steps = count(record, "steps")
        optimizer_steps = count(record, "optimizer_steps")
        if count(record, "scale_calls_enabled") == 0:
            if world == "cuda":
                return ctx.failed(
                    "scaler-steps",
                    zh="有 GPU（float16）时没有启用的 GradScaler 在缩放损失：scaler.scale(loss).backward()、scaler.step(optimizer)、scaler.update()。",
                    en="With a GPU (float16) no enabled GradScaler scaled the loss: scaler.scale(loss).backward(), "
                    "scaler.step(optimizer), scaler.update().",
                )
            if optimizer_steps != steps:
                return ctx.failed(
                    "scaler-steps",
                    zh=f"{where_zh}，{steps} 个批次里传入的优化器更新了 {optimizer_steps} 次，应每个批次一次（用传进来的 optimizer，不要另建一个）。",
                    en=f"{where_en}, the optimizer passed in stepped {optimizer_steps} times in {steps} batches; once per "
                    "batch is expected (use the optimizer you are given rather than building another).",
                )
            continue
        outside = count(record, "optimizer_steps_outside_scaler")
        if outside:
            return ctx.failed(
                "scaler-steps",
                zh=f"{where_zh}，GradScaler 放大了损失，但有 {outside} 次 optimizer.step() 是直接调用的：梯度还是放大了 "
                "65536 倍的值。用 scaler.step(optimizer)——它先把梯度还原（unscale），遇到 inf/nan 就跳过这一步。",
                en=f"{where_en}, the GradScaler scaled the loss but optimizer.step() was called directly {outside} "
                "times: the gradients were still multiplied by 65536. Use scaler.step(optimizer): it unscales "
                "the gradients first and skips the step when they hold inf/nan.",
            )
        scaler_steps = count(record, "scaler_step_calls_enabled")
        updates = count(record, "update_calls_enabled")
        if scaler_steps != steps or updates != scaler_steps:
            return ctx.failed(
                "scaler-steps",
                zh=f"{where_zh}，{steps} 个批次里 scaler.step 调用了 {scaler_steps} 次、scaler.update 调用了 {updates} 次，"
                "应各为每批一次：scaler.step(optimizer) 之后紧跟 scaler.update()，缩放因子才会随溢出情况调整。",
                en=f"{where_en}, scaler.step ran {scaler_steps} times and scaler.update {updates} times in {steps} "
                "batches; each should run once per batch: scaler.step(optimizer) then scaler.update(), so the "
                "scale adapts to overflows.",
            )
    record, _ = run_of(ctx, "cuda")
    scales = record.get("final_scales") if isinstance(record, dict) else None
    scale = number(scales[0]) if isinstance(scales, list) and scales else None
    zh_scale = f"有 GPU 时缩放因子最后是 {scale:g}。" if scale is not None else ""
    en_scale = f" With a GPU the scale ended at {scale:g}." if scale is not None else ""
    return ctx.passed(
        "scaler-steps",
        zh="每个批次：scaler.scale(loss).backward() → scaler.step(optimizer) → scaler.update()，顺序正确。"
        + zh_scale,
        en="Every batch ran scaler.scale(loss).backward() → scaler.step(optimizer) → scaler.update()."
        + en_scale,
    )


def check_loss(ctx):
    # Submit judges the loss in both worlds: on the float16 + GradScaler path a mistake such as clipping
    # before scaler.unscale_ (the clip then acts on gradients 65536 times too large) stops the learning
    # there while the CPU path trains fine. Run shows this check with the CPU world's result only.
    # Every number here was measured by the driver: the losses before and after (with the weights the
    # agent returned) and the reference's, replayed from the same start in the same world.
    worlds = ("cpu", "cuda") if ctx.mode == "submit" else ("cpu",)
    falls = []
    for world in worlds:
        record, problem = run_of(ctx, world)
        if problem:
            return ctx.failed("loss-falls", zh=problem[0], en=problem[1])
        where_zh, where_en = WORLD_TEXT[world]
        reference = record.get("reference") if isinstance(record.get("reference"), dict) else {}
        before, after = number(record.get("loss_before")), number(record.get("loss_after"))
        expected = number(reference.get("loss_after"))
        if before is None or expected is None:
            return ctx.failed("loss-falls")  # no measurement: the neutral "no observation"
        if after is None:
            return ctx.failed(
                "loss-falls",
                zh=f"{where_zh}，训练后模型的参数和传进来的模型对不上（名字、形状或类型变了）：在传入的 model 上训练，"
                "不要替换它的层或参数。",
                en=f"{where_en}, the model's parameters after training no longer match the model you were given "
                "(names, shapes or types changed): train the model passed in, without replacing its layers "
                "or parameters.",
            )
        limit = min(before - SHARE_OF_THE_FALL * (before - expected), expected + REFERENCE_MARGIN)
        if math.isnan(after) or after > limit:
            shown = f"{after:.3f}" if math.isfinite(after) else show(record.get("loss_after"))
            advice_zh, advice_en = (
                "检查每个批次都 zero_grad、backward、step。",
                ("Check that every batch runs zero_grad, backward and step."),
            )
            if world == "cuda":
                advice_zh = (
                    "float16 + GradScaler 的路径没有学到东西：scaler.scale(loss).backward() 之后的梯度放大了 65536 倍，"
                    "要先 scaler.unscale_(optimizer) 还原，再裁剪或检查梯度，最后 scaler.step(optimizer)、scaler.update()。"
                )
                advice_en = (
                    "The float16 + GradScaler path did not learn: after scaler.scale(loss).backward() the gradients "
                    "are multiplied by 65536; call scaler.unscale_(optimizer) before clipping or inspecting them, "
                    "then scaler.step(optimizer) and scaler.update()."
                )
            return ctx.failed(
                "loss-falls",
                zh=f"{where_zh}，训练集上的 float32 损失从 {before:.3f} 变成 {shown}；参考解从同一起点训练到 {expected:.3f}，"
                f"你的训练应至少降下它降幅的一半，并且最多比它高 {REFERENCE_MARGIN}（即不超过 {limit:.3f}）。{advice_zh}",
                en=f"{where_en}, the float32 training loss went from {before:.3f} to {shown}; the reference, "
                f"trained from the same start, reached {expected:.3f}. Your training should fall at least half as "
                f"far and end at most {REFERENCE_MARGIN} above it (at most {limit:.3f}). {advice_en}",
            )
        falls.append((world, before, after, expected))
    record, _ = run_of(ctx, "cpu")
    returned = record.get("returned") if isinstance(record.get("returned"), dict) else {}
    steps = count(record, "steps")
    if (
        returned.get("type") != "list"
        or returned.get("length") != steps
        or returned.get("item_types") != ["float"]
    ):
        got = show(returned.get("type"))
        if "length" in returned:
            got += (
                f"，{returned['length']} 个元素，类型 {', '.join(map(str, returned.get('item_types') or []))}"
            )
        got_en = show(returned.get("type"))
        if "length" in returned:
            got_en += f" of {returned['length']} items of type {', '.join(map(str, returned.get('item_types') or []))}"
        return ctx.failed(
            "loss-falls",
            zh=f"train_mixed_precision 返回了 {got}；应返回列表，每个批次一个 Python float（共 {steps} 个）：losses.append(loss.item())。"
            "保存张量会把整张计算图留在内存里。",
            en=f"train_mixed_precision returned {got_en}; it should return a list with one Python float per "
            f"batch ({steps} of them): losses.append(loss.item()). Keeping tensors keeps their graphs alive.",
        )
    if returned.get("all_finite") is not True:
        return ctx.failed(
            "loss-falls",
            zh="返回的损失里有 NaN 或无穷大。",
            en="The returned losses contain NaN or infinity.",
        )
    reference = record.get("reference") if isinstance(record.get("reference"), dict) else {}
    first, expected_first = number(returned.get("first")), number(reference.get("first_loss"))
    if first is None or expected_first is None or abs(first - expected_first) > FIRST_LOSS_TOLERANCE:
        return ctx.failed(
            "loss-falls",
            zh=f"返回的第一个损失是 {show(returned.get('first'))}，但第一个批次的损失应约为 {show(reference.get('first_loss'))}"
            f"（参考解在同一模型、同一批次上算出的，允许相差 {FIRST_LOSS_TOLERANCE}）：按顺序返回每个批次真实的 loss.item()。",
            en=f"The first loss returned is {show(returned.get('first'))}, but the first batch's loss should be about "
            f"{show(reference.get('first_loss'))} (the reference's on the same model and batch, within "
            f"{FIRST_LOSS_TOLERANCE}): return every batch's real loss.item(), in order.",
        )
    fell_zh = "；".join(
        f"{WORLD_TEXT[world][0]}从 {before:.3f} 降到 {after:.3f}（参考解 {expected:.3f}）"
        for world, before, after, expected in falls
    )
    fell_en = "; ".join(
        f"{WORLD_LOWER[world]} from {before:.3f} to {after:.3f} (the reference: {expected:.3f})"
        for world, before, after, expected in falls
    )
    return ctx.passed(
        "loss-falls",
        zh=f"float32 训练损失：{fell_zh}；返回了 {steps} 个 Python float。",
        en=f"The float32 training loss fell: {fell_en}; {steps} Python floats were returned.",
    )
