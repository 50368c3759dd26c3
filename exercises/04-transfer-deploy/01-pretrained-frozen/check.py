"""Check for trial 4.1, pretrained-frozen. Runs outside the sandbox and scores the driver's observations.

The expected weights are the cached checkpoint itself, loaded here with `torch.load(weights_only=True)`
(`exercises.kit.weights`), never anything the sandbox reported; the probe's record of the checkpoint's
sha256 only makes sure that both sides look at the same file.

Verified (computed by the driver from the state_dicts the student's process returned, on its own
ResNet-18): pretrained-weights, head-learns, backbone-unchanged, batchnorm-statistics-kept. The state
itself is the student's process's answer, so head-learns also holds the returned head to the driver's
replay of its training (`train.replay`: the same initial head trained on the driver's frozen backbone's
features in eval mode, with the optimizer and settings recorded at every step): a state forged to hold
the pretrained backbone beside a head trained some other way fails it. Observed: only-head-trainable
(the requires_grad flags the student's process reports).
"""

import functools
from pathlib import Path

from exercises.kit.check import Check, literal_from, number, show
from exercises.kit.weights import differing_tensors, find_resnet18, load_state, sha256_of

HERE = Path(__file__).resolve().parent
STEPS = literal_from(HERE / "probe.py", "STEPS")
HEAD = ("fc.weight", "fc.bias")
BUFFER_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")
REPLAY_OPTIMIZERS = literal_from(HERE / "probe.py", "REPLAY_OPTIMIZERS")
REPLAY_TOLERANCE = 0.01  # of the replay's own change: float noise, an Adam sign flip or two, no more
LOSS_RATIO = 0.9  # the head must bring the probe's loss down by at least 10 %

CHECKS = [
    Check(
        "pretrained-weights",
        zh="加载的是缓存中的预训练权重",
        en="The model holds the cached pretrained weights",
        points=30,
        basis="verified",
        basis_note="fingerprints of the returned state_dict against the checkpoint the checker loads",
    ),
    Check(
        "only-head-trainable",
        zh="只有分类头需要梯度",
        en="Only the head requires gradients",
        points=25,
        basis="observed",
        basis_note="requires_grad flags, as the student's process reports them",
    ),
    Check(
        "head-learns",
        zh="训练分类头使损失下降",
        en="Training the head lowers the loss",
        points=20,
        basis="verified",
        basis_note="the loss measured by the driver on its own ResNet-18 with the returned state_dict, and the returned head against the driver's replay of its training on the frozen backbone's features with the same optimizer and settings",
    ),
    Check(
        "backbone-unchanged",
        zh="训练后主干参数一个没变",
        en="Training leaves every backbone parameter unchanged",
        points=15,
        visible=False,
        basis="verified",
        basis_note="fingerprints of the returned state_dict",
    ),
    Check(
        "batchnorm-statistics-kept",
        zh="训练后 BatchNorm 的运行统计量没变",
        en="Training leaves the BatchNorm running statistics unchanged",
        points=10,
        visible=False,
        basis="verified",
        basis_note="fingerprints of the returned BatchNorm buffers",
    ),
]


def check(ctx):
    yield ctx.evaluate("pretrained-weights", check_pretrained)
    yield ctx.evaluate("only-head-trainable", check_trainable)
    yield ctx.evaluate("head-learns", check_head_learns)
    yield ctx.evaluate("backbone-unchanged", lambda ctx: check_backbone(ctx, buffers=False))
    yield ctx.evaluate("batchnorm-statistics-kept", lambda ctx: check_backbone(ctx, buffers=True))


@functools.cache
def _checkpoint():
    path = find_resnet18()
    return sha256_of(path), load_state(path)


def checkpoint_state(ctx):
    """The cached checkpoint's state_dict, after making sure the sandbox saw the same file."""
    seen = ctx.observed("checkpoint")
    if not isinstance(seen, dict) or not isinstance(seen.get("sha256"), str):
        raise RuntimeError(
            "the sandbox saw no ResNet-18 checkpoint: the grader has no weights cache (TORCH_HOME)"
        )
    digest, state = _checkpoint()
    if seen["sha256"] != digest:
        raise RuntimeError(f"the sandbox saw checkpoint {seen['sha256'][:12]}, the check found {digest[:12]}")
    return state


def is_buffer(name):
    return name.endswith(BUFFER_SUFFIXES)


def first_names(names, limit=4):
    shown = ", ".join(names[:limit])
    return shown + (f" … (+{len(names) - limit})" if len(names) > limit else "")


# ---------------------------------------------------------------------------------------------------


def check_pretrained(ctx):
    key = "pretrained-weights"
    state = checkpoint_state(ctx)
    error = ctx.error_of("load")
    if error:
        zh, en = f"调用 load_pretrained() 时出错：\n{error}", f"load_pretrained() raised an error:\n{error}"
        if "urlopen" in error or "URLError" in error or "download" in error.lower():
            zh += "\n评测机没有网络，只缓存了 ResNet-18 的权重：用 torchvision.models.resnet18(weights='DEFAULT')。"
            en += (
                "\nThe grader has no internet and caches only ResNet-18's weights: use "
                "torchvision.models.resnet18(weights='DEFAULT')."
            )
        return ctx.failed(key, zh=zh, en=en)
    seen = ctx.observed("load")
    if not isinstance(seen, dict):
        return ctx.failed(key)
    if not seen.get("module"):
        return ctx.failed(
            key,
            zh=f"load_pretrained() 返回的是 {seen.get('type')}，应返回模型本身（一个 nn.Module）。",
            en=f"load_pretrained() returned a {seen.get('type')}; it should return the model (an nn.Module).",
        )
    names, shapes = seen.get("names") or [], seen.get("shapes") or []
    missing = sorted(set(state) - set(names))
    unexpected = sorted(set(names) - set(state))
    if missing or unexpected:
        return ctx.failed(
            key,
            zh=f"返回的模型不是 torchvision 的 ResNet-18：缺少 {first_names(missing) or '无'}，"
            f"多出 {first_names(unexpected) or '无'}。请原样返回 resnet18(weights='DEFAULT')。",
            en=f"The model is not torchvision's ResNet-18: missing {first_names(missing) or 'nothing'}, "
            f"unexpected {first_names(unexpected) or 'nothing'}. Return resnet18(weights='DEFAULT') as loaded.",
        )
    differing = differing_tensors(state, names, shapes, ctx.array("load_fingerprint"))
    if not differing:
        return ctx.passed(
            key,
            zh=f"全部 {len(names)} 个张量都与缓存的检查点一致：权重确实加载了。",
            en=f"All {len(names)} tensors equal the cached checkpoint: the weights were truly loaded.",
        )
    if len(differing) > len(names) // 2:
        return ctx.failed(
            key,
            zh=f"{len(names)} 个张量中有 {len(differing)} 个与预训练检查点不同，看起来是随机初始化："
            "resnet18() 不传 weights 只得到结构。请写 resnet18(weights='DEFAULT')（或 ResNet18_Weights.DEFAULT）。",
            en=f"{len(differing)} of {len(names)} tensors differ from the pretrained checkpoint; this looks like a "
            "random initialisation: resnet18() without weights gives only the architecture. Use "
            "resnet18(weights='DEFAULT') (or ResNet18_Weights.DEFAULT).",
        )
    return ctx.failed(
        key,
        zh=f"有 {len(differing)} 个张量与检查点不同：{first_names(differing)}。load_pretrained() "
        "应原样返回加载好的模型，包括它的 1000 类分类头；换头、冻结是后面的步骤。",
        en=f"{len(differing)} tensors differ from the checkpoint: {first_names(differing)}. load_pretrained() "
        "should return the model exactly as loaded, its 1000-class head included; changing or freezing "
        "comes later.",
    )


def check_trainable(ctx):
    key = "only-head-trainable"
    error = ctx.error_of("freeze")
    if error:
        return ctx.failed(
            key, zh=f"调用 freeze_backbone() 时出错：\n{error}", en=f"freeze_backbone() raised:\n{error}"
        )
    seen = ctx.observed("freeze")
    if not isinstance(seen, dict):
        return ctx.failed(key)
    if "parameters" not in seen:
        return ctx.failed(
            key,
            zh=f"freeze_backbone() 返回的是 {seen.get('returned')}，应返回模型。",
            en=f"freeze_backbone() returned a {seen.get('returned')}; it should return the model.",
        )
    flags = {name: flag for name, flag in seen["parameters"]}
    trainable = sorted(name for name, flag in flags.items() if flag)
    backbone = [name for name in trainable if name not in HEAD]
    head_frozen = [name for name in HEAD if not flags.get(name, False)]
    problems_zh, problems_en = [], []
    if backbone:
        problems_zh.append(
            f"主干还有 {len(backbone)} 个参数需要梯度（如 {first_names(backbone, 3)}）："
            "先对 model.parameters() 全部设 requires_grad = False。"
        )
        problems_en.append(
            f"{len(backbone)} backbone parameters still require gradients (e.g. {first_names(backbone, 3)}): set "
            "requires_grad = False on every parameter of model.parameters() first."
        )
    if head_frozen:
        problems_zh.append(
            f"分类头的参数（{', '.join(head_frozen)}）不需要梯度，它就学不了：冻结全部之后，再把 model.fc 的参数设回 requires_grad = True。"
        )
        problems_en.append(
            f"The head's parameters ({', '.join(head_frozen)}) do not require gradients, so it cannot learn: after "
            "freezing everything, set requires_grad = True again on model.fc's parameters."
        )
    if problems_en:
        return ctx.failed(key, zh="\n".join(problems_zh), en="\n".join(problems_en))
    return ctx.passed(
        key,
        zh=f"{len(flags)} 个参数张量中只有 fc.weight 和 fc.bias 需要梯度。",
        en=f"Of {len(flags)} parameter tensors, only fc.weight and fc.bias require gradients.",
    )


def training_observation(ctx, key, *, brief=False):
    """(observation, None) or (None, failed outcome) for the probe's train_head() record."""
    error = ctx.error_of("train")
    if error and brief:
        return None, ctx.failed(
            key,
            zh="train_head() 出错了（见“训练分类头使损失下降”），这一项无法判断。",
            en="train_head() raised (see “Training the head lowers the loss”), so this could not be judged.",
        )
    if error:
        zh, en = f"调用 train_head() 时出错：\n{error}", f"train_head() raised an error:\n{error}"
        if "does not require grad" in error:
            zh += "\n没有任何参数需要梯度：分类头也被冻结了吗？"
            en += "\nNo tensor requires a gradient: was the head frozen too?"
        return None, ctx.failed(key, zh=zh, en=en)
    seen = ctx.observed("train")
    if not isinstance(seen, dict):
        if ctx.error_of("freeze") or "parameters" not in (ctx.observed("freeze") or {}):
            return None, ctx.failed(
                key,
                zh="freeze_backbone() 没有给出可用的模型，train_head() 没有运行。",
                en="freeze_backbone() gave no usable model, so train_head() did not run.",
            )
        return None, ctx.failed(key)
    return seen, None


def check_head_learns(ctx):
    key = "head-learns"
    seen, failure = training_observation(ctx, key)
    if failure:
        return failure
    before, after = number(seen.get("loss_before")), number(seen.get("loss_after"))
    change = number(seen.get("head_change")) or 0.0
    returned = seen.get("returned")
    if not (
        isinstance(returned, list) and len(returned) == STEPS and all(number(v) is not None for v in returned)
    ):
        return ctx.failed(
            key,
            zh=f"train_head(..., steps={STEPS}) 应返回 {STEPS} 个 float 组成的列表（每步一个损失），"
            f"实际返回 {show(returned)}。记录损失时用 loss.item()。",
            en=f"train_head(..., steps={STEPS}) should return a list of {STEPS} floats (one loss per step); it "
            f"returned {show(returned)}. Record each loss with loss.item().",
        )
    if before is None or after is None:
        return ctx.failed(key)
    if change == 0.0:
        return ctx.failed(
            key,
            zh=f"训练 {STEPS} 步后分类头的权重一点没变（损失 {before:.3f} → {after:.3f}）。"
            "优化器里有 model.fc 的参数吗？每步都调用了 loss.backward() 和 optimizer.step() 吗？",
            en=f"After {STEPS} steps the head's weights did not change at all (loss {before:.3f} → {after:.3f}). "
            "Does the optimizer hold model.fc's parameters? Does every step call loss.backward() and optimizer.step()?",
        )
    if not after <= LOSS_RATIO * before:
        return ctx.failed(
            key,
            zh=f"训练 {STEPS} 步后损失从 {before:.3f} 变为 {after:.3f}，应至少下降 10%。"
            "学习率可能太小（试试 Adam lr=1e-2 或 SGD lr=0.1, momentum=0.9），或者训练方向错了。",
            en=f"After {STEPS} steps the loss went from {before:.3f} to {after:.3f}; it should fall by at least 10 %. "
            "The learning rate may be too small (try Adam with lr=1e-2, or SGD with lr=0.1 and momentum=0.9).",
        )
    if problem := replay_problem(ctx.observed("train.replay")):
        return ctx.failed(key, zh=problem[0], en=problem[1])
    return ctx.passed(
        key,
        zh=f"训练 {STEPS} 步后，同一批图像上的损失从 {before:.3f} 降到 {after:.3f}；在你的进程之外，用同样的优化器和设置"
        "在冻结主干的特征上重放训练，得到的正是你的分类头。",
        en=f"After {STEPS} steps the loss on the same images fell from {before:.3f} to {after:.3f}, and replaying "
        "the training outside your process — the same optimizer and settings, on the frozen backbone's features — "
        "gives exactly your head.",
    )


def replay_problem(replay):
    """(zh, en) when the returned head is not what training it on the frozen features gives, else None."""
    if not isinstance(replay, dict):
        return (
            "没能在你的进程之外重放分类头的训练。",
            "The head's training could not be replayed outside your process.",
        )
    if replay.get("replayed") is not True:
        why = str(replay.get("why"))
        if why == "no-steps":
            return (
                "train_head 运行期间没有看到任何 torch.optim 优化器的 step()：用一个 torch.optim 优化器训练分类头，"
                "评测程序会用同样的优化器和设置重放训练来核对结果。",
                "No torch.optim optimizer stepped while train_head ran: train the head with a torch.optim optimizer; "
                "the grader replays the training with the same optimizer and settings to check the result.",
            )
        if why.startswith("optimizer:"):
            name = why.split(":", 1)[1]
            return (
                f"评测程序能重放的优化器是 {', '.join(REPLAY_OPTIMIZERS)}；{name} 不在其中。",
                f"The grader can replay {', '.join(REPLAY_OPTIMIZERS)}; {name} is not one of them.",
            )
        return (
            f"没能在你的进程之外重放分类头的训练（{show(why)}）。",
            f"The head's training could not be replayed outside your process ({show(why)}).",
        )
    difference = number(replay.get("difference"))
    if difference is not None and difference <= REPLAY_TOLERANCE:
        return None
    shown = "?" if difference is None else f"{100 * difference:.1f} %"
    return (
        f"你返回的分类头不是在冻结主干的特征上训练出来的：评测程序在你的进程之外，用你的优化器和设置，把同一个初始分类头"
        f"在冻结主干（eval 模式）的特征上训练同样的 {replay.get('steps')} 步，两者相差训练变化量的 {shown}。"
        "训练时主干要冻结并处于 eval 模式（包括 BatchNorm），每步用整批数据和交叉熵。",
        f"The head you returned is not one trained on the frozen backbone's features: outside your process the "
        f"grader trained the same initial head for the same {replay.get('steps')} steps on the features of the "
        f"frozen backbone in eval mode, with your optimizer and settings, and the two differ by {shown} of the "
        "training's change. Keep the backbone frozen and in eval mode (BatchNorm included) while training, with "
        "the whole batch and cross-entropy at every step.",
    )


def check_backbone(ctx, *, buffers):
    key = "batchnorm-statistics-kept" if buffers else "backbone-unchanged"
    state = checkpoint_state(ctx)
    seen, failure = training_observation(ctx, key, brief=True)
    if failure:
        return failure
    names, shapes = seen.get("backbone_names") or [], seen.get("backbone_shapes") or []
    expected = sorted(name for name in state if not name.startswith("fc."))
    if names != expected:
        return ctx.failed(
            key,
            zh="train_head() 之后模型的主干结构变了（参数名和原来不同）：只训练分类头，不要替换其他层。",
            en="After train_head() the backbone's structure changed (its state_dict keys differ): train the "
            "head only; do not replace other layers.",
        )
    differing = [
        name
        for name in differing_tensors(state, names, shapes, ctx.array("backbone_after"))
        if is_buffer(name) == buffers
    ]
    counted = sum(1 for name in names if is_buffer(name) == buffers)
    if buffers and differing:
        return ctx.failed(
            key,
            zh=f"训练后 {len(differing)} 个 BatchNorm 统计量变了（如 {first_names(differing, 3)}）。"
            "参数冻结了，但在 train() 模式下，BatchNorm 每次前向都会用新数据更新 running_mean / running_var。"
            "训练分类头前调用 model.eval()（分类头是 Linear，不受影响）。",
            en=f"{len(differing)} BatchNorm statistics changed during training (e.g. {first_names(differing, 3)}). "
            "The parameters are frozen, but in train() mode every forward pass updates BatchNorm's running_mean "
            "and running_var from the new data. Call model.eval() before training the head (a Linear head "
            "behaves the same in both modes).",
        )
    if differing:
        return ctx.failed(
            key,
            zh=f"训练后 {len(differing)} 个主干参数变了（如 {first_names(differing, 3)}）：主干必须冻结，"
            "只有 model.fc 的参数可以 requires_grad=True，优化器也只该拿到它们。",
            en=f"{len(differing)} backbone parameters changed during training (e.g. {first_names(differing, 3)}): "
            "the backbone must stay frozen; only model.fc's parameters may have requires_grad=True, and only "
            "they belong in the optimizer.",
        )
    what_zh, what_en = (
        ("BatchNorm 统计量", "BatchNorm statistics") if buffers else ("主干参数", "backbone parameters")
    )
    return ctx.passed(
        key,
        zh=f"训练后全部 {counted} 个{what_zh}都与检查点一致。",
        en=f"All {counted} {what_en} still equal the checkpoint after training.",
    )
