"""Check for trial 2.3, train-loop. Runs outside the sandbox and scores the probe's observations.

Accuracy is scored against the held-out labels in hidden/ (Submit) or the public validation labels
(Run); the loop mechanics are judged from what the probe's hooks saw while the student's code ran.
"""

import math
from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, number, show
from exercises.kit.digits import load_public
from exercises.kit.heldout import job_labels

HERE = Path(__file__).resolve().parent
SEEDS = literal_from(HERE / "probe.py", "SEEDS")
EPOCHS = literal_from(HERE / "probe.py", "EPOCHS")
MAX_GRAD_NORM = literal_from(HERE / "probe.py", "MAX_GRAD_NORM")
VAL_SIZE = literal_from(HERE / "probe.py", "VAL_SIZE")
ACCURACY_THRESHOLD = 0.90  # the reference reaches about 0.96 on every seed
NORM_SLACK = 1e-3  # clip_grad_norm_ scales by max_norm / (norm + 1e-6): a hair under max_norm
REPORT_TOLERANCE = 1e-3

CHECKS = [
    Check(
        "accuracy",
        zh=f"留出集准确率 ≥ {ACCURACY_THRESHOLD:.0%}",
        en=f"Held-out accuracy ≥ {ACCURACY_THRESHOLD:.0%}",
        points=25,
    ),
    Check(
        "zero-grad",
        zh="每一步都先清零梯度",
        en="Gradients are cleared at every step",
        points=20,
    ),
    Check(
        "eval-no-grad",
        zh="验证和预测时用 eval() 且不记录梯度",
        en="Validation and prediction run in eval() without gradients",
        points=20,
        visible=False,
    ),
    Check(
        "train-mode",
        zh="每个 epoch 都切回 train() 再训练",
        en="Every epoch trains in train() mode",
        points=10,
        visible=False,
    ),
    Check(
        "grad-clipping",
        zh="按 max_grad_norm 裁剪梯度范数",
        en="Gradient norms are clipped to max_grad_norm",
        points=15,
        visible=False,
    ),
    Check(
        "grad-norm-reported",
        zh="用 report 上报梯度范数",
        en="Gradient norms are reported with report()",
        points=10,
        visible=False,
    ),
]


def check(ctx):
    yield ctx.evaluate("accuracy", check_accuracy)
    yield ctx.evaluate("zero-grad", check_zero_grad)
    yield ctx.evaluate("eval-no-grad", check_eval_no_grad)
    yield ctx.evaluate("train-mode", check_train_mode)
    yield ctx.evaluate("grad-clipping", check_grad_clipping)
    yield ctx.evaluate("grad-norm-reported", check_grad_norm_reported)


# ---------------------------------------------------------------------------------------------------
# Shared pieces


def seeds(ctx):
    return SEEDS.get(ctx.mode, SEEDS["submit"])


def runs(ctx):
    """([(seed, observation)], None) for every seed whose train() returned, or ([], (zh, en))."""
    found = []
    for seed in seeds(ctx):
        error = ctx.error_of(f"train.{seed}")
        if error:
            return [], (f"train(...) 出错了：\n{error}", f"train(...) raised an error:\n{error}")
        value = ctx.observed(f"train.{seed}")
        if not isinstance(value, dict):
            return [], ("没有 train(...) 的观测结果（代码可能提前退出或超时）。",
                        "No observation of train(...) (the code may have exited early or timed out).")  # fmt: skip
        found.append((seed, value))
    return found, None


def failed(ctx, key, problem):
    return ctx.failed(key, zh=problem[0], en=problem[1])


def epoch_text(epoch):
    return (
        (f"第 {epoch + 1} 个 epoch", f"epoch {epoch + 1}")
        if isinstance(epoch, int) and epoch >= 0
        else ("", "")
    )


def relative_match(value, candidates):
    return any(
        candidate is not None and abs(value - candidate) <= REPORT_TOLERANCE * max(1.0, abs(candidate))
        for candidate in candidates
    )


# ---------------------------------------------------------------------------------------------------
# The checks


def check_accuracy(ctx):
    target = ctx.observed("predict.target")
    if target == "val":
        labels = load_public(ctx.bundle / "public")["train_y"][:VAL_SIZE]
        where_zh, where_en = (
            "验证集（运行模式；提交时用留出集）",
            "the validation split (Run; Submit scores the held-out set)",
        )
    else:
        labels = job_labels(ctx.bundle, ctx.job_seed)
        where_zh, where_en = "留出集", "the held-out set"
    accuracies = []
    for seed in seeds(ctx):
        for key in (f"train.{seed}", f"predict.{seed}"):
            error = ctx.error_of(key)
            if error:
                call = "predict(model, x)" if key.startswith("predict") else "train(...)"
                return ctx.failed(
                    "accuracy", zh=f"{call} 出错了：\n{error}", en=f"{call} raised an error:\n{error}"
                )
        predictions = ctx.array(f"predictions_{seed}")
        if predictions is None:
            return ctx.failed(
                "accuracy",
                zh=f"predict(model, x) 没有返回数值张量（观察到 {show(ctx.observed(f'predict.{seed}'))}）。",
                en=f"predict(model, x) did not return a numeric tensor (observed {show(ctx.observed(f'predict.{seed}'))}).",
            )
        if predictions.ndim == 2 and predictions.shape == (len(labels), 10):
            predictions = predictions.argmax(axis=1)
        if predictions.shape != labels.shape:
            return ctx.failed(
                "accuracy",
                zh=f"predict(model, x) 对 {len(labels)} 个样本应返回形状为 ({len(labels)},) 的类别编号，实际形状是 {predictions.shape}。",
                en=f"predict(model, x) should return {len(labels)} class indices, shape ({len(labels)},); it returned shape {predictions.shape}.",
            )
        accuracies.append(float(np.mean(predictions.astype(np.int64) == labels)))
    mean = sum(accuracies) / len(accuracies)
    listing = "、".join(f"{a:.1%}" for a in accuracies)
    listing_en = ", ".join(f"{a:.1%}" for a in accuracies)
    if len(accuracies) > 1:
        listing += f"（{len(accuracies)} 次训练的平均 {mean:.1%}）"
        listing_en += f" (mean over {len(accuracies)} training runs {mean:.1%})"
    if mean >= ACCURACY_THRESHOLD:
        return ctx.passed(
            "accuracy",
            zh=f"在{where_zh}上的准确率：{listing}，要求 ≥ {ACCURACY_THRESHOLD:.0%}。",
            en=f"Accuracy on {where_en}: {listing_en}; needed ≥ {ACCURACY_THRESHOLD:.0%}.",
        )
    return ctx.failed(
        "accuracy",
        zh=f"在{where_zh}上的准确率只有 {listing}，要求 ≥ {ACCURACY_THRESHOLD:.0%}。"
        "这个模型正常训练 4 个 epoch 能到 95% 左右：先看其他检查有没有指出循环里的问题（梯度清零、train/eval 模式），"
        "并确认 predict 返回每个样本得分最高的类别（argmax）。",
        en=f"Accuracy on {where_en} is only {listing_en}; needed ≥ {ACCURACY_THRESHOLD:.0%}. "
        "Trained properly for 4 epochs this model reaches about 95%: see whether the other checks point at the "
        "loop (clearing gradients, train/eval mode), and make sure predict returns each sample's highest-scoring "
        "class (argmax).",
    )


def check_zero_grad(ctx):
    found, problem = runs(ctx)
    if problem:
        return failed(ctx, "zero-grad", problem)
    for _, run in found:
        steps = run.get("steps") or []
        if not steps:
            return ctx.failed(
                "zero-grad",
                zh="train 从没调用过传进来的 optimizer.step()：要用参数里给的 optimizer，每个 batch 调用一次 step()。",
                en="train never called optimizer.step() on the optimizer it was given: use that optimizer and "
                "call step() once per batch.",
            )
        if run.get("accumulated_count", 0):
            zh_epoch, en_epoch = epoch_text((run.get("accumulated") or [None])[0])
            return ctx.failed(
                "zero-grad",
                zh=f"{len(steps)} 次 optimizer.step() 中，有 {run['accumulated_count']} 次反向传播把梯度加到了上一步留下的 .grad 上"
                f"（最早在{zh_epoch}）。PyTorch 的 backward() 会累加梯度而不是覆盖，所以每个 batch 开始时都要先 "
                "optimizer.zero_grad()（放在内层循环里，而不是每个 epoch 一次）。",
                en=f"In {run['accumulated_count']} of {len(steps)} steps, backward() added onto the .grad left from an "
                f"earlier step (first in {en_epoch}). backward() accumulates into .grad rather than overwriting it, "
                "so call optimizer.zero_grad() at the start of every batch (inside the inner loop, not once per epoch).",
            )
        wiped = [step for step in steps if number(step[1]) == 0.0 and step[3]]
        if wiped:
            return ctx.failed(
                "zero-grad",
                zh=f"有 {len(wiped)} 次 optimizer.step() 时梯度全是零：zero_grad() 放在了 backward() 和 step() 之间，"
                "把刚算好的梯度清掉了。顺序应是 zero_grad() → 前向 → loss.backward() → step()。",
                en=f"At {len(wiped)} optimizer.step() calls every gradient was zero: zero_grad() sits between "
                "backward() and step() and wipes the fresh gradients. The order is zero_grad() → forward → "
                "loss.backward() → step().",
            )
        stale = [step for step in steps if not step[3]]
        if stale:
            return ctx.failed(
                "zero-grad",
                zh=f"有 {len(stale)} 次 optimizer.step() 之前没有新的 backward()：每个 batch 正好一次前向、一次 backward、一次 step。",
                en=f"{len(stale)} optimizer.step() calls had no fresh backward() before them: each batch needs one "
                "forward, one backward and one step.",
            )
    total = sum(len(run.get("steps") or []) for _, run in found)
    return ctx.passed(
        "zero-grad",
        zh=f"{total} 次 optimizer.step() 的梯度都只来自当前这个 batch。",
        en=f"At all {total} optimizer.step() calls the gradients came from the current batch only.",
    )


def mode_problem(run, phase):
    """(zh, en) when forwards in `phase` ran in the wrong mode, else None."""
    forwards = (run.get("forwards") or {}).get(phase) or {}
    calls = forwards.get("calls", 0)
    wrong = (run.get("first_wrong_mode") or {}).get(phase)
    if not calls or not wrong:
        return None
    zh_epoch, en_epoch = epoch_text(wrong.get("epoch"))
    still_training = wrong.get("training") or []
    if phase == "train":
        if not wrong.get("evaluating") and wrong.get("grad_enabled") is False:
            return (
                f"训练时（{zh_epoch}）梯度被关掉了（torch.is_grad_enabled() 为 False）：训练的前向不能放在 "
                "torch.no_grad() 里，只有验证和预测才这样做。",
                f"During training ({en_epoch}) autograd was off (torch.is_grad_enabled() was False): the training "
                "forward pass must not run inside torch.no_grad(); only validation and prediction do.",
            )
        return (
            f"训练时（{zh_epoch}）模型处于 eval 模式：Dropout 不起作用，BatchNorm 也不更新统计量。"
            "验证时调用了 model.eval()，下一个 epoch 开始训练前要再调用 model.train()——放在 epoch 循环的开头。",
            f"During training ({en_epoch}) the model was in eval mode: Dropout was off and BatchNorm stopped "
            "updating its statistics. Validation switched to model.eval(); call model.train() again at the start "
            "of every epoch, inside the epoch loop.",
        )
    if phase == "val":
        where_zh, where_en = f"验证时（{zh_epoch}）", f"During validation ({en_epoch})"
    else:
        where_zh, where_en = "predict 里", "In predict"
    if still_training:
        telling = [name for name in still_training if name.startswith(("BatchNorm", "Dropout"))]
        modules = ", ".join(telling or still_training)
        return (
            f"{where_zh}模型还在训练模式（{modules} 的 training 为 True）：Dropout 会随机丢弃神经元，"
            "BatchNorm 会用当前这批数据的统计量、还会改写 running 统计量。先调用 model.eval()。",
            f"{where_en} the model was still in training mode ({modules} had training=True): "
            "Dropout drops units at random and BatchNorm uses the batch's statistics and overwrites its running "
            "ones. Call model.eval() first.",
        )
    return (
        f"{where_zh}模型已是 eval 模式，但还在记录梯度（torch.is_grad_enabled() 为 True）：会白白建立计算图、"
        "占用内存。把它放进 with torch.no_grad():（或 torch.inference_mode()）里。",
        f"{where_en} the model was in eval mode but autograd was still recording "
        "(torch.is_grad_enabled() was True), building a graph for nothing. Wrap it in with torch.no_grad(): "
        "(or torch.inference_mode()).",
    )


def check_eval_no_grad(ctx):
    found, problem = runs(ctx)
    if problem:
        return failed(ctx, "eval-no-grad", problem)
    for seed, run in found:
        forwards = (run.get("forwards") or {}).get("val") or {}
        passes = (run.get("passes") or {}).get("val", 0)
        if not forwards.get("calls") or passes < EPOCHS:
            return ctx.failed(
                "eval-no-grad",
                zh=f"验证集只被完整遍历了 {passes} 次（前向 {forwards.get('calls', 0)} 次），应每个 epoch 一次，共 {EPOCHS} 次："
                "每个 epoch 训练完，用 val_loader 算一遍验证损失和准确率。",
                en=f"The validation loader was run through {passes} times ({forwards.get('calls', 0)} forward passes); "
                f"it should be once per epoch, {EPOCHS} times: after each epoch's training, compute the validation "
                "loss and accuracy over val_loader.",
            )
        problem = mode_problem(run, "val")
        if problem:
            return failed(ctx, "eval-no-grad", problem)
        error = ctx.error_of(f"predict.{seed}")
        if error:
            return ctx.failed(
                "eval-no-grad", zh=f"predict 出错了：\n{error}", en=f"predict raised an error:\n{error}"
            )
        problem = mode_problem(run, "predict")
        if problem:
            zh, en = problem
            return ctx.failed(
                "eval-no-grad",
                zh=zh + "（检查在调用 predict 之前把模型切回了 train 模式：predict 要自己切到 eval。）",
                en=en
                + " (The check puts the model back in train mode before calling predict: predict must switch to eval itself.)",
            )
    return ctx.passed(
        "eval-no-grad",
        zh="每个 epoch 的验证和最后的预测都在 eval 模式下、不记录梯度地运行。",
        en="Every epoch's validation and the final prediction ran in eval mode without recording gradients.",
    )


def check_train_mode(ctx):
    found, problem = runs(ctx)
    if problem:
        return failed(ctx, "train-mode", problem)
    for _, run in found:
        forwards = (run.get("forwards") or {}).get("train") or {}
        passes = (run.get("passes") or {}).get("train", 0)
        if passes != EPOCHS:
            return ctx.failed(
                "train-mode",
                zh=f"训练集被完整遍历了 {passes} 次，应正好 {EPOCHS} 次：epochs 参数是几，就训练几个 epoch。",
                en=f"The training loader was run through {passes} times; it should be exactly {EPOCHS}: train for "
                "as many epochs as the epochs argument says.",
            )
        if not forwards.get("calls"):
            return ctx.failed(
                "train-mode",
                zh="训练时模型一次前向都没有运行：用传进来的 model 和 train_loader 训练。",
                en="The model never ran a forward pass during training: train the model you are given on train_loader.",
            )
        problem = mode_problem(run, "train")
        if problem:
            return failed(ctx, "train-mode", problem)
    return ctx.passed(
        "train-mode",
        zh="每个 epoch 的训练都在 train 模式下进行（验证之后切回了 train()）。",
        en="Every epoch trained in train mode (back to train() after each validation).",
    )


def check_grad_clipping(ctx):
    found, problem = runs(ctx)
    if problem:
        return failed(ctx, "grad-clipping", problem)
    limit = MAX_GRAD_NORM * (1 + NORM_SLACK) + 1e-6
    needed = 0
    for _, run in found:
        steps = run.get("steps") or []
        if not steps:
            return ctx.failed(
                "grad-clipping",
                zh="train 从没调用过传进来的 optimizer.step()，无法观察裁剪。",
                en="train never called optimizer.step() on the optimizer it was given, so clipping cannot be observed.",
            )
        too_large = [step for step in steps if (number(step[1]) or 0.0) > limit]
        needed += sum(1 for step in steps if (number(step[2]) or 0.0) > limit)
        if too_large:
            worst = max(number(step[1]) for step in too_large)
            zh_epoch, en_epoch = epoch_text(too_large[0][0])
            return ctx.failed(
                "grad-clipping",
                zh=f"{len(steps)} 次 optimizer.step() 中有 {len(too_large)} 次梯度总范数超过 max_grad_norm={MAX_GRAD_NORM}"
                f"（最大 {worst:.3f}，最早在{zh_epoch}）。在 loss.backward() 之后、optimizer.step() 之前调用 "
                "torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)，并使用传进来的 max_grad_norm，不要写死。",
                en=f"At {len(too_large)} of {len(steps)} optimizer.step() calls the total gradient norm exceeded "
                f"max_grad_norm={MAX_GRAD_NORM} (largest {worst:.3f}, first in {en_epoch}). Call "
                "torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm) after loss.backward() and before "
                "optimizer.step(), with the max_grad_norm you are given, not a constant.",
            )
    return ctx.passed(
        "grad-clipping",
        zh=f"每次 optimizer.step() 时梯度总范数都不超过 {MAX_GRAD_NORM}（其中 {needed} 次是裁剪下来的）。",
        en=f"At every optimizer.step() the total gradient norm was at most {MAX_GRAD_NORM} ({needed} steps needed clipping).",
    )


def check_grad_norm_reported(ctx):
    found, problem = runs(ctx)
    if problem:
        return failed(ctx, "grad-norm-reported", problem)
    total = 0
    for _, run in found:
        reports = run.get("reports") or []
        if not reports:
            return ctx.failed(
                "grad-norm-reported",
                zh="没有收到任何带 grad_norm 的 report(...)。在训练循环里调用 report(step=step, grad_norm=...)，"
                "值用 clip_grad_norm_ 的返回值（裁剪前的总范数）。",
                en="No report(...) carrying grad_norm arrived. Call report(step=step, grad_norm=...) in the training "
                "loop with the value clip_grad_norm_ returns (the total norm before clipping).",
            )
        epochs = {item.get("epoch") for item in reports}
        missing = [epoch + 1 for epoch in range(EPOCHS) if epoch not in epochs]
        if missing:
            return ctx.failed(
                "grad-norm-reported",
                zh=f"第 {', '.join(map(str, missing))} 个 epoch 没有上报 grad_norm：每个 epoch 都要报（每一步或每隔几步）。",
                en=f"No grad_norm was reported in epoch {', '.join(map(str, missing))}: report it in every epoch "
                "(every step, or every few steps).",
            )
        for item in reports:
            value = number(item.get("value"))
            candidates = [number(item.get("after_backward")), number(item.get("now"))]
            if value is None or not math.isfinite(value) or not relative_match(value, candidates):
                after, now = candidates
                return ctx.failed(
                    "grad-norm-reported",
                    zh=f"上报的 grad_norm={show(item.get('value'))} 和当时的梯度范数对不上：最近一次 backward 之后是 "
                    f"{after if after is None else f'{after:.4g}'}，上报时是 {now if now is None else f'{now:.4g}'}。"
                    "上报当前这一步的梯度总范数，最方便的是 clip_grad_norm_ 的返回值（.item()）。",
                    en=f"The reported grad_norm={show(item.get('value'))} does not match the gradient norm at the time: "
                    f"{after if after is None else f'{after:.4g}'} after the latest backward, "
                    f"{now if now is None else f'{now:.4g}'} when reported. Report the current step's total gradient "
                    "norm; the value clip_grad_norm_ returns (.item()) is the easiest.",
                )
        total += len(reports)
    return ctx.passed(
        "grad-norm-reported",
        zh=f"收到 {total} 次 grad_norm 上报，每个 epoch 都有，数值和实际梯度范数一致。",
        en=f"{total} grad_norm reports arrived, in every epoch, each matching the actual gradient norm.",
    )
