"""Check for trial 2.3, train-loop. Runs outside the sandbox and scores what the driver recorded.

*Verified* (recomputed outside the student's process): the driver replayed the standard loop from the
same spec (initial weights, dropout masks, batch order) and recorded how far the final state_dict the
student's `train` left is from the replay's; the loop checks pass only when it is within `TOLERANCE`.
The replay's gradient norms are what the reported norms are compared with; the driver's own eval-mode
predictions from the returned weights are what `predict` must return; accuracy is scored against labels
that never enter the sandbox (the job's held-out digits in Submit, the validation split in Run).

*Observed* (hooks in the student's process): they only explain a failure (which step added onto an
uncleared gradient, which epoch trained in eval mode, where the norm exceeded the limit), except that
validation and `predict` running without gradients can only be seen there: eval-no-grad also needs
those hooks to agree, and says so.
"""

import math
from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, number, show
from exercises.kit.digits import load_public
from exercises.kit.heldout import job_labels

HERE = Path(__file__).resolve().parent
RUNS = literal_from(HERE / "probe.py", "RUNS")
EPOCHS = literal_from(HERE / "probe.py", "EPOCHS")
MAX_GRAD_NORM = literal_from(HERE / "probe.py", "MAX_GRAD_NORM")
VAL_SIZE = literal_from(HERE / "probe.py", "VAL_SIZE")
ACCURACY_THRESHOLD = 0.90  # the reference reaches about 0.95 on every run
# Each tensor of the final state_dict may differ from the replay's by this share of its size
# (‖got − expected‖ / ‖expected‖). Correct spellings (clipping by hand, inference_mode, model.zero_grad)
# measured a median of 4e-7 and at worst 1.5e-3 over 42 specs (training amplifies rounding differently
# from one spec to the next); each classic mistake at least 0.16.
TOLERANCE = 2e-2
PREDICT_AGREEMENT = 0.99  # predict's classes against the driver's own eval-mode predictions
NORM_SLACK = 1e-3  # clip_grad_norm_ scales by max_norm / (norm + 1e-6): a hair under max_norm
REPORT_TOLERANCE = 1e-3
REPLAYED = (
    "与标准循环从同一起点（相同的初始权重、dropout 掩码和 batch 顺序）重放的结果比较",
    "compared with the standard loop replayed from the same start (the same initial weights, dropout masks and batch order)",
)

CHECKS = [
    Check(
        "accuracy",
        zh=f"留出集准确率 ≥ {ACCURACY_THRESHOLD:.0%}",
        en=f"Held-out accuracy ≥ {ACCURACY_THRESHOLD:.0%}",
        points=25,
        basis="verified",
        basis_note="predict's classes for the job's transformed held-out digits, scored outside against labels "
        "that never enter the sandbox",
    ),
    Check(
        "zero-grad",
        zh="每一步都先清零梯度",
        en="Gradients are cleared at every step",
        points=20,
        basis="verified",
        basis_note="the final state_dict against the standard loop replayed outside from the same spec; hooks "
        "only name the step that accumulated",
    ),
    Check(
        "eval-no-grad",
        zh="验证和预测时用 eval() 且不记录梯度",
        en="Validation and prediction run in eval() without gradients",
        points=20,
        visible=False,
        basis="observed",
        basis_note="eval mode is verified (replayed weights and BatchNorm statistics, predict's classes against "
        "the driver's eval-mode predictions, statistics unchanged by predict); no gradients and one validation "
        "per epoch are seen only by hooks in the student's process",
    ),
    Check(
        "train-mode",
        zh="每个 epoch 都切回 train() 再训练",
        en="Every epoch trains in train() mode",
        points=10,
        visible=False,
        basis="verified",
        basis_note="the replayed state_dict, BatchNorm's running statistics and count of training batches "
        "included; hooks only name the epoch",
    ),
    Check(
        "grad-clipping",
        zh="按 max_grad_norm 裁剪梯度范数",
        en="Gradient norms are clipped to max_grad_norm",
        points=15,
        visible=False,
        basis="verified",
        basis_note="the replayed state_dict; hooks only show the norm at each step",
    ),
    Check(
        "grad-norm-reported",
        zh="用 report 上报梯度范数",
        en="Gradient norms are reported with report()",
        points=10,
        visible=False,
        basis="verified",
        basis_note="every reported value against the replay's norms of that epoch (before or after clipping); "
        "the epoch a report arrived in is seen by hooks",
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


def indices(ctx):
    return range(RUNS.get(ctx.mode, RUNS["submit"]))


def runs(ctx):
    """([(index, hooks' observation, replay comparison)], None) for every run whose train() returned,
    or ([], (zh, en))."""
    found = []
    for index in indices(ctx):
        error = ctx.error_of(f"train.{index}")
        if error:
            return [], (f"train(...) 出错了：\n{error}", f"train(...) raised an error:\n{error}")
        value = ctx.observed(f"train.{index}")
        replay = ctx.observed(f"replay.{index}")
        if not isinstance(value, dict) or not isinstance(replay, dict):
            return [], ("没有 train(...) 的观测结果（代码可能提前退出或超时）。",
                        "No observation of train(...) (the code may have exited early or timed out).")  # fmt: skip
        found.append((index, value, replay))
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


def difference(replay):
    """(zh, en) saying how the final state_dict differs from the replay's, or None when it matches."""
    missing = replay.get("missing")
    if missing or not isinstance(missing, list):
        names = ", ".join(str(name) for name in (missing or [])[:5])
        return (
            f"train 结束后模型的 state_dict 缺少（或改变了形状的）张量：{names}。要训练传进来的模型本身，不要替换它的层。",
            f"After train the model's state_dict lacks (or has reshaped) tensors: {names}. Train the model you "
            "are given; do not replace its layers.",
        )
    for item in replay.get("batches") or []:
        if isinstance(item, dict) and item.get("got") != item.get("expected"):
            got, expected = item.get("got"), item.get("expected")
            more = isinstance(got, int) and isinstance(expected, int) and got > expected
            why_zh = (
                "多出来的是在 train 模式下做的额外前向（例如验证时没有 model.eval()）"
                if more
                else "少了说明有的训练 batch 是在 eval 模式下跑的（例如验证后没有切回 model.train()），或者没训练够 epoch"
            )
            why_en = (
                "the extra ones are forward passes in train mode beyond the training batches (validation without "
                "model.eval(), say)"
                if more
                else "fewer means some training batches ran in eval mode (no model.train() after validation, say) "
                "or too few epochs ran"
            )
            return (
                f"BatchNorm 统计到 {show(got)} 个训练 batch，标准循环是 {show(expected)} 个：{why_zh}。",
                f"BatchNorm counted {show(got)} training batches; the standard loop counts {show(expected)}: "
                f"{why_en}.",
            )
    worst = number(replay.get("worst"))
    if worst is None or not math.isfinite(worst) or worst > TOLERANCE:
        shown = "∞" if worst is None or not math.isfinite(worst) else f"{worst:.3g}"
        tensor = show(replay.get("worst_tensor"))
        return (
            f"训练后的模型状态（权重和 BatchNorm 统计量）{REPLAYED[0]}，在 {tensor} 上相差 {shown}"
            f"（相对于这个张量的大小，允许 {TOLERANCE:g}）。",
            f"The model's state after training (weights and BatchNorm statistics), {REPLAYED[1]}, differs by "
            f"{shown} in {tensor} (relative to that tensor's size; "
            f"{TOLERANCE:g} allowed).",
        )
    return None


def replay_problem(found):
    """The first run's difference from the replay, or None when every run matches."""
    for _, _, replay in found:
        problem = difference(replay)
        if problem:
            return problem
    return None


def hook_problems(ctx, found):
    """{check key: (zh, en)} for what the hooks saw (observed: it only explains a difference)."""
    seen = {}
    for _, run, _ in found:
        for key, problem in (
            ("zero-grad", zero_grad_problem(run)),
            ("train-mode", train_mode_problem(run)),
            ("grad-clipping", clipping_problem(run)),
            ("eval-no-grad", mode_problem(run, "val")),
        ):
            if problem and key not in seen:
                seen[key] = problem
    return seen


TITLES = {item.key: (item.zh, item.en) for item in CHECKS}


def unmatched(ctx, key, found, replayed):
    """The failure of a loop check whose run differs from the replay: its own hooks' explanation if
    they saw one, else where they point, with the difference itself."""
    hooks = hook_problems(ctx, found)
    if key in hooks:
        zh, en = hooks[key]
        return ctx.failed(key, zh=f"{zh}\n（{replayed[0]}）", en=f"{en}\n({replayed[1]})")
    elsewhere = [other for other in hooks if other != key]
    if elsewhere:
        zh_names = "、".join(f"「{TITLES[other][0]}」" for other in elsewhere)
        en_names = ", ".join(f"“{TITLES[other][1]}”" for other in elsewhere)
        zh = f"{replayed[0]}\n你进程里的钩子没看到这一项的问题，差别来自别处：见 {zh_names} 的说明。"
        en = f"{replayed[1]}\nThe hooks in your process saw nothing wrong here; the difference comes from elsewhere: see {en_names}."
    else:
        zh = (
            f"{replayed[0]}\n钩子没有找到原因。确认 train 用的是传进来的 model、optimizer 和两个 DataLoader，"
            f"用 nn.CrossEntropyLoss，正好训练 epochs 个 epoch，每个 batch 一次前向、一次 backward、一次 step，"
            "train 模式下不做额外的前向，最后模型保留最后一步的权重。"
        )
        en = (
            f"{replayed[1]}\nThe hooks found no cause. Make sure train uses the model, optimizer and both DataLoaders "
            "it is given, nn.CrossEntropyLoss, exactly `epochs` epochs, one forward, one backward and one step per "
            "batch, no extra forward pass in train mode, and leaves the model with the last step's weights."
        )
    return ctx.failed(key, zh=zh, en=en)


def loop_check(ctx, key, passed_zh, passed_en):
    found, problem = runs(ctx)
    if problem:
        return failed(ctx, key, problem)
    replayed = replay_problem(found)
    if replayed:
        return unmatched(ctx, key, found, replayed)
    return ctx.passed(
        key,
        zh=f"{passed_zh}（训练后的权重{REPLAYED[0]}，一致。）",
        en=f"{passed_en} (The weights after training, {REPLAYED[1]}, agree.)",
    )


# ---------------------------------------------------------------------------------------------------
# What the hooks saw (observed): explanations


def zero_grad_problem(run):
    steps = run.get("steps") or []
    if not steps:
        return (
            "train 从没调用过传进来的 optimizer.step()：要用参数里给的 optimizer，每个 batch 调用一次 step()。",
            "train never called optimizer.step() on the optimizer it was given: use that optimizer and call "
            "step() once per batch.",
        )
    count = number(run.get("accumulated_count")) or 0
    if count:
        zh_epoch, en_epoch = epoch_text((run.get("accumulated") or [None])[0])
        return (
            f"{len(steps)} 次 optimizer.step() 中，有 {count:g} 次反向传播把梯度加到了上一步留下的 .grad 上"
            f"（最早在{zh_epoch}）。PyTorch 的 backward() 会累加梯度而不是覆盖，所以每个 batch 开始时都要先 "
            "optimizer.zero_grad()（放在内层循环里，而不是每个 epoch 一次）。",
            f"In {count:g} of {len(steps)} steps, backward() added onto the .grad left from an earlier step "
            f"(first in {en_epoch}). backward() accumulates into .grad rather than overwriting it, so call "
            "optimizer.zero_grad() at the start of every batch (inside the inner loop, not once per epoch).",
        )
    wiped = [
        step
        for step in steps
        if isinstance(step, list) and len(step) > 3 and number(step[1]) == 0.0 and step[3]
    ]
    if wiped:
        return (
            f"有 {len(wiped)} 次 optimizer.step() 时梯度全是零：zero_grad() 放在了 backward() 和 step() 之间，"
            "把刚算好的梯度清掉了。顺序应是 zero_grad() → 前向 → loss.backward() → step()。",
            f"At {len(wiped)} optimizer.step() calls every gradient was zero: zero_grad() sits between "
            "backward() and step() and wipes the fresh gradients. The order is zero_grad() → forward → "
            "loss.backward() → step().",
        )
    stale = [step for step in steps if isinstance(step, list) and len(step) > 3 and not step[3]]
    if stale:
        return (
            f"有 {len(stale)} 次 optimizer.step() 之前没有新的 backward()：每个 batch 正好一次前向、一次 backward、一次 step。",
            f"{len(stale)} optimizer.step() calls had no fresh backward() before them: each batch needs one "
            "forward, one backward and one step.",
        )
    return None


def train_mode_problem(run):
    forwards = (run.get("forwards") or {}).get("train") or {}
    passes = (run.get("passes") or {}).get("train", 0)
    if passes != EPOCHS:
        return (
            f"训练集被完整遍历了 {show(passes)} 次，应正好 {EPOCHS} 次：epochs 参数是几，就训练几个 epoch。",
            f"The training loader was run through {show(passes)} times; it should be exactly {EPOCHS}: train for "
            "as many epochs as the epochs argument says.",
        )
    if not forwards.get("calls"):
        return (
            "训练时模型一次前向都没有运行：用传进来的 model 和 train_loader 训练。",
            "The model never ran a forward pass during training: train the model you are given on train_loader.",
        )
    return mode_problem(run, "train")


def clipping_problem(run):
    steps = [step for step in run.get("steps") or [] if isinstance(step, list) and len(step) > 2]
    limit = MAX_GRAD_NORM * (1 + NORM_SLACK) + 1e-6
    too_large = [step for step in steps if (number(step[1]) or 0.0) > limit]
    if not too_large:
        return None
    worst = max(number(step[1]) or 0.0 for step in too_large)
    zh_epoch, en_epoch = epoch_text(too_large[0][0])
    return (
        f"{len(steps)} 次 optimizer.step() 中有 {len(too_large)} 次梯度总范数超过 max_grad_norm={MAX_GRAD_NORM}"
        f"（最大 {worst:.3f}，最早在{zh_epoch}）。在 loss.backward() 之后、optimizer.step() 之前调用 "
        "torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)，并使用传进来的 max_grad_norm，不要写死。",
        f"At {len(too_large)} of {len(steps)} optimizer.step() calls the total gradient norm exceeded "
        f"max_grad_norm={MAX_GRAD_NORM} (largest {worst:.3f}, first in {en_epoch}). Call "
        "torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm) after loss.backward() and before "
        "optimizer.step(), with the max_grad_norm you are given, not a constant.",
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
    for index in indices(ctx):
        for key in (f"train.{index}", f"predict.{index}"):
            error = ctx.error_of(key)
            if error:
                call = "predict(model, x)" if key.startswith("predict") else "train(...)"
                return ctx.failed(
                    "accuracy", zh=f"{call} 出错了：\n{error}", en=f"{call} raised an error:\n{error}"
                )
        predictions = ctx.array(f"predictions_{index}")
        if predictions is None:
            observed = show(ctx.observed(f"predict.{index}"))
            return ctx.failed(
                "accuracy",
                zh=f"predict(model, x) 没有返回数值张量（观察到 {observed}）。",
                en=f"predict(model, x) did not return a numeric tensor (observed {observed}).",
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
    found, _ = runs(ctx)
    steps = sum(len(run.get("steps") or []) for _, run, _ in found)
    return loop_check(
        ctx,
        "zero-grad",
        f"{steps} 次 optimizer.step() 的梯度都只来自当前这个 batch",
        f"At all {steps} optimizer.step() calls the gradients came from the current batch only",
    )


def check_train_mode(ctx):
    return loop_check(
        ctx,
        "train-mode",
        "每个 epoch 的训练都在 train 模式下进行（验证之后切回了 train()）",
        "Every epoch trained in train mode (back to train() after each validation)",
    )


def check_grad_clipping(ctx):
    return loop_check(
        ctx,
        "grad-clipping",
        f"每次 optimizer.step() 时梯度总范数都不超过 {MAX_GRAD_NORM}",
        f"At every optimizer.step() the total gradient norm was at most {MAX_GRAD_NORM}",
    )


ONLY_OBSERVED = (
    "（不记录梯度这一点只能由你进程里的钩子看到，无法在外面重算。）",
    " (That no gradients were recorded can only be seen by the hooks in your process; it cannot be recomputed outside.)",
)


def check_eval_no_grad(ctx):
    key = "eval-no-grad"
    found, problem = runs(ctx)
    if problem:
        return failed(ctx, key, problem)
    for _, run, _ in found:
        forwards = (run.get("forwards") or {}).get("val") or {}
        passes = (run.get("passes") or {}).get("val", 0)
        if not forwards.get("calls") or not isinstance(passes, int) or passes < EPOCHS:
            return ctx.failed(
                key,
                zh=f"验证集只被完整遍历了 {show(passes)} 次（前向 {show(forwards.get('calls', 0))} 次），应每个 epoch 一次，共 {EPOCHS} 次："
                "每个 epoch 训练完，用 val_loader 算一遍验证损失和准确率。" + ONLY_OBSERVED[0],
                en=f"The validation loader was run through {show(passes)} times ({show(forwards.get('calls', 0))} forward passes); "
                f"it should be once per epoch, {EPOCHS} times: after each epoch's training, compute the validation "
                "loss and accuracy over val_loader." + ONLY_OBSERVED[1],
            )
        problem = mode_problem(run, "val")
        if problem:
            return ctx.failed(key, zh=problem[0] + ONLY_OBSERVED[0], en=problem[1] + ONLY_OBSERVED[1])
    replayed = replay_problem(found)
    if replayed:
        return unmatched(ctx, key, found, replayed)
    for index, _, _ in found:
        error = ctx.error_of(f"predict.{index}")
        if error:
            return ctx.failed(key, zh=f"predict 出错了：\n{error}", en=f"predict raised an error:\n{error}")
        seen = ctx.observed(f"predict_check.{index}")
        if not isinstance(seen, dict):
            return ctx.failed(
                key, zh="没有 predict(model, x) 的观测结果。", en="No observation of predict(model, x)."
            )
        wrong = predict_problem(seen)
        if wrong:
            zh, en = wrong
            return ctx.failed(
                key,
                zh=zh + "（检查在调用 predict 之前把模型切回了 train 模式：predict 要自己切到 eval。）",
                en=en
                + " (The check puts the model back in train mode before calling predict: predict must switch to eval itself.)",
            )
    return ctx.passed(
        key,
        zh="每个 epoch 的验证和最后的预测都在 eval 模式下运行：训练后的权重和 BatchNorm 统计量与重放一致，predict 的类别与"
        "训练好的模型在 eval 模式下的预测一致，也没有改动统计量。钩子也没有看到验证或预测时记录梯度。"
        + ONLY_OBSERVED[0],
        en="Every epoch's validation and the final prediction ran in eval mode: the weights and BatchNorm statistics "
        "after training agree with the replay, and predict's classes agree with the trained model's eval-mode "
        "predictions without changing its statistics. The hooks saw no gradients recorded while validating or "
        "predicting." + ONLY_OBSERVED[1],
    )


def predict_problem(seen):
    """(zh, en) when predict ran in train mode (verified: statistics changed, other classes than the
    trained model's in eval mode) or recorded gradients (observed), else None."""
    changed = seen.get("statistics_changed")
    if changed is None or not isinstance(changed, list):
        return (
            "训练后的模型无法在外面重建（state_dict 不再是试炼给的那个模型），所以 predict 的结果无法核对。",
            "The trained model could not be rebuilt outside (its state_dict is no longer the trial's model), so "
            "predict's answer cannot be checked.",
        )
    if changed:
        return (
            f"predict 改动了 BatchNorm 的统计量（{', '.join(str(name) for name in changed)}）：它在 train 模式下跑了前向，"
            "BatchNorm 用当前这批数据的统计量、还改写了 running 统计量。先调用 model.eval()。",
            f"predict changed BatchNorm's statistics ({', '.join(str(name) for name in changed)}): its forward pass "
            "ran in train mode, where BatchNorm uses the batch's statistics and overwrites its running ones. Call "
            "model.eval() first.",
        )
    agreement = number(seen.get("agreement"))
    if agreement is None or agreement < PREDICT_AGREEMENT:
        shown = "?" if agreement is None else f"{agreement:.1%}"
        return (
            f"predict 返回的类别只有 {shown} 与训练好的模型在 eval 模式下（不记录梯度）的 argmax 一致，要求 ≥ "
            f"{PREDICT_AGREEMENT:.0%}：在 eval 模式下对整个 x 做一次前向，返回每行得分最高的类别。",
            f"Only {shown} of predict's classes agree with the trained model's argmax in eval mode (no gradients); "
            f"needed ≥ {PREDICT_AGREEMENT:.0%}: run one forward pass over x in eval mode and return each row's "
            "highest-scoring class.",
        )
    run = {"forwards": {"predict": seen.get("forwards") or {}}, "first_wrong_mode": {}}
    if isinstance(seen.get("first_wrong_mode"), dict):
        run["first_wrong_mode"]["predict"] = seen["first_wrong_mode"]
    problem = mode_problem(run, "predict")
    if problem:
        return problem[0] + ONLY_OBSERVED[0], problem[1] + ONLY_OBSERVED[1]
    return None


def check_grad_norm_reported(ctx):
    key = "grad-norm-reported"
    found, problem = runs(ctx)
    if problem:
        return failed(ctx, key, problem)
    total = 0
    for _, run, replay in found:
        reports = [item for item in run.get("reports") or [] if isinstance(item, dict)]
        if not reports:
            return ctx.failed(
                key,
                zh="没有收到任何带 grad_norm 的 report(...)。在训练循环里调用 report(step=step, grad_norm=...)，"
                "值用 clip_grad_norm_ 的返回值（裁剪前的总范数）。",
                en="No report(...) carrying grad_norm arrived. Call report(step=step, grad_norm=...) in the training "
                "loop with the value clip_grad_norm_ returns (the total norm before clipping).",
            )
        epochs = {item.get("epoch") for item in reports}
        missing = [epoch + 1 for epoch in range(EPOCHS) if epoch not in epochs]
        if missing:
            return ctx.failed(
                key,
                zh=f"第 {', '.join(map(str, missing))} 个 epoch 没有上报 grad_norm：每个 epoch 都要报（每一步或每隔几步）。",
                en=f"No grad_norm was reported in epoch {', '.join(map(str, missing))}: report it in every epoch "
                "(every step, or every few steps).",
            )
        replayed = difference(replay)
        norms = {}
        for step in replay.get("steps") or []:
            if isinstance(step, list) and len(step) == 3:
                norms.setdefault(step[0], []).extend(number(value) for value in step[1:])
        for item in reports:
            value = number(item.get("value"))
            if (
                value is not None
                and math.isfinite(value)
                and relative_match(value, norms.get(item.get("epoch"), []))
            ):
                continue
            own = [number(item.get("after_backward")), number(item.get("now"))]
            if replayed and value is not None and relative_match(value, own):
                zh, en = replayed
                return ctx.failed(
                    key,
                    zh=f"上报的 grad_norm 与你自己那一步的梯度范数一致，但训练与标准循环不一致，所以无法在外面核对：{zh}",
                    en=f"The reported grad_norm matches your own step's gradient norm, but the training differs from "
                    f"the standard loop, so it cannot be checked outside: {en}",
                )
            zh_epoch, en_epoch = epoch_text(item.get("epoch"))
            return ctx.failed(
                key,
                zh=f"{zh_epoch}上报的 grad_norm={show(item.get('value'))} 不是那个 epoch 里任何一步的梯度总范数（裁剪前或裁剪后，"
                "在外面按同样的起点重放算出）。上报当前这一步的梯度总范数，最方便的是 clip_grad_norm_ 的返回值（.item()）。",
                en=f"The grad_norm={show(item.get('value'))} reported in {en_epoch} is no step's total gradient norm in "
                "that epoch (before or after clipping, as the replay from the same start computed it outside). Report the "
                "current step's total gradient norm; the value clip_grad_norm_ returns (.item()) is the easiest.",
            )
        total += len(reports)
    return ctx.passed(
        key,
        zh=f"收到 {total} 次 grad_norm 上报，每个 epoch 都有，每个数值都等于重放中那个 epoch 某一步的梯度范数。",
        en=f"{total} grad_norm reports arrived, in every epoch, each equal to a step's gradient norm in that epoch of the replay.",
    )
