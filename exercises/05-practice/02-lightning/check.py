"""Check for trial 5.2, lightning. Runs outside the sandbox and scores what the driver received.

The structure checks read what the trial's routine saw Lightning do in the student's process (fit
calls, hook calls, optimizer steps, logged metrics): they are *observed*, and their messages say so.
The parameters before and after fit were compared by the driver. The accuracy check is *verified*: it
scores the logits the returned module gave for the held-out digits the driver sent (staged for this
job, in an order drawn from the job's secret seed) against labels kept in hidden/, which never enter
the sandbox.
"""

from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, show
from exercises.kit.heldout import job_labels

HERE = Path(__file__).resolve().parent
SEEDS = literal_from(HERE / "probe.py", "SEEDS")
MAX_EPOCHS = literal_from(HERE / "probe.py", "MAX_EPOCHS")
HOOKS = literal_from(HERE / "probe.py", "HOOKS")
THRESHOLD = 0.90  # mean held-out accuracy over the seeds; the reference MLP reaches about 0.95

CHECKS = [
    Check(
        "lightning-module",
        zh="train() 返回一个定义了三个钩子的 LightningModule",
        en="train() returns a LightningModule that defines the three hooks",
        points=15,
        basis="observed",
        basis_note="the returned module's class and overridden hooks, seen in the student's process",
    ),
    Check(
        "trainer-fit",
        zh="由 Trainer.fit 训练，跑满 max_epochs 轮",
        en="Trained by Trainer.fit for max_epochs epochs",
        points=20,
        basis="observed",
        basis_note="Trainer.fit and training_step calls counted by hooks in the student's process",
    ),
    Check(
        "optimizer-steps",
        zh="training_step 返回损失，优化器更新了每个需要训练的参数",
        en="training_step returns the loss and the optimizer updates every trainable parameter",
        points=15,
        basis="observed",
        basis_note="optimizer steps, requires_grad flags and optimizer membership seen in the student's "
        "process; the parameters' values before and after fit are compared by the driver",
    ),
    Check(
        "validation",
        zh="validation_step 在验证集上运行并记录指标",
        en="validation_step runs on the validation loader and logs a metric",
        points=20,
        basis="observed",
        basis_note="validation_step calls, eval mode, grad mode and self.log seen in the student's process",
    ),
    Check(
        "accuracy",
        zh=f"留出集上的平均准确率 ≥ {THRESHOLD:.0%}",
        en=f"Mean held-out accuracy ≥ {THRESHOLD:.0%}",
        points=30,
        visible=False,
        basis="verified",
        basis_note="logits for the job's held-out inputs, sent by the driver, scored against hidden labels",
    ),
]

OBSERVED = (
    "（这一项是在运行你代码的进程里观察到的。）",
    " (This is observed in the process that runs your code.)",
)


def observed_note(outcome):
    """The outcome with a note that the check rests on what the student's process showed."""
    outcome.message["zh"] = outcome.message.get("zh", "") + OBSERVED[0]
    outcome.message["en"] = outcome.message.get("en", "") + OBSERVED[1]
    return outcome


HOOK_HELP = {
    "training_step": ("training_step(self, batch, batch_idx)：计算并返回损失", "training_step(self, batch, batch_idx): compute and return the loss"),
    "validation_step": ("validation_step(self, batch, batch_idx)：计算并 self.log 验证指标", "validation_step(self, batch, batch_idx): compute and self.log a validation metric"),
    "configure_optimizers": ("configure_optimizers(self)：返回优化器", "configure_optimizers(self): return the optimizer"),
}  # fmt: skip


def check(ctx):
    yield observed_note(ctx.evaluate("lightning-module", check_module))
    yield observed_note(ctx.evaluate("trainer-fit", check_fit))
    yield observed_note(ctx.evaluate("optimizer-steps", check_steps))
    yield observed_note(ctx.evaluate("validation", check_validation))
    yield ctx.evaluate("accuracy", check_accuracy)


KNOWN_ERRORS = [
    (
        "must return a Tensor, a dict, or None",
        "training_step 必须返回损失张量（或含 'loss' 的 dict），不能返回 loss.item() 这样的数字：Lightning 要对它反向传播。",
        "training_step must return the loss tensor (or a dict holding 'loss'), not a number such as "
        "loss.item(): Lightning backpropagates it.",
    ),
    (
        "backward through the graph a second time",
        "training_step 里不要自己调用 loss.backward() 或 optimizer.step()：自动优化模式下 Lightning 会对返回的损失做这些。",
        "Do not call loss.backward() or optimizer.step() in training_step: with automatic optimization "
        "Lightning does that with the loss you return.",
    ),
    (
        "gpu",
        "这台评测机可能没有 GPU：用 accelerator='auto'（默认值），不要写死 'gpu' 或 'cuda'。",
        "This grader may have no GPU: use accelerator='auto' (the default), not a hard-coded 'gpu' or 'cuda'.",
    ),
]


def explained(error):
    """The traceback with a teaching note for the Lightning errors a refactor typically runs into."""
    last = error.strip().splitlines()[-1] if error.strip() else ""
    for fragment, zh, en in KNOWN_ERRORS:
        if fragment.lower() in last.lower():
            return f"调用 train() 时出错：\n{error}\n{zh}", f"train() raised an error:\n{error}\n{en}"
    return f"调用 train() 时出错：\n{error}", f"train() raised an error:\n{error}"


def first_run(ctx):
    """(record, None) for the first train() call, or (None, (zh, en)) saying why there is none."""
    if error := ctx.error_of("run0.train"):
        return None, explained(error)
    record = ctx.observed("run0.fit")
    if not isinstance(record, dict):
        return None, (
            "没有 train() 的观测结果（代码可能提前退出或超时了）。",
            "No observation of train() (the code may have exited early or timed out).",
        )
    return record, None


def count(record, name):
    value = record.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def check_module(ctx):
    record, problem = first_run(ctx)
    if problem:
        return ctx.failed("lightning-module", zh=problem[0], en=problem[1])
    if record.get("returned_is_lightning") is not True:
        returned = show(record.get("returned_type"))
        return ctx.failed(
            "lightning-module",
            zh=f"train() 返回的是 {returned}，应返回训练好的 LightningModule（class DigitsModule(pl.LightningModule)）实例：最后 return model。",
            en=f"train() returned {returned}; it should return the trained LightningModule instance (class "
            "DigitsModule(pl.LightningModule)): end with return model.",
        )
    overrides = record.get("returned_overrides") or {}
    missing = [hook for hook in HOOKS if overrides.get(hook) is not True]
    if missing:
        return ctx.failed(
            "lightning-module",
            zh=f"你的 LightningModule 没有定义 {', '.join(missing)}。需要：\n"
            + "\n".join(HOOK_HELP[hook][0] for hook in missing),
            en=f"Your LightningModule does not define {', '.join(missing)}. It needs:\n"
            + "\n".join(HOOK_HELP[hook][1] for hook in missing),
        )
    return ctx.passed(
        "lightning-module",
        zh=f"train() 返回了 {show(record.get('returned_type'))}，它定义了 training_step、validation_step 和 configure_optimizers。",
        en=f"train() returned a {show(record.get('returned_type'))} defining training_step, validation_step "
        "and configure_optimizers.",
    )


def check_fit(ctx):
    record, problem = first_run(ctx)
    if problem:
        return ctx.failed("trainer-fit", zh=problem[0], en=problem[1])
    if count(record, "fit_calls") == 0:
        return ctx.failed(
            "trainer-fit",
            zh="Trainer.fit 从没被调用：训练循环仍是手写的。让 Lightning 来跑循环：trainer = pl.Trainer(max_epochs=max_epochs, ...)，"
            "trainer.fit(model, train_loader, val_loader)。",
            en="Trainer.fit was never called: the loop is still hand-written. Let Lightning run it: trainer = "
            "pl.Trainer(max_epochs=max_epochs, ...); trainer.fit(model, train_loader, val_loader).",
        )
    if record.get("fit_model_is_lightning") is not True:
        return ctx.failed(
            "trainer-fit",
            zh=f"传给 trainer.fit 的是 {show(record.get('fit_model_type'))}，不是 LightningModule。",
            en=f"trainer.fit received a {show(record.get('fit_model_type'))}, not a LightningModule.",
        )
    if record.get("returned_was_fitted") is not True:
        return ctx.failed(
            "trainer-fit",
            zh="train() 返回的模型不是交给 trainer.fit 训练的那一个。返回你训练过的那个实例。",
            en="train() returned a different model from the one trainer.fit trained. Return the instance you fitted.",
        )
    batches = count(record, "train_batches")
    steps = count(record, "training_steps")
    epochs = record.get("training_epochs") or []
    expected = MAX_EPOCHS * batches
    if steps != expected or sorted(epochs) != list(range(MAX_EPOCHS)):
        return ctx.failed(
            "trainer-fit",
            zh=f"training_step 被调用了 {steps} 次、覆盖 {len(epochs)} 轮；每轮 {batches} 个批次、max_epochs = {MAX_EPOCHS}，应为 {expected} 次。"
            "把参数传给 Trainer：pl.Trainer(max_epochs=max_epochs)，不要设 max_steps、limit_train_batches 或 fast_dev_run。",
            en=f"training_step ran {steps} times over {len(epochs)} epochs; with {batches} batches per epoch and "
            f"max_epochs = {MAX_EPOCHS} it should run {expected} times. Pass the argument on: "
            "pl.Trainer(max_epochs=max_epochs), without max_steps, limit_train_batches or fast_dev_run.",
        )
    return ctx.passed(
        "trainer-fit",
        zh=f"Trainer.fit 训练了 {MAX_EPOCHS} 轮，共调用 training_step {steps} 次。",
        en=f"Trainer.fit trained for {MAX_EPOCHS} epochs, calling training_step {steps} times.",
    )


def check_steps(ctx):
    record, problem = first_run(ctx)
    if problem:
        return ctx.failed("optimizer-steps", zh=problem[0], en=problem[1])
    if count(record, "fit_calls") == 0:
        return ctx.failed(
            "optimizer-steps",
            zh="Trainer.fit 没有运行，无法观察 Lightning 的优化步骤。",
            en="Trainer.fit did not run, so there are no Lightning optimizer steps to observe.",
        )
    steps = count(record, "training_steps")
    optimizer_steps = count(record, "optimizer_steps")
    if optimizer_steps > steps:
        return ctx.failed(
            "optimizer-steps",
            zh=f"{steps} 个训练批次里优化器更新了 {optimizer_steps} 次：training_step 里自己调用了 optimizer.step()？"
            "自动优化模式下 Lightning 会替你做 backward、step 和 zero_grad，training_step 只需返回损失。",
            en=f"The optimizer stepped {optimizer_steps} times in {steps} training batches: does training_step "
            "call optimizer.step() itself? With automatic optimization Lightning does backward, step and "
            "zero_grad for you; training_step only returns the loss.",
        )
    if optimizer_steps == 0 or record.get("parameters_changed") is not True:
        zh, en = why_no_update(record.get("training_returns") or {})
        return ctx.failed("optimizer-steps", zh=zh, en=en)
    trainable = count(record, "trainable_parameters")
    if trainable == 0:
        return ctx.failed(
            "optimizer-steps",
            zh="没有观察到需要训练的参数（requires_grad=True）。",
            en="No trainable parameters (requires_grad=True) were observed.",
        )
    not_optimized = names(record.get("not_optimized"))
    if not_optimized:
        return ctx.failed(
            "optimizer-steps",
            zh=f"这些需要训练的参数不在 Trainer 使用的任何优化器里：{', '.join(not_optimized)}。"
            "优化器只更新创建它时交给它的参数：如果先创建了优化器、之后才添加层（比如新的输出头），新层永远不会被训练。"
            "在 configure_optimizers 里用 self.parameters() 创建优化器，此时所有层都已经建好。",
            en=f"These trainable parameters are in none of the optimizers the Trainer used: {', '.join(not_optimized)}. "
            "An optimizer only updates the parameters it was given when it was built: build it before adding a "
            "layer (a new head, say) and that layer never trains. Build the optimizer in configure_optimizers "
            "from self.parameters(), when every layer exists.",
        )
    unchanged = names(record.get("unchanged_trainable"))
    if unchanged:
        return ctx.failed(
            "optimizer-steps",
            zh=f"训练后这些需要训练的参数一点没变（共 {count(record, 'unchanged_count')} 个）：{', '.join(unchanged)}。"
            "它们要么没有参与计算损失（没有梯度），要么学习率为 0；不训练的参数请设 requires_grad=False。",
            en=f"These trainable parameters did not change at all in training ({count(record, 'unchanged_count')} "
            f"of them): {', '.join(unchanged)}. Either they take no part in the loss (no gradient) or their "
            "learning rate is 0; set requires_grad=False on parameters that are not meant to train.",
        )
    return ctx.passed(
        "optimizer-steps",
        zh=f"{steps} 个训练批次里优化器更新了 {optimizer_steps} 次，{trainable} 个需要训练的参数全都在优化器里、都变了。",
        en=f"The optimizer stepped {optimizer_steps} times in {steps} training batches, and all {trainable} "
        "trainable parameters were in the optimizer and changed.",
    )


def names(value):
    """Parameter names as the probe listed them (at most 20 shown), as plain strings."""
    if not isinstance(value, list):
        return []
    return [show(item) if not isinstance(item, str) else item[:80] for item in value[:20]]


def why_no_update(returns):
    """Why the parameters never changed, judged from what training_step returned, as (zh, en)."""
    if returns.get("none"):
        return (
            "参数在训练中没有变化：training_step 没有返回值（None），自动优化模式下 Lightning 会跳过这个批次的反向传播和参数更新。最后 return loss。",
            "The parameters never changed: training_step returned None, and with automatic optimization "
            "Lightning then skips backward and the update for that batch. End it with return loss.",
        )
    if returns.get("tensor-without-grad") or returns.get("dict-without-loss"):
        return (
            "参数在训练中没有变化：training_step 返回的损失已经脱离了计算图（.detach()），或 dict 里没有 'loss'。直接返回损失张量。",
            "The parameters never changed: training_step returned a loss cut off from the graph (.detach()) "
            "or a dict without 'loss'. Return the loss tensor itself.",
        )
    return (
        "参数在训练中没有变化：检查 configure_optimizers 是否返回了管理 self.parameters() 的优化器、学习率是否大于 0。",
        "The parameters never changed: check that configure_optimizers returns an optimizer over "
        "self.parameters() with a learning rate above 0.",
    )


def check_validation(ctx):
    record, problem = first_run(ctx)
    if problem:
        return ctx.failed("validation", zh=problem[0], en=problem[1])
    if count(record, "fit_calls") == 0:
        return ctx.failed(
            "validation",
            zh="Trainer.fit 没有运行，所以也没有验证。",
            en="Trainer.fit did not run, so there was no validation either.",
        )
    overridden = (record.get("overridden") or {}).get("validation_step") is True
    steps = count(record, "validation_steps")
    batches = count(record, "validation_batches")
    if not overridden:
        return ctx.failed(
            "validation",
            zh="模块没有定义 validation_step，Lightning 不会做验证。",
            en="The module defines no validation_step, so Lightning does not validate.",
        )
    if steps < batches or steps == 0:
        return ctx.failed(
            "validation",
            zh=f"validation_step 只被调用了 {steps} 次（验证集有 {batches} 个批次）。把验证集交给 fit："
            "trainer.fit(model, train_loader, val_loader)，不要设 limit_val_batches=0。",
            en=f"validation_step ran only {steps} times (the validation loader has {batches} batches). Give "
            "fit the validation loader: trainer.fit(model, train_loader, val_loader), without limit_val_batches=0.",
        )
    if count(record, "validation_in_train_mode") or count(record, "validation_with_grad"):
        return ctx.failed(
            "validation",
            zh="验证时模型处在训练模式或开着梯度：不要在 validation_step 里调用 self.train() 或 torch.set_grad_enabled(True)，Lightning 已替你切换好。",
            en="Validation ran in training mode or with gradients on: do not call self.train() or "
            "torch.set_grad_enabled(True) in validation_step; Lightning switches both for you.",
        )
    logs = record.get("logs") or {}
    logged = sorted({key.split(":", 1)[1] for key in logs if key.startswith("validate:")})
    if not logged:
        return ctx.failed(
            "validation",
            zh="验证过程中没有用 self.log 记录任何指标。在 validation_step 里写 self.log('val_acc', acc)，Lightning 会按轮汇总。",
            en="Nothing was logged with self.log during validation. Add self.log('val_acc', acc) to "
            "validation_step; Lightning averages it over the epoch.",
        )
    return ctx.passed(
        "validation",
        zh=f"validation_step 运行了 {steps} 次（评估模式、无梯度），记录了 {', '.join(logged[:5])}。",
        en=f"validation_step ran {steps} times (eval mode, no gradients) and logged {', '.join(logged[:5])}.",
    )


def check_accuracy(ctx):
    labels = job_labels(ctx.bundle, ctx.job_seed)
    accuracies = []
    for run, seed in enumerate(SEEDS):
        if error := ctx.error_of(f"run{run}.train"):
            zh, en = explained(error)
            return ctx.failed("accuracy", zh=f"种子 {seed}：{zh}", en=f"Seed {seed}: {en}")
        if error := ctx.error_of(f"run{run}.predict"):
            return ctx.failed(
                "accuracy",
                zh=f"用训练好的模型预测留出集时出错（model(x)，x 的形状为 [N, 64]）：\n{error}",
                en=f"Predicting the held-out inputs with the trained model (model(x), x of shape [N, 64]) raised:\n{error}",
            )
        predictions = ctx.array(f"run{run}_predictions")
        if predictions is None or predictions.shape != labels.shape:
            return ctx.failed(
                "accuracy",
                zh=f"种子 {seed}：模型没有对留出集的 {len(labels)} 个样本各给出 10 个类别的得分（forward 应返回 [N, 10] 的 logits）。",
                en=f"Seed {seed}: the model did not give 10 class scores for each of the {len(labels)} held-out "
                "samples (forward should return [N, 10] logits).",
            )
        accuracies.append(float(np.mean(predictions == labels)))
    mean = float(np.mean(accuracies))
    each = ", ".join(f"{accuracy:.1%}" for accuracy in accuracies)
    if mean < THRESHOLD:
        return ctx.failed(
            "accuracy",
            zh=f"留出集上的准确率为 {each}（平均 {mean:.1%}），需要至少 {THRESHOLD:.0%}。一个 64→128→10 的 MLP、Adam(lr=1e-2) 训练 {MAX_EPOCHS} 轮就能达到。",
            en=f"Held-out accuracy was {each} (mean {mean:.1%}); at least {THRESHOLD:.0%} is needed. A 64→128→10 "
            f"MLP with Adam(lr=1e-2) gets there in {MAX_EPOCHS} epochs.",
        )
    return ctx.partial(
        "accuracy",
        1.0,
        zh=f"留出集上的准确率为 {each}（平均 {mean:.1%}）。",
        en=f"Held-out accuracy was {each} (mean {mean:.1%}).",
    )
