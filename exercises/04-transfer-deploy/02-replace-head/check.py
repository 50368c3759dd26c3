"""Check for trial 4.2, replace-head. Runs outside the sandbox and scores the probe's observations.

Expected values come from the bundle and from outside: the cached checkpoint (its old head, loaded here
with `torch.load(weights_only=True)`), the held-out digit labels in hidden/, and parameter counts of
torchvision's ResNet-18 computed here. Nothing the sandbox wrote is taken as an expected value.
"""

import functools
import math
from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, number, show
from exercises.kit.heldout import job_labels
from exercises.kit.weights import find_resnet18, load_state, sha256_of

HERE = Path(__file__).resolve().parent
NUM_CLASSES = literal_from(HERE / "probe.py", "NUM_CLASSES")
FINE_TUNE_IMAGES = literal_from(HERE / "probe.py", "FINE_TUNE_IMAGES")
EPOCHS = literal_from(HERE / "probe.py", "EPOCHS")
BATCH_SIZE = literal_from(HERE / "probe.py", "BATCH_SIZE")
UNFREEZE_HEAD_LR = literal_from(HERE / "probe.py", "UNFREEZE_HEAD_LR")
OTHER_MODELS = literal_from(HERE / "probe.py", "OTHER_MODELS")
SMALL_FEATURES = literal_from(HERE / "probe.py", "SMALL_FEATURES")

LOSS_RATIO = 0.8  # fine-tuning must bring the probe's loss down by at least 20 %
ACCURACY_THRESHOLD = (
    0.5  # held-out digits, frozen backbone, head trained 2 epochs on 512: 0.65-0.82; chance 0.10
)
HEAD_PARAMS = 512 * NUM_CLASSES + NUM_CLASSES
STRATEGIES = ("frozen", "layer4")
TABLE_KEYS = ("strategy", "trainable_params", "val_accuracy", "train_seconds")

CHECKS = [
    Check(
        "new-head",
        zh="新的分类头大小正确、可训练",
        en="The new head has the right size and is trainable",
        points=15,
        basis="verified",
        basis_note="the head's output shapes returned as data; its type and sizes are observed",
    ),
    Check(
        "fresh-init",
        zh="新分类头是重新初始化的",
        en="The new head is freshly initialised",
        points=10,
        basis="verified",
        basis_note="the head's values returned as data",
    ),
    Check(
        "other-architectures",
        zh="对 EfficientNet 的 classifier 和其他宽度的 fc 也适用",
        en="It also works for EfficientNet's classifier and an fc of another width",
        points=10,
        visible=False,
        basis="observed",
        basis_note="trainable counts reported by the student's process",
    ),
    Check(
        "fine-tune",
        zh="微调循环让损失下降",
        en="The fine-tuning loop lowers the loss",
        points=15,
        basis="verified",
        basis_note="losses measured on the driver's own ResNet-18 with the returned state_dict; optimizer groups and steps are observed",
    ),
    Check(
        "held-out-accuracy",
        zh="留出集上的准确率达标",
        en="Accuracy on held-out digits",
        points=15,
        visible=False,
        basis="verified",
        basis_note="predictions of the driver's own ResNet-18 on the job's held-out digits",
    ),
    Check(
        "staged-unfreeze",
        zh="分阶段解冻 layer4，学习率更低",
        en="layer4 is unfrozen with a lower learning rate",
        points=20,
        visible=False,
        basis="verified",
        basis_note="state_dicts before and after compared by the driver; requires_grad flags are observed",
    ),
    Check(
        "comparison-table",
        zh="冻结与解冻的对比表",
        en="The frozen-versus-unfrozen comparison table",
        points=15,
        visible=False,
        basis="verified",
        basis_note="the table as returned and the duration timed by the driver",
    ),
]


def check(ctx):
    yield ctx.evaluate("new-head", check_new_head)
    yield ctx.evaluate("fresh-init", check_fresh_init)
    yield ctx.evaluate("other-architectures", check_other_architectures)
    yield ctx.evaluate("fine-tune", check_fine_tune)
    yield ctx.evaluate("held-out-accuracy", check_accuracy)
    yield ctx.evaluate("staged-unfreeze", check_unfreeze)
    yield ctx.evaluate("comparison-table", check_table)


@functools.cache
def _checkpoint():
    path = find_resnet18()
    return sha256_of(path), load_state(path)


def checkpoint_state(ctx):
    seen = ctx.observed("checkpoint")
    if not isinstance(seen, dict) or not isinstance(seen.get("sha256"), str):
        raise RuntimeError(
            "the sandbox saw no ResNet-18 checkpoint: the grader has no weights cache (TORCH_HOME)"
        )
    digest, state = _checkpoint()
    if seen["sha256"] != digest:
        raise RuntimeError(f"the sandbox saw checkpoint {seen['sha256'][:12]}, the check found {digest[:12]}")
    return state


@functools.cache
def layer4_params():
    from torchvision.models import resnet18

    return sum(p.numel() for p in resnet18().layer4.parameters())


def first_names(names, limit=3):
    shown = ", ".join(names[:limit])
    return shown + (f" … (+{len(names) - limit})" if len(names) > limit else "")


def call_failure(ctx, key, observation, call):
    """A failed outcome when the probe's call `observation` raised or left nothing, else None."""
    error = ctx.error_of(observation)
    if error:
        return ctx.failed(key, zh=f"调用 {call} 时出错：\n{error}", en=f"{call} raised an error:\n{error}")
    if observation not in ctx.observations:
        return ctx.failed(key)
    return None


def replaced(ctx, key):
    call = f"replace_head(resnet18, {NUM_CLASSES})"
    failure = call_failure(ctx, key, "replace", call)
    if failure:
        return None, failure
    seen = ctx.observed("replace")
    if not seen.get("module"):
        return None, ctx.failed(
            key,
            zh=f"{call} 返回的是 {seen.get('type')}，应返回模型。",
            en=f"{call} returned a {seen.get('type')}; it should return the model.",
        )
    return seen, None


# ---------------------------------------------------------------------------------------------------


def check_new_head(ctx):
    key = "new-head"
    seen, failure = replaced(ctx, key)
    if failure:
        return failure
    call = f"replace_head(resnet18, {NUM_CLASSES})"
    if seen["head_type"] != "Linear":
        return ctx.failed(
            key,
            zh=f"{call} 之后 model.fc 是 {seen['head_type']}，应是一个新的 nn.Linear。",
            en=f"After {call}, model.fc is a {seen['head_type']}; it should be a new nn.Linear.",
        )
    if seen["in_features"] != 512 or seen["out_features"] != NUM_CLASSES:
        return ctx.failed(
            key,
            zh=f"{call} 之后 model.fc 是 Linear({seen['in_features']}, {seen['out_features']})，应为 "
            f"Linear(512, {NUM_CLASSES})：赋值一个新层，model.fc = nn.Linear(model.fc.in_features, num_classes)。",
            en=f"After {call}, model.fc is Linear({seen['in_features']}, {seen['out_features']}); expected "
            f"Linear(512, {NUM_CLASSES}): assign a new layer, model.fc = nn.Linear(model.fc.in_features, num_classes).",
        )
    output = seen.get("output")
    error = ctx.error_of("replace.forward")
    shape = output.get("shape") if isinstance(output, dict) else None
    if not error and isinstance(shape, list) and len(shape) == 2 and shape[1] != NUM_CLASSES:
        return ctx.failed(
            key,
            zh=f"model.fc 声称 out_features = {NUM_CLASSES}，模型却输出 {tuple(shape)}：只改 out_features 这个属性"
            "不会改变权重矩阵（它还是原来的行数）。要赋值一个新层：model.fc = nn.Linear(model.fc.in_features, num_classes)。",
            en=f"model.fc claims out_features = {NUM_CLASSES}, yet the model outputs {tuple(shape)}: setting the "
            "attribute out_features does not resize the weight matrix (it keeps its rows). Assign a new layer: "
            "model.fc = nn.Linear(model.fc.in_features, num_classes).",
        )
    if error or shape != [4, NUM_CLASSES]:
        got = f"出错：\n{error}" if error else f"形状 {show((output or {}).get('shape'))}"
        got_en = f"raised:\n{error}" if error else f"gave shape {show((output or {}).get('shape'))}"
        return ctx.failed(
            key,
            zh=f"新模型对 4 张图像的前向传播{got}，应得到 (4, {NUM_CLASSES})。",
            en=f"A forward pass of 4 images through the new model {got_en}; expected shape (4, {NUM_CLASSES}).",
        )
    if not seen["head_trainable"] or not all(seen["head_trainable"]):
        return ctx.failed(
            key,
            zh="新分类头的参数不需要梯度，它学不了：换上新层之后不要再把它冻结（新建的层默认 requires_grad=True）。",
            en="The new head's parameters do not require gradients, so it cannot learn: don't freeze it after "
            "putting it in (a new layer has requires_grad=True by default).",
        )
    if seen["backbone_trainable"]:
        return ctx.failed(
            key,
            zh=f"交给你的主干是冻结的，replace_head 之后却有 {len(seen['backbone_trainable'])} 个主干参数需要梯度"
            f"（如 {first_names(seen['backbone_trainable'])}）。replace_head 只换头，不要改动主干。",
            en=f"The backbone came in frozen, yet after replace_head {len(seen['backbone_trainable'])} backbone "
            f"parameters require gradients (e.g. {first_names(seen['backbone_trainable'])}). replace_head should "
            "change the head only.",
        )
    return ctx.passed(
        key,
        zh=f"model.fc 是可训练的 Linear(512, {NUM_CLASSES})，输出 (4, {NUM_CLASSES})，主干仍然冻结。",
        en=f"model.fc is a trainable Linear(512, {NUM_CLASSES}), the output is (4, {NUM_CLASSES}), and the "
        "backbone is still frozen.",
    )


def check_fresh_init(ctx):
    key = "fresh-init"
    state = checkpoint_state(ctx)
    _, failure = replaced(ctx, key)
    if failure:
        return failure
    weight = ctx.array("head_weight")
    if weight is None or weight.shape != (NUM_CLASSES, 512):
        return ctx.failed(
            key,
            zh=f"model.fc 不是 Linear(512, {NUM_CLASSES})，无法判断它的初始化（见上一项）。",
            en=f"model.fc is not a Linear(512, {NUM_CLASSES}), so its initialisation could not be judged (see above).",
        )
    weight = weight.astype(np.float64)
    old = state["fc.weight"].double().numpy()
    copied = sum(1 for row in weight if np.any(np.all(old == row, axis=1)))
    if copied:
        return ctx.failed(
            key,
            zh=f"新分类头有 {copied} 行权重与预训练的 1000 类分类头完全相同：那些是 ImageNet 类别的权重，"
            "对新类别毫无意义。新层要随机初始化——nn.Linear(...) 新建出来就是。",
            en=f"{copied} rows of the new head equal rows of the pretrained 1000-class head: those belong to "
            "ImageNet classes and mean nothing for the new ones. The new layer must start from a random "
            "initialisation, which a new nn.Linear(...) already has.",
        )
    spread = float(weight.std())
    if not np.all(np.isfinite(weight)) or spread < 1e-4 or float(np.abs(weight).max()) > 1.0:
        return ctx.failed(
            key,
            zh=f"新分类头的权重不像随机初始化（标准差 {spread:.2g}，最大绝对值 {float(np.abs(weight).max()):.2g}）："
            "全相同的权重让每个类别得到同样的梯度。直接用 nn.Linear 的默认初始化即可。",
            en=f"The new head's weights do not look randomly initialised (std {spread:.2g}, max |w| "
            f"{float(np.abs(weight).max()):.2g}): identical weights give every class the same gradient. "
            "nn.Linear's default initialisation is what you want.",
        )
    return ctx.passed(
        key,
        zh=f"新分类头是随机初始化的（权重标准差 {spread:.3f}），与预训练分类头没有一行相同。",
        en=f"The new head is freshly initialised (weight std {spread:.3f}); no row equals the pretrained head.",
    )


def check_other_architectures(ctx):
    key = "other-architectures"
    problems_zh, problems_en = [], []
    for name, classes in OTHER_MODELS:
        if name == "efficientnet":
            call, expected_in = f"replace_head(efficientnet_b0, {classes})", 1280
            where = "model.classifier"
        else:
            call, expected_in = (
                f"replace_head(a net whose fc is Linear({SMALL_FEATURES}, 1000), {classes})",
                SMALL_FEATURES,
            )
            where = "model.fc"
        error = ctx.error_of(f"other.{name}") or ctx.error_of(f"other.{name}.forward")
        seen = ctx.observed(f"other.{name}")
        if error:
            problems_zh.append(f"调用 {call} 出错：\n{error}")
            problems_en.append(f"{call} raised an error:\n{error}")
            continue
        if not isinstance(seen, dict):
            problems_zh.append(f"没有 {call} 的观测结果。")
            problems_en.append(f"No observation for {call}.")
            continue
        shape = (seen.get("output") or {}).get("shape")
        if shape != [2, classes]:
            problems_zh.append(
                f"{call} 之后 {where} 输出的形状是 {show(shape)}，应为 [2, {classes}]。新层的输入大小要从旧层读："
                f"{where}（或它的最后一层）.in_features = {expected_in}。"
            )
            problems_en.append(
                f"After {call}, {where} gives shape {show(shape)}; expected [2, {classes}]. Read the new layer's "
                f"input size from the old one: {where} (or its last layer) .in_features = {expected_in}."
            )
    if problems_en:
        return ctx.failed(key, zh="\n".join(problems_zh), en="\n".join(problems_en))
    return ctx.passed(
        key,
        zh="EfficientNet 的 classifier 和 48 维特征的 fc 都换成了大小正确的新层。",
        en="EfficientNet's classifier and the 48-feature fc both got new layers of the right size.",
    )


def returned_losses_problem(returned, steps, call):
    if isinstance(returned, list) and len(returned) == steps and all(number(v) is not None for v in returned):
        return None
    return (
        f"{call} 应返回 {steps} 个 float 组成的列表（每个 batch 一个损失），实际返回 {show(returned)}。用 loss.item()。",
        f"{call} should return a list of {steps} floats (one loss per batch); it returned {show(returned)}. "
        "Use loss.item().",
    )


def check_fine_tune(ctx):
    key = "fine-tune"
    call = f"fine_tune(model, optimizer, images, labels, epochs={EPOCHS}, batch_size={BATCH_SIZE})"
    failure = call_failure(ctx, key, "fine_tune", call)
    if failure:
        return failure
    seen = ctx.observed("fine_tune")
    steps = EPOCHS * math.ceil(FINE_TUNE_IMAGES / BATCH_SIZE)
    if seen.get("steps") != steps:
        return ctx.failed(
            key,
            zh=f"{FINE_TUNE_IMAGES} 张图像、batch_size={BATCH_SIZE}、{EPOCHS} 个 epoch 应该走 {steps} 步优化，"
            f"优化器实际走了 {seen.get('steps')} 步。每个 epoch 遍历全部图像，每个 batch 调用一次 optimizer.step()。",
            en=f"{FINE_TUNE_IMAGES} images, batch_size={BATCH_SIZE} and {EPOCHS} epochs make {steps} optimizer steps; "
            f"the optimizer took {seen.get('steps')}. Go over all images every epoch and call optimizer.step() "
            "once per batch.",
        )
    problem = returned_losses_problem(seen.get("returned"), steps, call)
    if problem:
        return ctx.failed(key, zh=problem[0], en=problem[1])
    before, after = number(seen.get("loss_before")), number(seen.get("loss_after"))
    if before is None or after is None:
        return ctx.failed(key)
    if not after <= LOSS_RATIO * before:
        return ctx.failed(
            key,
            zh=f"微调后，评测程序在训练图像上测得的损失从 {before:.3f} 变为 {after:.3f}，应至少下降 20%。"
            "每个 batch 要 zero_grad()、前向、loss.backward()、optimizer.step()。",
            en=f"After fine-tuning, the loss the grader measured on the training images went from {before:.3f} to "
            f"{after:.3f}; it should fall by at least 20 %. Each batch needs zero_grad(), a forward pass, "
            "loss.backward() and optimizer.step().",
        )
    return ctx.passed(
        key,
        zh=f"{steps} 步优化，损失从 {before:.3f} 降到 {after:.3f}。",
        en=f"{steps} optimizer steps; the loss fell from {before:.3f} to {after:.3f}.",
    )


def check_accuracy(ctx):
    key = "held-out-accuracy"
    if ctx.error_of("fine_tune") or "fine_tune" not in ctx.observations:
        return ctx.failed(
            key,
            zh="fine_tune 没有完成（见“微调循环让损失下降”），无法在留出集上评估。",
            en="fine_tune did not complete (see “The fine-tuning loop lowers the loss”), so nothing could be scored.",
        )
    labels = job_labels(ctx.bundle, ctx.job_seed)
    predictions = ctx.array("held_out_predictions")
    if predictions is None or predictions.shape != labels.shape:
        return ctx.failed(key)
    accuracy = float(np.mean(predictions == labels))
    if accuracy < ACCURACY_THRESHOLD:
        return ctx.failed(
            key,
            zh=f"只训练分类头之后，模型在 {len(labels)} 张留出数字上的准确率是 {accuracy:.1%}，"
            f"至少要 {ACCURACY_THRESHOLD:.0%}。检查每个 batch 的图像和标签是否对应（打乱时用同一个下标）。",
            en=f"After training the head, the model scored {accuracy:.1%} on {len(labels)} held-out digits; at "
            f"least {ACCURACY_THRESHOLD:.0%} is needed. Make sure each batch's images and labels still match "
            "(shuffle both with the same indices).",
        )
    return ctx.passed(
        key,
        zh=f"留出集准确率 {accuracy:.1%}（{len(labels)} 张图，这些标签从没进过沙箱）。",
        en=f"Held-out accuracy {accuracy:.1%} ({len(labels)} images whose labels never entered the sandbox).",
    )


def block_of(name):
    return name.split(".", 1)[0]


def check_unfreeze(ctx):
    key = "staged-unfreeze"
    call = f"unfreeze_last_block(model, head_lr={UNFREEZE_HEAD_LR})"
    failure = call_failure(ctx, key, "unfreeze", call)
    if failure:
        return failure
    seen = ctx.observed("unfreeze")
    if not seen.get("optimizer"):
        return ctx.failed(
            key,
            zh=f"{call} 返回的是 {seen.get('type')}，应返回一个 torch.optim 优化器。",
            en=f"{call} returned a {seen.get('type')}; it should return a torch.optim optimizer.",
        )
    trainable = seen.get("trainable") or []
    wrong_blocks = sorted({block_of(n) for n in trainable} - {"layer4", "fc"})
    if wrong_blocks or not any(block_of(n) == "layer4" for n in trainable):
        return ctx.failed(
            key,
            zh=f"解冻之后需要梯度的模块是 {sorted({block_of(n) for n in trainable})}，应只有 layer4 和 fc："
            "只解冻最后一个 block（model.layer4），更早的层保持冻结。",
            en=f"After unfreezing, the blocks that require gradients are {sorted({block_of(n) for n in trainable})}; "
            "only layer4 and fc should: unfreeze the last block (model.layer4) and keep the earlier ones frozen.",
        )
    lr_of = {}
    for group in seen.get("groups") or []:
        for name in group.get("params") or []:
            lr_of[name] = number(group.get("lr"))
    missing = [name for name in trainable if name not in lr_of]
    if missing:
        return ctx.failed(
            key,
            zh=f"{len(missing)} 个可训练参数不在优化器里（如 {first_names(missing)}）：优化器要同时拿到 fc 和 layer4 的参数。",
            en=f"{len(missing)} trainable parameters are not in the optimizer (e.g. {first_names(missing)}): it "
            "needs both fc's and layer4's parameters.",
        )
    head_lrs = {lr_of[n] for n in trainable if block_of(n) == "fc"}
    block_lrs = {lr_of[n] for n in trainable if block_of(n) == "layer4"}
    if any(lr is None or not math.isclose(lr, UNFREEZE_HEAD_LR, rel_tol=1e-6) for lr in head_lrs):
        return ctx.failed(
            key,
            zh=f"分类头的学习率是 {sorted(head_lrs)}，应为传入的 head_lr = {UNFREEZE_HEAD_LR}。",
            en=f"The head's learning rate is {sorted(head_lrs)}; it should be the head_lr passed in, {UNFREEZE_HEAD_LR}.",
        )
    if any(lr is None or not 0 < lr < UNFREEZE_HEAD_LR * (1 - 1e-6) for lr in block_lrs):
        return ctx.failed(
            key,
            zh=f"layer4 的学习率是 {sorted(block_lrs)}，应大于 0 且低于分类头的 {UNFREEZE_HEAD_LR}（例如十分之一）："
            "预训练的层只需轻轻调整，大学习率会冲掉它学到的特征。用两个参数组，各自设置 lr。",
            en=f"layer4's learning rate is {sorted(block_lrs)}; it should be above 0 and below the head's "
            f"{UNFREEZE_HEAD_LR} (a tenth, say): pretrained layers need gentle nudges, and a large rate wipes out "
            "what they learned. Use two parameter groups, each with its own lr.",
        )
    changed = seen.get("changed")
    if changed is None:
        return ctx.failed(
            key,
            zh=f"用这个优化器调用 fine_tune 出错：\n{ctx.error_of('unfreeze.fine_tune')}",
            en=f"fine_tune with this optimizer raised:\n{ctx.error_of('unfreeze.fine_tune')}",
        )
    moved = sorted({block_of(n) for n in changed})
    if set(moved) != {"fc", "layer4"}:
        return ctx.failed(
            key,
            zh=f"再训练一个 epoch 之后，发生变化的是 {moved}，应正好是 layer4 和 fc。",
            en=f"After one more epoch, the blocks whose parameters changed are {moved}; exactly layer4 and fc should.",
        )
    return ctx.passed(
        key,
        zh=f"只有 layer4 和 fc 可训练，layer4 的学习率 {sorted(block_lrs)[0]:g} 低于分类头的 {UNFREEZE_HEAD_LR:g}，训练后只有它们变了。",
        en=f"Only layer4 and fc train; layer4's rate {sorted(block_lrs)[0]:g} is below the head's "
        f"{UNFREEZE_HEAD_LR:g}, and only they changed in training.",
    )


def render_table(rows):
    lines = ["| strategy | trainable params | val accuracy | train seconds |", "|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row['strategy']} | {row['trainable_params']:,} | {number(row['val_accuracy']):.3f} | "
            f"{number(row['train_seconds']):.2f} |"
        )
    return "\n".join(lines)


def check_table(ctx):
    key = "comparison-table"
    call = "compare_strategies(...)"
    failure = call_failure(ctx, key, "compare", call)
    if failure:
        return failure
    seen = ctx.observed("compare")
    table = seen.get("table")
    expected_params = {"frozen": HEAD_PARAMS, "layer4": HEAD_PARAMS + layer4_params()}
    if not isinstance(table, list) or len(table) != 2 or not all(isinstance(row, dict) for row in table):
        return ctx.failed(
            key,
            zh=f"{call} 应返回两行（两个 dict）组成的列表，实际是 {show(table)}。",
            en=f"{call} should return a list of two rows (dicts); it returned {show(table)}.",
        )
    for row in table:
        missing = [name for name in TABLE_KEYS if name not in row]
        if missing:
            return ctx.failed(
                key,
                zh=f"表中的一行缺少键 {missing}：每行要有 {list(TABLE_KEYS)}。",
                en=f"A row lacks the keys {missing}: every row needs {list(TABLE_KEYS)}.",
            )
    strategies = sorted(str(row["strategy"]) for row in table)
    if strategies != sorted(STRATEGIES):
        return ctx.failed(
            key,
            zh=f"两行的 strategy 是 {strategies}，应为 'frozen' 和 'layer4'。",
            en=f"The rows' strategies are {strategies}; expected 'frozen' and 'layer4'.",
        )
    for row in table:
        strategy, count = row["strategy"], row["trainable_params"]
        if isinstance(count, bool) or not isinstance(count, int) or count != expected_params[strategy]:
            return ctx.failed(
                key,
                zh=f"'{strategy}' 一行的 trainable_params 是 {show(count)}，应为 {expected_params[strategy]:,}："
                "数一数 requires_grad 为 True 的参数，sum(p.numel() for p in model.parameters() if p.requires_grad)。",
                en=f"The '{strategy}' row says trainable_params = {show(count)}; expected "
                f"{expected_params[strategy]:,}: count the parameters with requires_grad, "
                "sum(p.numel() for p in model.parameters() if p.requires_grad).",
            )
        accuracy, seconds = number(row["val_accuracy"]), number(row["train_seconds"])
        if accuracy is None or not 0.0 <= accuracy <= 1.0:
            return ctx.failed(
                key,
                zh=f"'{strategy}' 一行的 val_accuracy 是 {show(row['val_accuracy'])}，应是 0 到 1 之间的数。",
                en=f"The '{strategy}' row's val_accuracy is {show(row['val_accuracy'])}; it should be a number from 0 to 1.",
            )
        if seconds is None or not 0.0 < seconds < math.inf:
            return ctx.failed(
                key,
                zh=f"'{strategy}' 一行的 train_seconds 是 {show(row['train_seconds'])}，应是正数（用 time.perf_counter() 计时）。",
                en=f"The '{strategy}' row's train_seconds is {show(row['train_seconds'])}; it should be a positive "
                "number (time it with time.perf_counter()).",
            )
    total = sum(number(row["train_seconds"]) for row in table)
    measured = number(seen.get("seconds")) or 0.0
    if total > measured * 1.02 + 0.05:
        return ctx.failed(
            key,
            zh=f"表中的训练时间合计 {total:.2f} 秒，可整个 compare_strategies 调用只用了 {measured:.2f} 秒："
            "时间要实际测量，不能编造。",
            en=f"The table's training times add up to {total:.2f} s, but the whole compare_strategies call took "
            f"{measured:.2f} s: measure the times, don't make them up.",
        )
    updated = set(seen.get("updated_sizes") or [])
    unseen = [strategy for strategy in STRATEGIES if expected_params[strategy] not in updated]
    if unseen:
        return ctx.failed(
            key,
            zh=f"调用期间没有看到 {unseen} 策略的训练：没有一次 optimizer.step() 恰好更新了 "
            f"{', '.join(f'{expected_params[s]:,}' for s in unseen)} 个参数。两种策略都要真的训练。",
            en=f"No training of the {unseen} strategy was seen during the call: no optimizer.step() updated "
            f"exactly {', '.join(f'{expected_params[s]:,}' for s in unseen)} parameters. Train both strategies for real.",
        )
    rows = sorted(table, key=lambda row: STRATEGIES.index(row["strategy"]))
    return ctx.passed(key, zh="对比表：\n" + render_table(rows), en="Your comparison:\n" + render_table(rows))
