"""Check for trial 3.5, batch-size-study. Runs outside the sandbox and scores the probe's observations.

The settings come from the probe (read as literals), the size of the training split from the bundle's
public/digits.npz, and the held-out labels from hidden/. What the optimizers really did (steps, learning
rates, weight fingerprints, step times) was recorded by hooks in the probe while the student's code ran.
"""

import math
from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, show
from exercises.kit.heldout import job_labels

HERE = Path(__file__).resolve().parent
PROBE = HERE / "probe.py"
STUDY = literal_from(PROBE, "STUDY")
OTHER_STUDY = literal_from(PROBE, "OTHER_STUDY")
VAL_SIZE = literal_from(PROBE, "VAL_SIZE")
with np.load(HERE / "public" / "digits.npz", allow_pickle=False) as _archive:
    TRAIN_SIZE = int(_archive["train_x"].shape[0]) - VAL_SIZE
RELATIVE = 1e-6  # learning rates must match to this relative tolerance
HELD_OUT_LIMIT = 1.0  # a trained digits model is far below this; chance is ln(10) ≈ 2.3

CHECKS = [
    Check(
        "results-structure",
        zh="每个批大小一条结果：batch_size、lr、epoch_times、val_losses、model",
        en="One result per batch size: batch_size, lr, epoch_times, val_losses, model",
        points=15,
        basis="verified",
        basis_note="run_study()'s entries as returned",
    ),
    Check(
        "batch-size-used",
        zh="每个批大小真的用了这个批大小，并从新的模型开始",
        en="Each batch size is really used, starting from a fresh model",
        points=15,
        basis="observed",
        basis_note="optimizer steps recorded by step hooks in the student's process",
    ),
    Check(
        "lr-scaled",
        zh="学习率按线性或平方根规则随批大小缩放，并真的用于优化器",
        en="The learning rate scales with batch size (linear or square-root rule) and is the one used",
        points=20,
        basis="observed",
        basis_note="learning rates recorded by step hooks in the student's process",
    ),
    Check(
        "epoch-times",
        zh="每轮时间是实测的，且合理",
        en="Epoch times are measured and plausible",
        points=15,
        basis="observed",
        basis_note="step times recorded in the student's process; the study's wall time is measured by the driver",
    ),
    Check(
        "val-loss",
        zh="验证损失与重新测量的一致",
        en="Validation losses agree with a re-measurement",
        points=15,
        basis="verified",
        basis_note="the driver computes the loss from the logits the returned models give for its validation rows",
    ),
    Check(
        "held-out-loss",
        zh=f"每个模型在留出数据上的损失 < {HELD_OUT_LIMIT}，且与验证损失相符",
        en=f"Every model's held-out loss is below {HELD_OUT_LIMIT} and consistent with its validation loss",
        points=10,
        visible=False,
        basis="verified",
        basis_note="the driver computes the loss from the logits for the job's held-out digits",
    ),
    Check(
        "other-settings",
        zh="换一组批大小和基准学习率也正确",
        en="Other batch sizes and base learning rate work too",
        points=10,
        visible=False,
        basis="observed",
        basis_note="optimizer settings and weight fingerprints recorded in the student's process",
    ),
]


def check(ctx):
    yield ctx.evaluate("results-structure", check_structure)
    yield ctx.evaluate("batch-size-used", check_batch_sizes)
    yield ctx.evaluate("lr-scaled", check_lr)
    yield ctx.evaluate("epoch-times", check_times)
    yield ctx.evaluate("val-loss", check_val_loss)
    yield ctx.evaluate("held-out-loss", check_held_out)
    yield ctx.evaluate("other-settings", check_other)


# ---------------------------------------------------------------------------------------------------
# Reading one study


def call_text(settings):
    sizes = tuple(settings["batch_sizes"])
    return (
        f"run_study(data, batch_sizes={sizes}, base_lr={settings['base_lr']}, "
        f"base_batch_size={settings['base_batch_size']}, epochs={settings['epochs']})"
    )


def finite_list(values, length):
    return (
        isinstance(values, list)
        and len(values) == length
        and all(isinstance(v, int | float) and math.isfinite(v) for v in values)
    )


def structure(ctx, key, settings):
    """(observed study, rows in the order returned) or (None, (zh, en))."""
    call = call_text(settings)
    if error := ctx.error_of(key):
        return None, (f"{call} 出错：\n{error}", f"{call} raised:\n{error}")
    study = ctx.observed(key)
    if not isinstance(study, dict):
        return None, (f"没有 {call} 的结果（可能超时了）。", f"No result for {call} (it may have timed out).")
    rows = study.get("results")
    sizes = settings["batch_sizes"]
    if not isinstance(rows, list):
        return None, (
            f"{call} 返回的是 {study.get('type')}，应返回列表，每个批大小一个 dict。",
            f"{call} returned a {study.get('type')}; it should return a list with one dict per batch size.",
        )
    if len(rows) != len(sizes):
        return None, (
            f"{call} 返回了 {len(rows)} 条结果，应为 {len(sizes)} 条（每个批大小一条）。",
            f"{call} returned {len(rows)} results; expected {len(sizes)}, one per batch size.",
        )
    epochs = settings["epochs"]
    for index, row in enumerate(rows):
        if not row.get("dict"):
            return None, (
                f"第 {index + 1} 条结果是 {row.get('type')}，应是 dict。",
                f"Result {index + 1} is a {row.get('type')}, not a dict.",
            )
        missing = [
            name
            for name in ("batch_size", "lr", "epoch_times", "val_losses", "model")
            if name not in row.get("keys", [])
        ]
        if missing:
            return None, (
                f"第 {index + 1} 条结果缺少键 {missing}。",
                f"Result {index + 1} lacks the keys {missing}.",
            )
        if row.get("batch_size") is None or row.get("lr") is None or not math.isfinite(row["lr"]):
            return None, (
                f"第 {index + 1} 条结果的 batch_size 或 lr 不是数字。",
                f"batch_size or lr of result {index + 1} is not a number.",
            )
        for name in ("epoch_times", "val_losses"):
            if not finite_list(row.get(name), epochs):
                return None, (
                    f"批大小 {row['batch_size']} 的 {name} 是 {show(row.get(name))}，应是 {epochs} 个有限的数（每轮一个）。",
                    f"{name} for batch size {row['batch_size']} is {show(row.get(name))}; expected {epochs} finite "
                    "numbers, one per epoch.",
                )
        if not row.get("model"):
            return None, (
                f"批大小 {row['batch_size']} 的 model 不是 nn.Module：把训练好的模型放进结果里。",
                f"model for batch size {row['batch_size']} is not an nn.Module: put the trained model in the result.",
            )
    if sorted(row["batch_size"] for row in rows) != sorted(sizes):
        return None, (
            f"结果中的批大小是 {[row['batch_size'] for row in rows]}，应是 {sizes}。",
            f"The results cover batch sizes {[row['batch_size'] for row in rows]}; expected {sizes}.",
        )
    return (study, rows), None


def runs_for(study, rows):
    """The optimizer run matched to each row (in order of first use), or (None, problem)."""
    runs = [run for run in study.get("runs") or [] if isinstance(run, dict) and run.get("steps")]
    if not runs:
        return None, (
            "没有观察到任何 optimizer.step()：请用 torch.optim 里的优化器训练（例如 SGD 或 Adam）。",
            "No optimizer.step() was observed: train with an optimizer from torch.optim (SGD or Adam, say).",
        )
    if len(runs) < len(rows):
        return None, (
            f"{len(rows)} 个批大小只用了 {len(runs)} 个优化器：每个批大小都要新建模型和优化器，比较才公平。",
            f"{len(rows)} batch sizes were trained with only {len(runs)} optimizer(s): create a fresh model and "
            "optimizer for every batch size, or the comparison is not fair.",
        )
    return runs[: len(rows)], None


def expected_rates(settings, batch_size):
    ratio = batch_size / settings["base_batch_size"]
    return {"linear": settings["base_lr"] * ratio, "sqrt": settings["base_lr"] * math.sqrt(ratio)}


def close(a, b):
    return abs(a - b) <= RELATIVE * max(abs(a), abs(b), 1e-12)


def steps_per_epoch(batch_size):
    return {math.ceil(TRAIN_SIZE / batch_size), TRAIN_SIZE // batch_size}


def batch_problem(study, rows, settings):
    runs, problem = runs_for(study, rows)
    if problem:
        return problem
    epochs = settings["epochs"]
    for index, (row, run) in enumerate(zip(rows, runs, strict=True)):
        size = row["batch_size"]
        steps = run["steps"]
        allowed = steps_per_epoch(size)
        if steps % epochs or steps // epochs not in allowed:
            per_epoch = steps / epochs
            guess = round(TRAIN_SIZE / per_epoch) if per_epoch else 0
            return (
                f"批大小 {size}：{epochs} 轮共做了 {steps} 次 optimizer.step()，即每轮 {per_epoch:g} 次；"
                f"{TRAIN_SIZE} 个训练样本按批大小 {size} 应是每轮 {min(allowed)}–{max(allowed)} 次。"
                f"这相当于批大小约 {guess}：把 batch_size 传给 DataLoader（或切片），不要写死。",
                f"Batch size {size}: {steps} optimizer steps in {epochs} epochs, {per_epoch:g} per epoch; "
                f"{TRAIN_SIZE} training samples in batches of {size} make {min(allowed)}–{max(allowed)} per "
                f"epoch. That is a batch size of about {guess}: pass batch_size on to the DataLoader (or the "
                "slicing), do not hard-code it.",
            )
        for earlier in run.get("shares_params_with") or []:
            previous = runs[earlier] if earlier < len(runs) else None
            if (
                previous
                and previous.get("last_fingerprint") is not None
                and close(float(run["first_fingerprint"]), float(previous["last_fingerprint"]))
            ):
                return (
                    f"批大小 {size} 接着训练了批大小 {rows[earlier]['batch_size']} 训练好的模型。"
                    "每个批大小都要从新初始化的模型开始（最好用同一个随机种子），否则后面的批大小占了便宜。",
                    f"Batch size {size} went on training the model that batch size {rows[earlier]['batch_size']} "
                    "had already trained. Every batch size must start from a freshly initialised model (ideally "
                    "with the same seed), or the later ones get a head start.",
                )
        del index
    return None


def lr_problem(study, rows, settings):
    runs, problem = runs_for(study, rows)
    if problem:
        return problem
    base = f"base_lr={settings['base_lr']}, base_batch_size={settings['base_batch_size']}"
    rules = {"linear", "sqrt"}
    for row in rows:
        expected = expected_rates(settings, row["batch_size"])
        rules &= {rule for rule, value in expected.items() if close(row["lr"], value)}
    if not rules:
        table = "; ".join(
            f"{row['batch_size']}: {row['lr']:.4g} (linear {expected_rates(settings, row['batch_size'])['linear']:.4g}, "
            f"sqrt {expected_rates(settings, row['batch_size'])['sqrt']:.4g})"
            for row in rows
        )
        same = len({round(row["lr"], 12) for row in rows}) == 1
        zh = f"报告的学习率不符合线性或平方根规则（{base}）：{table}。"
        en = f"The reported learning rates follow neither the linear nor the square-root rule ({base}): {table}."
        if same:
            zh += "所有批大小都用了同一个学习率：批次越大，每轮的更新步数越少，需要更大的步长来弥补。"
            en += (
                " Every batch size used the same rate: a larger batch makes fewer updates per epoch, so it needs a "
                "larger step to keep up."
            )
        zh += "线性规则：lr = base_lr × b / base_batch_size；平方根规则：lr = base_lr × √(b / base_batch_size)。"
        en += (
            " Linear: lr = base_lr × b / base_batch_size; square root: lr = base_lr × √(b / base_batch_size)."
        )
        return zh, en
    for row, run in zip(rows, runs, strict=True):
        if not (close(float(run["lr_first"]), row["lr"]) or close(float(run["lr_max"]), row["lr"])):
            return (
                f"批大小 {row['batch_size']} 报告的学习率是 {row['lr']:.4g}，优化器实际用的却是 {float(run['lr_first']):.4g}。"
                "把算出来的 lr 传给优化器：torch.optim.SGD(model.parameters(), lr=lr)。",
                f"Batch size {row['batch_size']} reports learning rate {row['lr']:.4g}, but its optimizer used "
                f"{float(run['lr_first']):.4g}. Pass the computed lr to the optimizer: "
                "torch.optim.SGD(model.parameters(), lr=lr).",
            )
    return None


# ---------------------------------------------------------------------------------------------------
# The checks


def check_structure(ctx):
    _, problem = structure(ctx, "study", STUDY)
    if problem:
        return ctx.failed("results-structure", *problem)
    return ctx.passed(
        "results-structure",
        zh=f"批大小 {STUDY['batch_sizes']} 各有一条完整的结果。",
        en=f"Batch sizes {STUDY['batch_sizes']} each have a complete result.",
    )


def check_batch_sizes(ctx):
    found, problem = structure(ctx, "study", STUDY)
    if problem:
        return ctx.failed("batch-size-used", *problem)
    if problem := batch_problem(*found, STUDY):
        return ctx.failed("batch-size-used", *problem)
    return ctx.passed(
        "batch-size-used",
        zh="每个批大小的每轮更新步数都对，且都从新模型开始训练。",
        en="Each batch size made the right number of steps per epoch, starting from a fresh model.",
    )


def check_lr(ctx):
    found, problem = structure(ctx, "study", STUDY)
    if problem:
        return ctx.failed("lr-scaled", *problem)
    if problem := lr_problem(*found, STUDY):
        return ctx.failed("lr-scaled", *problem)
    rates = ", ".join(f"{row['batch_size']}: {row['lr']:.4g}" for row in found[1])
    return ctx.passed(
        "lr-scaled",
        zh=f"学习率按规则缩放，优化器用的正是它：{rates}。",
        en=f"The learning rate scales by the rule and is what the optimizers used: {rates}.",
    )


def check_times(ctx):
    found, problem = structure(ctx, "study", STUDY)
    if problem:
        return ctx.failed("epoch-times", *problem)
    study, rows = found
    runs, problem = runs_for(study, rows)
    if problem:
        return ctx.failed("epoch-times", *problem)
    if any(value <= 0 for row in rows for value in row["epoch_times"]):
        return ctx.failed(
            "epoch-times",
            zh="有的每轮时间不是正数：用 time.perf_counter() 在每轮开始和结束时各取一次，相减。",
            en="Some epoch times are not positive: take time.perf_counter() at the start and the end of each "
            "epoch and subtract.",
        )
    epochs = STUDY["epochs"]
    wall = float(study.get("wall") or 0)
    for number, (row, run) in enumerate(zip(rows, runs, strict=True)):
        times = run.get("times") or []
        if len(times) % epochs or not times:
            break  # the batch-size check explains the odd step count
        per_epoch = len(times) // epochs
        before_run = runs[number - 1]["times"][-1] if number else 0.0
        after_run = runs[number + 1]["times"][0] if number + 1 < len(runs) else wall
        for epoch in range(epochs):
            first, last = times[epoch * per_epoch], times[(epoch + 1) * per_epoch - 1]
            previous_end = times[epoch * per_epoch - 1] if epoch else before_run
            next_start = times[(epoch + 1) * per_epoch] if epoch + 1 < epochs else after_run
            reported = row["epoch_times"][epoch]
            where_zh = f"批大小 {row['batch_size']} 第 {epoch + 1} 轮报告用时 {reported:.4f} 秒"
            where_en = f"Batch size {row['batch_size']}, epoch {epoch + 1}: {reported:.4f} s reported"
            if reported < 0.9 * (last - first) - 5e-4:
                return ctx.failed(
                    "epoch-times",
                    zh=(
                        f"{where_zh}，可这一轮第一次到最后一次 optimizer.step() 之间就过了 {last - first:.4f} 秒。"
                        "计时要包住整轮训练循环：循环前开始，循环后结束。"
                    ),
                    en=(
                        f"{where_en}, yet {last - first:.4f} s passed between its first and last optimizer step. "
                        "Time the whole epoch: start before the loop, stop after it."
                    ),
                )
            if reported > 1.05 * (next_start - previous_end) + 2e-3:
                return ctx.failed(
                    "epoch-times",
                    zh=(
                        f"{where_zh}，但上一轮的最后一步到下一轮的第一步之间只有 {next_start - previous_end:.4f} 秒："
                        "这个时间里混进了别的轮次。多半是记录了累计时间：每轮开始时重新取起点，"
                        "记录 time.perf_counter() - start。"
                    ),
                    en=(
                        f"{where_en}, but only {next_start - previous_end:.4f} s passed between the last step of the "
                        "epoch before and the first step of the epoch after: other epochs are counted in. That "
                        "usually means cumulative times: take a new start at the beginning of every epoch and record "
                        "time.perf_counter() - start."
                    ),
                )
    total = sum(sum(row["epoch_times"]) for row in rows)
    if total > 1.01 * wall + 0.01:
        return ctx.failed(
            "epoch-times",
            zh=(
                f"所有每轮时间加起来是 {total:.3f} 秒，而整个 run_study 只运行了 {wall:.3f} 秒。"
                "多半是记录了累计时间：每轮开始时重新取起点，记录 time.perf_counter() - start。"
            ),
            en=(
                f"The epoch times add up to {total:.3f} s, but run_study ran for only {wall:.3f} s in all. "
                "That usually means cumulative times: take a new start at the beginning of every epoch and "
                "record time.perf_counter() - start."
            ),
        )
    means = ", ".join(
        f"{row['batch_size']}: {1000 * sum(row['epoch_times']) / epochs:.1f} ms" for row in rows
    )
    return ctx.passed(
        "epoch-times",
        zh=f"每轮时间与观察到的训练步骤相符（平均 {means}）。",
        en=f"Epoch times agree with the training steps observed (mean {means}).",
    )


def check_val_loss(ctx):
    found, problem = structure(ctx, "study", STUDY)
    if problem:
        return ctx.failed("val-loss", *problem)
    for row in found[1]:
        if "remeasure_error" in row:
            return ctx.failed(
                "val-loss",
                zh=f"用批大小 {row['batch_size']} 的模型预测验证集时出错：{row['remeasure_error']}",
                en=f"The model of batch size {row['batch_size']} raised on the validation set: {row['remeasure_error']}",
            )
        measured = row.get("remeasured_val_loss")
        if not isinstance(measured, int | float):
            return ctx.failed("val-loss")
        reported = row["val_losses"][-1]
        if abs(reported - measured) > 0.02 + 0.05 * abs(measured):
            return ctx.failed(
                "val-loss",
                zh=(
                    f"批大小 {row['batch_size']} 最后一轮报告的验证损失是 {reported:.4f}，"
                    f"用返回的模型在验证集上重新测得 {measured:.4f}。验证损失应是模型在 eval() 模式、"
                    "torch.no_grad() 下对整个验证集（val_x, val_y）的平均交叉熵，而不是最后一个训练批次的损失。"
                ),
                en=(
                    f"Batch size {row['batch_size']} reports a final validation loss of {reported:.4f}; its "
                    f"returned model re-measured on the validation set gives {measured:.4f}. The validation loss is "
                    "the mean cross-entropy over the whole validation set (val_x, val_y), in eval() mode under "
                    "torch.no_grad(), not the loss of the last training batch."
                ),
            )
    return ctx.passed(
        "val-loss",
        zh="每个批大小报告的最终验证损失都与重新测量的一致。",
        en="Every batch size's final validation loss agrees with the re-measurement.",
    )


def cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels].mean())


def check_held_out(ctx):
    found, problem = structure(ctx, "study", STUDY)
    if problem:
        return ctx.failed("held-out-loss", *problem)
    labels = job_labels(ctx.bundle, ctx.job_seed)
    losses = []
    for index, row in enumerate(found[1]):
        logits = ctx.array(f"study_logits_{index}")
        if logits is None or logits.shape != (len(labels), 10) or not np.all(np.isfinite(logits)):
            return ctx.failed(
                "held-out-loss",
                zh=f"批大小 {row['batch_size']} 的模型没能对留出数据给出有限的 (N, 10) logits。",
                en=f"The model of batch size {row['batch_size']} did not give finite (N, 10) logits on the held-out data.",
            )
        loss = cross_entropy(logits.astype(np.float64), labels)
        losses.append(f"{row['batch_size']}: {loss:.3f}")
        reported = row["val_losses"][-1]
        if not loss < HELD_OUT_LIMIT:
            return ctx.failed(
                "held-out-loss",
                zh=(
                    f"批大小 {row['batch_size']} 的模型在留出数据上的损失是 {loss:.3f}，需要低于 {HELD_OUT_LIMIT}"
                    "（瞎猜是 2.30）：模型几乎没学到东西。检查学习率与训练循环。"
                ),
                en=(
                    f"The model of batch size {row['batch_size']} has a held-out loss of {loss:.3f}; it must be below "
                    f"{HELD_OUT_LIMIT} (guessing gives 2.30): it has barely learned. Check the learning rate and "
                    "the training loop."
                ),
            )
        if loss > 2 * reported + 0.2 or reported > 2 * loss + 0.2:
            return ctx.failed(
                "held-out-loss",
                zh=(
                    f"批大小 {row['batch_size']}：报告的验证损失 {reported:.3f} 与留出数据上的损失 {loss:.3f} 相差太多，"
                    "两者来自同一分布，本应接近。"
                ),
                en=(
                    f"Batch size {row['batch_size']}: the reported validation loss {reported:.3f} and the held-out "
                    f"loss {loss:.3f} are far apart, though both come from the same distribution."
                ),
            )
    return ctx.passed(
        "held-out-loss",
        zh=f"留出数据上的损失：{'；'.join(losses)}。",
        en=f"Held-out losses: {'; '.join(losses)}.",
    )


def check_other(ctx):
    found, problem = structure(ctx, "study.other", OTHER_STUDY)
    if not problem:
        problem = batch_problem(*found, OTHER_STUDY) or lr_problem(*found, OTHER_STUDY)
    if problem:
        zh, en = problem
        settings = call_text(OTHER_STUDY)
        return ctx.failed("other-settings", zh=f"{settings}：{zh}", en=f"{settings}: {en}")
    return ctx.passed(
        "other-settings",
        zh=f"{call_text(OTHER_STUDY)} 同样正确：批大小与学习率都按参数来。",
        en=f"{call_text(OTHER_STUDY)} works too: batch sizes and learning rates follow the arguments.",
    )
