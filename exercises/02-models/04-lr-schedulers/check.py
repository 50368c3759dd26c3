"""Check for trial 2.4, lr-schedulers. Runs outside the sandbox and scores the driver's observations.

Every check is *verified*: the driver replays each run from the same spec (the statement's schedulers
for make_scheduler, the reference training loop for fit) and saves what the replay gives beside what
came back from the student's process: the parameter after every optimizer step (each step moves it by
the learning rate it used) and the model's weights after fit. They must agree. The learning rates and
step events recorded in the student's process are *observed*: they explain a failure (every expected
rate is recomputed here from the driver's literals with the rules of StepLR and ReduceLROnPlateau,
default threshold/cooldown/min_lr), and can never make one pass (docs/architecture.md).
"""

import math
from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, number, show

HERE = Path(__file__).resolve().parent


def literal(name):
    return literal_from(HERE / "probe.py", name)


CONFIG_LR = literal("CONFIG_LR")
CONFIG_STEP_EPOCHS = literal("CONFIG_STEP_EPOCHS")
CONFIG_METRICS = literal("CONFIG_METRICS")
FIT_LR = literal("FIT_LR")
FIT_STEP = literal("FIT_STEP")
FIT_STEP_EPOCHS = literal("FIT_STEP_EPOCHS")
FIT_PLATEAU = literal("FIT_PLATEAU")
FIT_VAL_LOSSES = literal("FIT_VAL_LOSSES")
STATEMENT_STEP = literal("STATEMENT_STEP")
STATEMENT_PLATEAU = literal("STATEMENT_PLATEAU")
LR_TOLERANCE = 1e-9
POSITION_TOLERANCE = 1e-9  # float64 parameter, learning rates of 0.2 and less
WEIGHT_TOLERANCE = 1e-5  # float32 weights of the same training, replayed on the same data
METRIC_TOLERANCE = 1e-5

CHECKS = [
    Check(
        "step-lr",
        zh="StepLR(step_size=5, gamma=0.1) 的学习率轨迹",
        en="The learning rates of StepLR(step_size=5, gamma=0.1)",
        points=20,
        basis="verified",
        basis_note="the parameter after every step, which the optimizer moved by that epoch's learning rate, against the driver's replay of StepLR(step_size=5, gamma=0.1)",
    ),
    Check(
        "plateau-config",
        zh="ReduceLROnPlateau(mode='min', factor=0.5, patience=2) 的学习率轨迹",
        en="The learning rates of ReduceLROnPlateau(mode='min', factor=0.5, patience=2)",
        points=20,
        basis="verified",
        basis_note="the parameter after every step against the driver's replay of ReduceLROnPlateau(mode='min', factor=0.5, patience=2) on the same metrics",
    ),
    Check(
        "one-step-per-epoch",
        zh="每个 epoch 训练完调用一次 scheduler.step()",
        en="scheduler.step() once per epoch, after the epoch's training",
        points=30,
        basis="verified",
        basis_note="the weights fit() leaves with the driver's StepLR against the driver's replay of the reference training; the step events explain a failure",
    ),
    Check(
        "plateau-val-metric",
        zh="ReduceLROnPlateau 收到的是验证损失",
        en="ReduceLROnPlateau is stepped with the validation loss",
        points=30,
        visible=False,
        basis="verified",
        basis_note="the weights fit() leaves with the driver's ReduceLROnPlateau against the driver's replay, stepped with the validation loss; the scheduler's arguments explain a failure",
    ),
]


def check(ctx):
    yield ctx.evaluate("step-lr", check_step_lr)
    yield ctx.evaluate("plateau-config", check_plateau_config)
    yield ctx.evaluate("one-step-per-epoch", check_one_step_per_epoch)
    yield ctx.evaluate("plateau-val-metric", check_plateau_val_metric)


# ---------------------------------------------------------------------------------------------------
# The rules of the two schedulers: the learning rate after each of len(...) scheduler steps


def step_lr_rates(lr, steps, step_size, gamma):
    rates = []
    for epoch in range(1, steps + 1):
        if epoch % step_size == 0:
            lr *= gamma
        rates.append(lr)
    return rates


def plateau_rates(lr, metrics, mode, factor, patience, threshold=1e-4, eps=1e-8):
    """ReduceLROnPlateau with threshold_mode='rel', cooldown=0, min_lr=0."""
    best = math.inf if mode == "min" else -math.inf
    bad = 0
    rates = []
    for metric in metrics:
        better = metric < best * (1 - threshold) if mode == "min" else metric > best * (1 + threshold)
        if better:
            best, bad = metric, 0
        else:
            bad += 1
        if bad > patience:
            if lr - lr * factor > eps:
                lr *= factor
            bad = 0
        rates.append(lr)
    return rates


def same_rates(got, want):
    return (
        isinstance(got, list)
        and len(got) == len(want)
        and all(
            number(g) is not None and abs(number(g) - w) <= LR_TOLERANCE * max(abs(w), 1e-12)
            for g, w in zip(got, want, strict=True)
        )
    )


def rates_text(rates):
    return "[" + ", ".join(f"{r:.6g}" if isinstance(r, int | float) else show(r) for r in rates) + "]"


def first_difference(got, want):
    for index, (g, w) in enumerate(zip(got, want, strict=False)):
        if number(g) is None or abs(number(g) - w) > LR_TOLERANCE * max(abs(w), 1e-12):
            return index
    return min(len(got), len(want))


# ---------------------------------------------------------------------------------------------------
# make_scheduler, driven by the probe


def config_outcome(ctx, key, kind, want, statement, zh_ok, en_ok, hint_zh, hint_en):
    error = ctx.error_of(f"config.{kind}")
    call = f'make_scheduler(optimizer, "{kind}")'
    if error:
        return ctx.failed(
            key,
            zh=f"{call} 或它返回的调度器出错了：\n{error}",
            en=f"{call} or the scheduler it returned raised:\n{error}",
        )
    value = ctx.observed(f"config.{kind}")
    if not isinstance(value, dict):
        return ctx.failed(key)
    got = value.get("lrs")
    if same_rates(got, want):
        if problem := positions_problem(ctx, kind, call):
            return ctx.failed(key, zh=problem[0] + hint_zh, en=problem[1] + " " + hint_en)
        return ctx.passed(key, zh=zh_ok, en=en_ok)
    index = first_difference(got or [], want)
    return ctx.failed(
        key,
        zh=f"{call} 返回的是 {value.get('type')}；学习率从 {CONFIG_LR} 开始，每个 epoch 调用一次 step() 后依次为 "
        f"{rates_text(got or [])}，应为 {rates_text(want)}（第 {index + 1} 个 epoch 起不同）。{hint_zh}",
        en=f"{call} returned a {value.get('type')}; starting from lr={CONFIG_LR}, after one step() per epoch the "
        f"learning rates were {rates_text(got or [])}; expected {rates_text(want)} (they differ from epoch "
        f"{index + 1}). {hint_en}",
    )


def used_rates(positions):
    """The learning rate each optimizer step used: the parameter moved by it (the gradient is 1)."""
    flat = np.asarray(positions, dtype=np.float64)[:, 0]
    return list(np.concatenate([[0.0], flat[:-1]]) - flat)


def positions_problem(ctx, kind, call):
    """(zh, en) when the parameter did not move as the driver's replay with the statement's scheduler
    moved it, else None."""
    want = ctx.array(f"expected_config_{kind}_positions")
    if want is None:
        raise RuntimeError(f"the driver saved no replay for {kind}")
    got = ctx.array(f"config_{kind}_positions")
    if got is None or got.shape != want.shape or got.dtype.kind != "f":
        return (
            f"{call}：没有拿到每一步之后的参数值。",
            f"{call}: the parameter after each step did not come back.",
        )
    if np.allclose(got, want, rtol=POSITION_TOLERANCE, atol=POSITION_TOLERANCE):
        return None
    return (
        f"{call}：优化器每一步实际用的学习率是 {rates_text(used_rates(got))}，而在你的进程之外用题目要求的调度器"
        f"重放得到 {rates_text(used_rates(want))}。",
        f"{call}: the learning rates the optimizer actually used, step by step, were {rates_text(used_rates(got))}; "
        f"replayed outside your process with the scheduler the statement asks for, they are "
        f"{rates_text(used_rates(want))}.",
    )


def weights_problem(ctx, which, name):
    """(zh, en) when fit() left other weights than the driver's replay of the reference training."""
    want = ctx.array(f"expected_fit_{which}_weights")
    if want is None:
        raise RuntimeError(f"the driver saved no replayed weights for {which}")
    got = ctx.array(f"fit_{which}_weights")
    if got is None or got.shape != want.shape or got.dtype.kind != "f":
        return (
            f"{name}：fit() 之后拿不到模型的权重（Linear(64, 10) 的 weight 和 bias）。训练传进来的那个模型。",
            f"{name}: the model's weights (the Linear(64, 10)'s weight and bias) did not come back after fit(). "
            "Train the model you are given.",
        )
    difference = float(np.max(np.abs(got - want)))
    if difference <= WEIGHT_TOLERANCE:
        return None
    return (
        f"{name}：fit() 之后的权重和在你的进程之外按同样的数据、同样的初始模型重放的训练（每个 epoch 训练完调用一次 "
        f"scheduler.step()）相差 {difference:.3g}：学习率在训练中的变化和应有的不一样。",
        f"{name}: after fit() the weights differ by {difference:.3g} from a replay of the training outside your "
        "process (the same data and initial model, scheduler.step() once after each epoch's training): the "
        "learning rate did not change during training as it should.",
    )


def check_step_lr(ctx):
    want = step_lr_rates(CONFIG_LR, CONFIG_STEP_EPOCHS, **STATEMENT_STEP)
    return config_outcome(
        ctx,
        "step-lr",
        "step",
        want,
        STATEMENT_STEP,
        "StepLR 每 5 个 epoch 把学习率乘以 0.1，轨迹完全正确。",
        "StepLR multiplied the learning rate by 0.1 every 5 epochs, exactly as expected.",
        'kind 为 "step" 时返回 StepLR(optimizer, step_size=5, gamma=0.1)。',
        'For kind "step" return StepLR(optimizer, step_size=5, gamma=0.1).',
    )


def check_plateau_config(ctx):
    want = plateau_rates(CONFIG_LR, CONFIG_METRICS, **STATEMENT_PLATEAU)
    return config_outcome(
        ctx,
        "plateau-config",
        "plateau",
        want,
        STATEMENT_PLATEAU,
        f"给定验证指标 {CONFIG_METRICS} 时，ReduceLROnPlateau 在指标停滞超过 2 个 epoch 后把学习率减半，轨迹完全正确。",
        f"Fed the metrics {CONFIG_METRICS}, ReduceLROnPlateau halved the learning rate after the metric stalled "
        "for more than 2 epochs, exactly as expected.",
        f'验证指标依次为 {CONFIG_METRICS}。kind 为 "plateau" 时返回 ReduceLROnPlateau(optimizer, mode="min", factor=0.5, '
        "patience=2)：损失越小越好（mode='min'），连续 2 个 epoch 没有改善之后的那个 epoch 把学习率乘以 0.5。",
        f'The metrics were {CONFIG_METRICS}. For kind "plateau" return ReduceLROnPlateau(optimizer, mode="min", '
        "factor=0.5, patience=2): lower is better (mode='min'), and the learning rate is multiplied by 0.5 when "
        "the metric has not improved for more than 2 epochs.",
    )


# ---------------------------------------------------------------------------------------------------
# fit, with the probe's schedulers


def fit_run(ctx, key):
    """(observation, None) or (None, (zh, en))."""
    error = ctx.error_of(key)
    if error:
        return None, (f"fit(...) 出错了：\n{error}", f"fit(...) raised an error:\n{error}")
    value = ctx.observed(key)
    if not isinstance(value, dict):
        return None, ("没有 fit(...) 的观测结果（代码可能提前退出或超时）。",
                      "No observation of fit(...) (the code may have exited early or timed out).")  # fmt: skip
    return value, None


def scheduler_steps(run):
    return [event for event in run.get("events") or [] if event and event[0] == "scheduler"]


def stepping_problem(run, epochs, name):
    """(zh, en) when scheduler.step() was not called exactly once after each epoch's training, else None."""
    passes = (run.get("passes") or {}).get("train", 0)
    if passes != epochs:
        return (
            f"{name}：训练集被完整遍历了 {passes} 次，应为 epochs={epochs} 次。",
            f"{name}: the training loader was run through {passes} times; expected epochs={epochs}.",
        )
    events = run.get("events") or []
    optimizer_epochs = [event[1] for event in events if event[0] == "optimizer"]
    if not optimizer_epochs:
        return (
            f"{name}：传进来的 optimizer 一次 step() 都没有调用。用它训练，每个 batch 一次 optimizer.step()。",
            f"{name}: the optimizer passed in never stepped. Train with it: optimizer.step() once per batch.",
        )
    steps = scheduler_steps(run)
    if not steps:
        return (
            f"{name}：传进来的 scheduler 从没调用过 step()。每个 epoch 末尾调用一次 scheduler.step()。",
            f"{name}: the scheduler passed in never had step() called. Call scheduler.step() once at the end "
            "of every epoch.",
        )
    per_epoch = {}
    for event in steps:
        per_epoch[event[1]] = per_epoch.get(event[1], 0) + 1
    if len(steps) > epochs and max(per_epoch.values()) > 1:
        return (
            f"{name}：{epochs} 个 epoch 里 scheduler.step() 被调用了 {len(steps)} 次（一个 epoch 里最多 "
            f"{max(per_epoch.values())} 次）。它应该每个 epoch 调用一次，放在 batch 循环外面——放在里面的话，"
            "学习率会按 batch 数而不是 epoch 数衰减。",
            f"{name}: scheduler.step() was called {len(steps)} times in {epochs} epochs (up to "
            f"{max(per_epoch.values())} in one epoch). Call it once per epoch, outside the batch loop; inside it, "
            "the learning rate decays per batch instead of per epoch.",
        )
    if -1 in per_epoch:
        return (
            f"{name}：第一个 epoch 还没训练，scheduler.step() 就被调用了：调度器走在了训练前面，每个 epoch 用的都是下一个 "
            "epoch 的学习率。把 scheduler.step() 放在每个 epoch 的训练（和验证）之后。",
            f"{name}: scheduler.step() was called before the first epoch trained, so the schedule runs one epoch "
            "ahead. Call scheduler.step() after each epoch's training (and validation).",
        )
    if sorted(per_epoch) != list(range(epochs)) or len(steps) != epochs:
        return (
            f"{name}：scheduler.step() 分布在这些 epoch 里：{sorted(per_epoch)}；应在每个 epoch（0 到 {epochs - 1}）结束时各调用一次。",
            f"{name}: scheduler.step() was called in epochs {sorted(per_epoch)}; it should be called once at the end "
            f"of each epoch (0 to {epochs - 1}).",
        )
    last_optimizer_index = {}
    for index, event in enumerate(events):
        if event[0] == "optimizer":
            last_optimizer_index[event[1]] = index
    for index, event in enumerate(events):
        if event[0] == "scheduler" and index < last_optimizer_index.get(event[1], -1):
            return (
                f"{name}：第 {event[1] + 1} 个 epoch 里，scheduler.step() 在 optimizer.step() 之前就调用了。"
                "先训练完这个 epoch 的所有 batch，再调用 scheduler.step()。",
                f"{name}: in epoch {event[1] + 1}, scheduler.step() came before optimizer.step() calls of that epoch. "
                "Train all of the epoch's batches first, then call scheduler.step().",
            )
    return None


def epoch_lr_problem(run, want_starts, name):
    got = run.get("epoch_lrs") or []
    if same_rates(got, want_starts):
        return None
    index = first_difference(got, want_starts)
    return (
        f"{name}：每个 epoch 开始时的学习率是 {rates_text(got)}，应为 {rates_text(want_starts)}（第 {index + 1} 个 epoch 起不同）。",
        f"{name}: the learning rates at the start of each epoch were {rates_text(got)}; expected "
        f"{rates_text(want_starts)} (they differ from epoch {index + 1}).",
    )


def check_one_step_per_epoch(ctx):
    step_name = f"StepLR(step_size={FIT_STEP['step_size']}, gamma={FIT_STEP['gamma']})"
    plateau_name = "ReduceLROnPlateau"
    checked = []
    for key, name, epochs in (
        ("fit.step", step_name, FIT_STEP_EPOCHS),
        ("fit.plateau", plateau_name, len(FIT_VAL_LOSSES)),
    ):
        run, problem = fit_run(ctx, key)
        if problem is None:
            problem = stepping_problem(run, epochs, name)
        if problem is None and key == "fit.step":
            want = [FIT_LR, *step_lr_rates(FIT_LR, FIT_STEP_EPOCHS - 1, **FIT_STEP)]
            problem = epoch_lr_problem(run, want, name)
            if problem and any(isinstance(event[2], int | float) for event in scheduler_steps(run)):
                zh, en = problem
                problem = (
                    zh
                    + "你给 StepLR 的 step() 传了参数：它会被当作 epoch 编号（已弃用的用法），打乱调度。只有 ReduceLROnPlateau "
                    "需要传验证指标；用 isinstance(scheduler, ReduceLROnPlateau) 区分。",
                    en
                    + " You passed an argument to StepLR's step(): it is taken as an epoch number (a deprecated use) "
                    "and derails the schedule. Only ReduceLROnPlateau takes the validation metric; tell them apart "
                    "with isinstance(scheduler, ReduceLROnPlateau).",
                )
        if problem is None and key == "fit.step":
            problem = weights_problem(ctx, "step", name)
        if problem:
            return ctx.failed("one-step-per-epoch", zh=problem[0], en=problem[1])
        checked.append(name)
    return ctx.passed(
        "one-step-per-epoch",
        zh=f"{step_name} 和 {plateau_name} 都在每个 epoch 训练完之后正好 step() 一次，StepLR 的学习率轨迹正确，"
        "训练后的权重与在你的进程之外重放的训练一致。",
        en=f"Both {step_name} and {plateau_name} stepped exactly once per epoch, after the epoch's training; "
        "StepLR's learning rates were right, and the trained weights match a replay of the training outside "
        "your process.",
    )


def check_plateau_val_metric(ctx):
    run, problem = fit_run(ctx, "fit.plateau")
    if problem:
        return ctx.failed("plateau-val-metric", zh=problem[0], en=problem[1])
    epochs = len(FIT_VAL_LOSSES)
    steps = scheduler_steps(run)
    metrics = [number(event[2]) if len(event) > 2 else None for event in steps]
    if not steps:
        return ctx.failed(
            "plateau-val-metric",
            zh="ReduceLROnPlateau 的 step() 从没被调用过。",
            en="ReduceLROnPlateau's step() was never called.",
        )
    if any(metric is None for metric in metrics):
        return ctx.failed(
            "plateau-val-metric",
            zh="调用 ReduceLROnPlateau.step() 时没有传入验证指标（观察到的参数："
            f"{show([event[2] if len(event) > 2 else None for event in steps])}）。写成 scheduler.step(val_loss)。",
            en="ReduceLROnPlateau.step() was called without the validation metric (arguments observed: "
            f"{show([event[2] if len(event) > 2 else None for event in steps])}). Write scheduler.step(val_loss).",
        )
    if not run.get("scripted_calls"):
        return ctx.failed(
            "plateau-val-metric",
            zh="验证时没有用传进来的 loss_fn 计算损失。验证损失也要用 loss_fn 算（评测程序会通过它给出验证损失）。",
            en="Validation never computed a loss with the loss_fn passed in. Compute the validation loss with "
            "loss_fn too (the grader feeds the validation losses through it).",
        )
    expected = FIT_VAL_LOSSES[: len(metrics)]
    ratios = [metric / want for metric, want in zip(metrics, expected, strict=False)]
    proportional = len(metrics) == epochs and all(
        ratio > 0 and abs(ratio - ratios[0]) <= METRIC_TOLERANCE * ratios[0] for ratio in ratios
    )
    if not proportional:
        train_means = run.get("train_loss_means") or []
        looks_like_training = len(train_means) >= len(metrics) and all(
            abs(metric - mean) <= 1e-3 * max(1.0, abs(mean))
            for metric, mean in zip(metrics, train_means, strict=False)
        )
        hint_zh = "这些数看起来是训练损失。" if looks_like_training else ""
        hint_en = " These look like training losses." if looks_like_training else ""
        return ctx.failed(
            "plateau-val-metric",
            zh=f"传给 ReduceLROnPlateau.step() 的数是 {rates_text(metrics)}，但这几个 epoch 的验证损失是 {rates_text(FIT_VAL_LOSSES)}。"
            f"{hint_zh}ReduceLROnPlateau 要看验证集上的表现：每个 epoch 在 val_loader 上用 loss_fn 算出平均损失，再 "
            "scheduler.step(val_loss)。",
            en=f"The numbers passed to ReduceLROnPlateau.step() were {rates_text(metrics)}, but the validation losses of "
            f"those epochs were {rates_text(FIT_VAL_LOSSES)}.{hint_en} ReduceLROnPlateau must watch the validation "
            "set: each epoch, average loss_fn over val_loader and call scheduler.step(val_loss).",
        )
    want = [FIT_LR, *plateau_rates(FIT_LR, FIT_VAL_LOSSES[:-1], **FIT_PLATEAU)]
    problem = epoch_lr_problem(run, want, "ReduceLROnPlateau") or weights_problem(
        ctx, "plateau", "ReduceLROnPlateau"
    )
    if problem:
        return ctx.failed("plateau-val-metric", zh=problem[0], en=problem[1])
    return ctx.passed(
        "plateau-val-metric",
        zh=f"每个 epoch 都把验证损失传给了 ReduceLROnPlateau，学习率按验证损失的停滞而下降：{rates_text(want)}。",
        en=f"Every epoch passed the validation loss to ReduceLROnPlateau, and the learning rate fell when it stalled: "
        f"{rates_text(want)}.",
    )
