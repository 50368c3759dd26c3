"""Check for trial 2.1, custom-module. Runs outside the sandbox and scores the driver's observations.

The expected scores are recomputed here from the same seeded images and known weights the driver used
(`exercises.kit.data`, from this job's seed `job.seed`), so nothing the sandbox wrote serves as an
expected value.

Verified (data that reached the driver): output-shape, flatten-in-forward, logits. Observed (the
student's process lists them): parameters.
"""

from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, show
from exercises.kit.data import seed_from, seeded_array

HERE = Path(__file__).resolve().parent
SHAPE_CASES = literal_from(HERE / "probe.py", "SHAPE_CASES")
VALUE_BATCH = literal_from(HERE / "probe.py", "VALUE_BATCH")
LONE_INDEX = literal_from(HERE / "probe.py", "LONE_INDEX")
WEIGHT_SCALE = literal_from(HERE / "probe.py", "WEIGHT_SCALE")
EXPECTED_PARAMETERS = 784 * 10 + 10
TOLERANCE = 1e-4

CHECKS = [
    Check(
        "output-shape",
        zh="批大小为 1 和 64 时输出形状都是 (N, 10)",
        en="The output is (N, 10) for batches of 1 and 64",
        points=30,
        basis="verified",
        basis_note="the logits' shape on images the driver sends",
    ),
    Check(
        "parameters",
        zh="注册了 7850 个可训练参数",
        en="7850 trainable parameters are registered",
        points=25,
        basis="observed",
        basis_note="the parameter table the student's process lists",
    ),
    Check(
        "flatten-in-forward",
        zh="forward 里逐样本展平图像",
        en="forward flattens each image itself",
        points=25,
        visible=False,
        basis="verified",
        basis_note="one image's logits alone and inside the batch, compared by the driver",
    ),
    Check(
        "logits",
        zh="输出是原始分数 W·x + b",
        en="The output is the raw scores W·x + b",
        points=20,
        visible=False,
        basis="verified",
        basis_note="the logits recomputed by the driver from the returned weights and the images it sent",
    ),
]


def check(ctx):
    yield ctx.evaluate("output-shape", check_output_shape)
    yield ctx.evaluate("parameters", check_parameters)
    yield ctx.evaluate("flatten-in-forward", check_flatten)
    yield ctx.evaluate("logits", check_logits)


# ---------------------------------------------------------------------------------------------------
# Shared pieces


def job_seed(ctx):
    """The seed the driver drew this job's images and weights from (None when it observed none)."""
    seed = ctx.observed("job.seed")
    return seed if type(seed) is int else None


def images(name, batch, seed):
    return seeded_array((batch, 1, 28, 28), "float32", seed_from("custom-module", name, seed))


def expected_scores(ctx):
    """W · flatten(x) + b for the value batch, in float64, from the driver's seeds."""
    seed = job_seed(ctx)
    weight = seeded_array((10, 784), "float32", seed_from("custom-module", "weight", seed)) * WEIGHT_SCALE
    bias = seeded_array((10,), "float32", seed_from("custom-module", "bias", seed)) * WEIGHT_SCALE
    flat = images("values", VALUE_BATCH, seed).reshape(VALUE_BATCH, 784).astype(np.float64)
    return flat @ weight.astype(np.float64).T + bias.astype(np.float64)


def softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def log_softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def close(array, expected):
    return (
        array is not None
        and array.shape == expected.shape
        and bool(np.allclose(array.astype(np.float64), expected, atol=TOLERANCE, rtol=TOLERANCE))
    )


def build_problem(ctx):
    """(zh, en) when Net() could not be built as an nn.Module, else None."""
    error = ctx.error_of("build")
    if error:
        return (
            f"Net() 出错了：\n{error}\n"
            "常见原因：__init__ 里忘了先调用 super().__init__()，之后才能给 self 赋值子模块。",
            f"Net() raised an error:\n{error}\n"
            "A common cause: __init__ must call super().__init__() before assigning any layer to self.",
        )
    built = ctx.observed("build")
    if not isinstance(built, dict):
        return ("没有 Net() 的观测结果。", "No observation of Net().")
    if built.get("is_module") is not True:
        return (
            f"Net() 构造出的是 {built.get('type')}，不是 nn.Module。写成 class Net(nn.Module): ...",
            f"Net() built a {built.get('type')}, not an nn.Module. Write class Net(nn.Module): ...",
        )
    return None


def tensor_shape(ctx, key, call):
    """(shape list, None) or (None, (zh, en))."""
    error = ctx.error_of(key)
    if error:
        return None, (f"{call} 出错了：\n{error}", f"{call} raised an error:\n{error}")
    value = ctx.observed(key)
    if not isinstance(value, dict) or not isinstance(value.get("shape"), list):
        kind = value.get("type", "?") if isinstance(value, dict) else "nothing"
        return None, (f"{call} 返回的是 {kind}，不是张量。", f"{call} returned {kind}, not a tensor.")
    return value["shape"], None


def first_problem(ctx, key, problems, total, zh_ok, en_ok):
    if not problems:
        return ctx.passed(key, zh=zh_ok, en=en_ok)
    zh, en = problems[0]
    if len(problems) > 1:
        zh += f"\n（{total} 个用例中共有 {len(problems)} 处问题，这里先列出第一处。）"
        en += f"\n({len(problems)} problems in {total} cases; this is the first.)"
    return ctx.failed(key, zh=zh, en=en)


# ---------------------------------------------------------------------------------------------------
# The checks


def check_output_shape(ctx):
    problem = build_problem(ctx)
    if problem:
        return ctx.failed("output-shape", zh=problem[0], en=problem[1])
    problems = []
    for name, batch in SHAPE_CASES:
        call = f"model(x)，x 的形状为 ({batch}, 1, 28, 28)"
        call_en = f"model(x) with x of shape ({batch}, 1, 28, 28)"
        shape, problem = tensor_shape(ctx, f"forward.{name}", call_en)
        if problem:
            problems.append(
                (
                    problem[0].replace(call_en, call)
                    + "\nforward 接收的是一批图像：先在 forward 里展平并保留批维度，"
                    "x = x.view(x.size(0), -1)，不要把批大小写死，再交给 self.fc。",
                    problem[1]
                    + "\nforward receives a batch of images: flatten it inside forward, keeping the batch "
                    "dimension, x = x.view(x.size(0), -1) (never hard-code the batch size), then apply self.fc.",
                )
            )
        elif shape != [batch, 10]:
            hint_zh = hint_en = ""
            if shape == [10] or len(shape) == 1:
                hint_zh = "批维度被展平掉了：x.view(-1) 会把整个批拉成一条向量。改成 x.view(x.size(0), -1)。"
                hint_en = "The batch dimension was flattened away: x.view(-1) turns the whole batch into one vector. Use x.view(x.size(0), -1)."
            problems.append(
                (
                    f"{call} 的输出形状是 {tuple(shape)!r}，应为 {(batch, 10)!r}：每个样本 10 个分数。{hint_zh}",
                    f"{call_en} gave an output of shape {tuple(shape)!r}; expected {(batch, 10)!r}: 10 scores per sample. {hint_en}",
                )
            )
    return first_problem(
        ctx,
        "output-shape",
        problems,
        len(SHAPE_CASES),
        "批大小为 1 和 64 时，输出都是每个样本 10 个分数。",
        "For batches of 1 and 64 the output held 10 scores per sample.",
    )


def check_parameters(ctx):
    problem = build_problem(ctx)
    if problem:
        return ctx.failed("parameters", zh=problem[0], en=problem[1])
    table = ctx.observed("parameters")
    if not isinstance(table, list):
        return ctx.failed("parameters")
    total = sum(row.get("numel", 0) for row in table if isinstance(row, dict))
    listing = ", ".join(f"{row.get('name')} {tuple(row.get('shape', []))}" for row in table[:8])
    if total == 0:
        return ctx.failed(
            "parameters",
            zh="model.parameters() 里一个参数也没有。层必须作为属性赋给 self（self.fc = nn.Linear(784, 10)），"
            "PyTorch 才会注册它；放在普通 Python 列表或字典里的层不会被注册（要用 nn.ModuleList / nn.ModuleDict），"
            "优化器也就看不到它们。",
            en="model.parameters() is empty. A layer is registered only when it is assigned to an attribute "
            "(self.fc = nn.Linear(784, 10)); layers kept in a plain Python list or dict are invisible (use "
            "nn.ModuleList / nn.ModuleDict), so an optimizer would never train them.",
        )
    if total != EXPECTED_PARAMETERS:
        return ctx.failed(
            "parameters",
            zh=f"注册的参数共 {total} 个（{listing}），应为 7850：nn.Linear(784, 10) 有 784×10 个权重加 10 个偏置。",
            en=f"The module registers {total} parameters ({listing}); expected 7850: nn.Linear(784, 10) has "
            "784×10 weights plus 10 biases.",
        )
    shapes = sorted(tuple(row.get("shape", [])) for row in table)
    if shapes != [(10,), (10, 784)]:
        return ctx.failed(
            "parameters",
            zh=f"参数的形状是 {listing}，应是一个 (10, 784) 的权重和一个 (10,) 的偏置，即一层 nn.Linear(784, 10)。",
            en=f"The parameters are {listing}; expected one (10, 784) weight and one (10,) bias, i.e. a "
            "single nn.Linear(784, 10).",
        )
    frozen = [row.get("name") for row in table if row.get("requires_grad") is not True]
    if frozen:
        return ctx.failed(
            "parameters",
            zh=f"参数 {', '.join(map(str, frozen))} 的 requires_grad 是 False，训练时不会更新。去掉冻结它们的代码。",
            en=f"Parameters {', '.join(map(str, frozen))} have requires_grad=False, so training would not "
            "update them. Remove whatever froze them.",
        )
    return ctx.passed(
        "parameters",
        zh="注册了 7850 个可训练参数：一个 (10, 784) 的权重和一个 (10,) 的偏置。",
        en="7850 trainable parameters are registered: a (10, 784) weight and a (10,) bias.",
    )


def value_outputs(ctx):
    """(batch array, alone array, None) or (None, None, (zh, en))."""
    problem = build_problem(ctx)
    if problem:
        return None, None, problem
    call = f"model(x)，x 的形状为 ({VALUE_BATCH}, 1, 28, 28)"
    call_en = f"model(x) with x of shape ({VALUE_BATCH}, 1, 28, 28)"
    shape, problem = tensor_shape(ctx, "values.batch", call_en)
    if problem:
        return None, None, (problem[0].replace(call_en, call), problem[1])
    if shape != [VALUE_BATCH, 10]:
        return (
            None,
            None,
            (
                f"{call} 的输出形状是 {tuple(shape)!r}，应为 ({VALUE_BATCH}, 10)。",
                f"{call_en} gave shape {tuple(shape)!r}; expected ({VALUE_BATCH}, 10).",
            ),
        )
    alone_call = "model(x)，x 的形状为 (1, 1, 28, 28)"
    alone_call_en = "model(x) with x of shape (1, 1, 28, 28)"
    shape, problem = tensor_shape(ctx, "values.alone", alone_call_en)
    if problem:
        return None, None, (problem[0].replace(alone_call_en, alone_call), problem[1])
    if shape != [1, 10]:
        return (
            None,
            None,
            (
                f"{alone_call} 的输出形状是 {tuple(shape)!r}，应为 (1, 10)。",
                f"{alone_call_en} gave shape {tuple(shape)!r}; expected (1, 10).",
            ),
        )
    batch, alone = ctx.array("values_batch"), ctx.array("values_alone")
    if batch is None or alone is None:
        return None, None, ("没有保存下输出的数值。", "The output values were not recorded.")
    return batch, alone, None


def check_flatten(ctx):
    batch, alone, problem = value_outputs(ctx)
    if problem:
        return ctx.failed("flatten-in-forward", zh=problem[0], en=problem[1])
    if not np.allclose(alone[0].astype(np.float64), batch[LONE_INDEX], atol=TOLERANCE, rtol=TOLERANCE):
        return ctx.failed(
            "flatten-in-forward",
            zh=f"同一张图片单独输入时的输出，和放在 {VALUE_BATCH} 张一批里时不一样：展平把不同样本的像素混在了一起。"
            "每个样本各自展平：x.view(x.size(0), -1)。",
            en=f"One image gave different scores alone than inside a batch of {VALUE_BATCH}: the flattening "
            "mixes pixels of different samples. Flatten each sample on its own: x.view(x.size(0), -1).",
        )
    weights = ctx.observed("weights")
    if not (isinstance(weights, dict) and weights.get("loaded") is True):
        return ctx.passed(
            "flatten-in-forward",
            zh="forward 接受 (N, 1, 28, 28) 的图像，并且每个样本各自展平（模型的参数不对，数值没法进一步核对）。",
            en="forward accepts (N, 1, 28, 28) images and flattens each sample on its own (the parameters are "
            "not a single Linear(784, 10), so the values could not be compared further).",
        )
    expected = expected_scores(ctx)
    if not any(close(batch, form) for form in (expected, softmax(expected), log_softmax(expected))):
        return ctx.failed(
            "flatten-in-forward",
            zh="装入已知权重后，输出和 W·flatten(x) + b 对不上：图像展平的顺序不对。按行展平，不要转置或换轴："
            "x.view(x.size(0), -1)（或 torch.flatten(x, 1)、nn.Flatten()）。",
            en="With known weights loaded, the output does not match W·flatten(x) + b: the image is flattened in "
            "the wrong order. Flatten row by row without transposing or permuting: x.view(x.size(0), -1) "
            "(or torch.flatten(x, 1), nn.Flatten()).",
        )
    return ctx.passed(
        "flatten-in-forward",
        zh="forward 自己把 (N, 1, 28, 28) 的图像逐样本展平成 (N, 784)。",
        en="forward itself flattens (N, 1, 28, 28) images sample by sample into (N, 784).",
    )


def check_logits(ctx):
    batch, _, problem = value_outputs(ctx)
    if problem:
        return ctx.failed("logits", zh=problem[0], en=problem[1])
    weights = ctx.observed("weights")
    if not (isinstance(weights, dict) and weights.get("loaded") is True):
        found = show(weights)
        return ctx.failed(
            "logits",
            zh=f"没法把已知权重装进模型：需要正好一个 (10, 784) 的权重和一个 (10,) 的偏置（观察到 {found}）。"
            "先让参数检查通过。",
            en=f"Known weights could not be loaded: the model needs exactly one (10, 784) weight and one (10,) "
            f"bias (observed {found}). Make the parameters check pass first.",
        )
    expected = expected_scores(ctx)
    if close(batch, expected):
        return ctx.passed(
            "logits",
            zh="输出正是原始分数 W·x + b（logits）。",
            en="The output is exactly the raw scores W·x + b (logits).",
        )
    if close(batch, softmax(expected)):
        return ctx.failed(
            "logits",
            zh="输出是 softmax 之后的概率。forward 应返回原始分数（logits）：nn.CrossEntropyLoss 内部会自己做 "
            "log_softmax，再加一次 softmax 会让训练变慢、变差。需要概率时在模型外面调用 torch.softmax。",
            en="The output is softmax probabilities. forward should return raw scores (logits): "
            "nn.CrossEntropyLoss applies log_softmax itself, and an extra softmax slows and weakens training. "
            "Call torch.softmax outside the model when you need probabilities.",
        )
    if close(batch, log_softmax(expected)):
        return ctx.failed(
            "logits",
            zh="输出是 log_softmax（对数概率）。本试炼的 forward 返回原始分数（logits），交给 nn.CrossEntropyLoss；"
            "log_softmax 搭配的是 nn.NLLLoss。",
            en="The output is log_softmax (log-probabilities). Here forward returns raw scores (logits) for "
            "nn.CrossEntropyLoss; log_softmax goes with nn.NLLLoss.",
        )
    return ctx.failed(
        "logits",
        zh="装入已知权重后，输出不等于 W·flatten(x) + b。forward 只应做两件事：展平，然后过 self.fc。",
        en="With known weights loaded, the output is not W·flatten(x) + b. forward should do two things only: "
        "flatten, then apply self.fc.",
    )
