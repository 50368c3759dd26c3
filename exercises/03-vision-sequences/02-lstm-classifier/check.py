"""Check for trial 3.2, lstm-classifier. Runs outside the sandbox and scores the driver's observations.

The probe batch is rebuilt here from its seed (exercises.kit.sequences), the held-out labels come from
hidden/, and the tolerances are fixed: a correctly packed LSTM gives the same logits for a sequence
whatever the padding and whatever else is in the batch, up to float rounding.

Verified (logits that reached the driver as data, differences and predictions computed there):
output-shape, unsorted-batch, padding-invariant, batch-independent, accuracy.
"""

from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, number, show
from exercises.kit.sequences import NUM_CLASSES, make_sequences

HERE = Path(__file__).resolve().parent
PROBE = HERE / "probe.py"
BATCH_SEED = literal_from(PROBE, "BATCH_SEED")
BATCH_SIZE = literal_from(PROBE, "BATCH_SIZE")
EXTRA_PADDING = literal_from(PROBE, "EXTRA_PADDING")
LENGTHS = make_sequences(BATCH_SIZE, BATCH_SEED, min_len=1).lengths.tolist()
TOLERANCE = 1e-4
ACCURACY_THRESHOLD = 0.90

CHECKS = [
    Check(
        "output-shape",
        zh="输出形状是 (批大小, 类别数)，批大小为 1 时也是",
        en="Logits have shape (batch, classes), also for a batch of one",
        points=20,
        basis="verified",
        basis_note="the logits for every batch the driver sends; the parameter count is observed",
    ),
    Check(
        "unsorted-batch",
        zh="能处理长度未排序的批次",
        en="Batches whose lengths are not sorted work",
        points=15,
        basis="verified",
        basis_note="the logits compared by the driver",
    ),
    Check(
        "padding-invariant",
        zh="多补零不改变输出（使用了 pack_padded_sequence）",
        en="Extra padding does not change the output (pack_padded_sequence at work)",
        points=25,
        basis="verified",
        basis_note="the logits compared by the driver",
    ),
    Check(
        "batch-independent",
        zh="每条序列的输出取自它自己的最后一个真实时间步",
        en="Each sequence's output comes from its own last real step",
        points=20,
        basis="verified",
        basis_note="the logits compared by the driver",
    ),
    Check(
        "accuracy",
        zh=f"在留出序列上的准确率 ≥ {ACCURACY_THRESHOLD:.0%}",
        en=f"Accuracy on held-out sequences ≥ {ACCURACY_THRESHOLD:.0%}",
        points=20,
        visible=False,
        basis="verified",
        basis_note="the driver takes the predictions from the logits itself; the type train_classifier returned is observed",
    ),
]


def check(ctx):
    yield ctx.evaluate("output-shape", check_shape)
    yield ctx.evaluate("unsorted-batch", check_unsorted)
    yield ctx.evaluate("padding-invariant", check_padding)
    yield ctx.evaluate("batch-independent", check_independent)
    yield ctx.evaluate("accuracy", check_accuracy)


def build_problem(ctx):
    call = "TextClassifier(vocab_size=20, num_classes=3)"
    if error := ctx.error_of("build"):
        return f"创建 {call} 时出错：\n{error}", f"{call} raised an error:\n{error}"
    value = ctx.observed("build")
    if not isinstance(value, dict):
        return f"没有 {call} 的观测结果。", f"No observation for {call}."
    if not value.get("module"):
        return (
            f"{call} 得到的是 {value.get('type')}，应是 nn.Module 的子类实例。",
            f"{call} gave a {value.get('type')}; TextClassifier must be an nn.Module subclass.",
        )
    return None


def batch_text(lengths):
    return f"lengths {lengths}" if len(lengths) > 1 else f"length {lengths[0]}"


def output_problem(ctx, key, rows, what_zh, what_en):
    """Why the output for `key` is not a (rows, NUM_CLASSES) float tensor, as (zh, en), or None."""
    if error := ctx.error_of(key):
        return f"{what_zh}时 forward 出错：\n{error}", f"forward raised on {what_en}:\n{error}"
    value = ctx.observed(key)
    if not isinstance(value, dict):
        return f"没有{what_zh}的输出。", f"No output for {what_en}."
    if "shape" not in value:
        return (
            f"{what_zh}时 forward 返回的是 {value.get('type')}，应返回 logits 张量。",
            f"forward returned a {value.get('type')} for {what_en}; it should return a logits tensor.",
        )
    expected = [rows, NUM_CLASSES]
    if value["shape"] != expected:
        zh = f"{what_zh}时输出形状是 {show(value['shape'])}，应为 {expected}。"
        en = f"For {what_en} the logits have shape {show(value['shape'])}; expected {expected}."
        if rows == 1 and value["shape"] == [NUM_CLASSES]:
            zh += "批大小为 1 时批维度丢了：多半是 h_n.squeeze() 把它一起挤掉了，用 h_n[-1] 取最后一层。"
            en += (
                " With a batch of one the batch dimension vanished: h_n.squeeze() squeezes it away too; "
                "take the last layer with h_n[-1]."
            )
        return zh, en
    if not str(value.get("dtype", "")).startswith("torch.float"):
        return (
            f"{what_zh}时输出类型是 {value.get('dtype')}，logits 应是浮点数。",
            f"For {what_en} the output dtype is {value.get('dtype')}; logits are floats.",
        )
    return None


def check_shape(ctx):
    if problem := build_problem(ctx):
        return ctx.failed("output-shape", *problem)
    problems = []
    cases = [
        ("batch.tight", BATCH_SIZE, f"一个 {BATCH_SIZE} 条序列的批次", f"a batch of {BATCH_SIZE} sequences")
    ]
    cases += [
        (f"alone.{row}", 1, f"单条序列（长度 {LENGTHS[row]}）", f"a single sequence of length {LENGTHS[row]}")
        for row in range(BATCH_SIZE)
    ]
    for key, rows, what_zh, what_en in cases:
        if key not in ctx.observations:
            continue  # the probe stopped earlier; the first error is reported
        if problem := output_problem(ctx, key, rows, what_zh, what_en):
            problems.append(problem)
    if not problems and "batch.tight" not in ctx.observations:
        return ctx.failed("output-shape")
    if problems:
        zh, en = problems[0]
        return ctx.failed("output-shape", zh=zh, en=en)
    return ctx.passed(
        "output-shape",
        zh=f"批大小 {BATCH_SIZE} 和 1 的输出形状都正确。",
        en=f"Logits have the right shape for batches of {BATCH_SIZE} and of 1.",
    )


def check_unsorted(ctx):
    if problem := build_problem(ctx):
        return ctx.failed("unsorted-batch", *problem)
    error = ctx.error_of("batch.tight")
    if error:
        zh = f"长度未排序的批次（{batch_text(LENGTHS)}）让 forward 出错：\n{error}"
        en = f"forward raised on a batch whose lengths are not sorted ({batch_text(LENGTHS)}):\n{error}"
        if "sorted" in error or "decreasing" in error:
            zh += (
                "\npack_padded_sequence 默认要求长度从大到小排好（enforce_sorted=True）。"
                "传入 enforce_sorted=False，让它替你排序并在输出时恢复原顺序。"
            )
            en += (
                "\npack_padded_sequence expects lengths in decreasing order by default (enforce_sorted=True). "
                "Pass enforce_sorted=False and it sorts for you and restores the order in its output."
            )
        elif "cpu" in error.lower() or "device" in error.lower():
            zh += "\nlengths 必须是 CPU 上的一维 int64 张量：传入 lengths.cpu()。"
            en += "\nlengths must be a 1-D int64 tensor on the CPU: pass lengths.cpu()."
        return ctx.failed("unsorted-batch", zh=zh, en=en)
    if "batch.tight" not in ctx.observations:
        return ctx.failed("unsorted-batch")
    return ctx.passed(
        "unsorted-batch",
        zh=f"长度为 {LENGTHS} 的未排序批次可以正常前向。",
        en=f"A batch with unsorted lengths {LENGTHS} went through forward.",
    )


def check_padding(ctx):
    if problem := build_problem(ctx):
        return ctx.failed("padding-invariant", *problem)
    for key, what_zh, what_en in (
        ("batch.tight", "未排序批次", "the unsorted batch"),
        (
            "batch.padded",
            f"多补 {EXTRA_PADDING} 列零的同一批次",
            f"the same batch with {EXTRA_PADDING} more padding columns",
        ),
    ):
        if problem := output_problem(ctx, key, BATCH_SIZE, what_zh, what_en):
            return ctx.failed("padding-invariant", *problem)
    difference = number(ctx.observed("padding.difference"))
    if difference is None:
        return ctx.failed("padding-invariant")
    if not difference <= TOLERANCE:
        return ctx.failed(
            "padding-invariant",
            zh=(
                f"同一批序列，只是末尾多补了 {EXTRA_PADDING} 列 0，输出却变了（最大相差 {difference:.3g}）。"
                "LSTM 把填充的 0 当成了真实输入。用 pack_padded_sequence(embedded, lengths.cpu(), "
                "batch_first=True, enforce_sorted=False) 把序列打包，LSTM 就只读每条序列的真实部分。"
            ),
            en=(
                f"The same sequences, only padded with {EXTRA_PADDING} more zero columns, gave different logits "
                f"(by up to {difference:.3g}). The LSTM reads the padding as input. Pack the batch with "
                "pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False) so that "
                "it reads only the real part of each sequence."
            ),
        )
    return ctx.passed(
        "padding-invariant",
        zh=f"多补 {EXTRA_PADDING} 列零，输出不变（最大相差 {difference:.1g}）。",
        en=f"{EXTRA_PADDING} more padding columns left the logits unchanged (max difference {difference:.1g}).",
    )


def check_independent(ctx):
    if problem := build_problem(ctx):
        return ctx.failed("batch-independent", *problem)
    if problem := output_problem(ctx, "batch.tight", BATCH_SIZE, "未排序批次", "the unsorted batch"):
        return ctx.failed("batch-independent", *problem)
    for row in range(BATCH_SIZE):
        key = f"alone.{row}"
        what_zh, what_en = f"单条序列（长度 {LENGTHS[row]}）", f"a single sequence of length {LENGTHS[row]}"
        if problem := output_problem(ctx, key, 1, what_zh, what_en):
            return ctx.failed("batch-independent", *problem)
    differences = ctx.observed("alone.differences")
    if not isinstance(differences, list) or len(differences) != BATCH_SIZE:
        return ctx.failed("batch-independent")
    values = [number(value) for value in differences]
    wrong = [row for row, value in enumerate(values) if value is None or not value <= TOLERANCE]
    if wrong:
        shorter = [LENGTHS[row] for row in wrong]
        longest = max(LENGTHS)
        zh = (
            f"长度为 {shorter} 的序列单独输入时的输出，和放在最长 {longest} 的批次里时不一样。"
            "每条序列的结果应取自它自己的最后一个真实时间步。"
        )
        en = (
            f"Sequences of length {shorter} give different logits alone than inside a batch whose longest "
            f"sequence has {longest} steps. Each sequence's result must come from its own last real step."
        )
        padding = number(ctx.observed("padding.difference"))
        if padding is not None and not padding <= TOLERANCE:
            zh += (
                "原因和上一项检查相同：LSTM 读到了填充的 0，单独输入时没有填充，结果自然不同。"
                "用 pack_padded_sequence 打包后再送进 LSTM。"
            )
            en += (
                " The cause is the one the padding check found: the LSTM reads the zeros of the padding, and "
                "alone a sequence has none. Pack the batch with pack_padded_sequence before the LSTM."
            )
        elif longest not in shorter:
            zh += (
                "最长的序列没问题，较短的出错：这是取了 output[:, -1]——对较短的序列，那是填充位置。"
                "改用 LSTM 返回的 h_n[-1]（打包后它正是每条序列最后一个真实步的状态），"
                "或者用 lengths - 1 去 gather。"
            )
            en += (
                " The longest sequence is fine and the shorter ones are not: that is output[:, -1], which for a "
                "shorter sequence is a padding position. Use h_n[-1] from the LSTM (after packing it is each "
                "sequence's state at its last real step), or gather at lengths - 1."
            )
        else:
            zh += "请确认用 pack_padded_sequence 打包，并取 h_n[-1]。"
            en += " Pack with pack_padded_sequence and take h_n[-1]."
        return ctx.failed("batch-independent", zh=zh, en=en)
    return ctx.passed(
        "batch-independent",
        zh=f"{BATCH_SIZE} 条序列单独输入和放在批次里的输出一致。",
        en=f"All {BATCH_SIZE} sequences give the same logits alone as inside the batch.",
    )


def check_accuracy(ctx):
    if problem := build_problem(ctx):
        return ctx.failed("accuracy", *problem)
    if error := ctx.error_of("train"):
        return ctx.failed(
            "accuracy", zh=f"train_classifier 出错：\n{error}", en=f"train_classifier raised:\n{error}"
        )
    if "train" not in ctx.observations:
        return ctx.failed(
            "accuracy",
            zh="训练没有完成（可能超时，或者前面的步骤已经出错）。",
            en="Training did not finish (it may have timed out, or an earlier step failed).",
        )
    with np.load(ctx.hidden / "sequence_labels.npz", allow_pickle=False) as archive:
        labels = archive["test_labels"]
    finished = ctx.observed("test")
    if not (isinstance(finished, dict) and finished.get("predicted") == len(labels)):
        if problem := output_problem(ctx, "test", 50, "预测留出序列", "the held-out sequences"):
            return ctx.failed("accuracy", *problem)
        return ctx.failed("accuracy")
    predictions = ctx.array("test_predictions")
    if predictions is None or predictions.shape != labels.shape:
        return ctx.failed("accuracy")
    accuracy = float((predictions == labels).mean())
    if accuracy < ACCURACY_THRESHOLD:
        return ctx.failed(
            "accuracy",
            zh=(
                f"在 {len(labels)} 条留出序列上的准确率是 {accuracy:.1%}，需要至少 {ACCURACY_THRESHOLD:.0%}。"
                "检查训练循环：每步 zero_grad、backward、step；用 CrossEntropyLoss；试试 Adam(lr=1e-2) 训练 5–8 轮。"
            ),
            en=(
                f"Accuracy on {len(labels)} held-out sequences is {accuracy:.1%}; at least "
                f"{ACCURACY_THRESHOLD:.0%} is needed. Check the training loop: zero_grad, backward and step every "
                "batch, CrossEntropyLoss; try Adam(lr=1e-2) for 5–8 epochs."
            ),
        )
    return ctx.passed(
        "accuracy",
        zh=f"在 {len(labels)} 条留出序列上的准确率是 {accuracy:.1%}。",
        en=f"Accuracy on {len(labels)} held-out sequences is {accuracy:.1%}.",
    )
