"""Check for trial 2.2, model-summary. Runs outside the sandbox and scores the driver's observations.

The true summaries live in hidden/expected.json (written by generate.py from the driver's own model
builders, with forward hooks rather than torchinfo), so they never enter the sandbox and never come
from the student's output.

Verified (summarize()'s answers, and FixedNet's output shapes, reached the driver as data):
total-params, trainable-params, layer-shapes, layer-params, the output shapes of fixed-model.
Observed (counted in the student's process): fixed-model's parameter total, Linear layers and leaf layers.
"""

import json
from pathlib import Path

from exercises.kit.check import Check, literal_from, show

HERE = Path(__file__).resolve().parent
FIXED_BATCHES = literal_from(HERE / "probe.py", "FIXED_BATCHES")
EXPECTED = json.loads((HERE / "hidden" / "expected.json").read_text(encoding="utf-8"))
MODELS = EXPECTED["models"]
FIXED = EXPECTED["fixed"]
FIXED_LINEAR = [[256, 120], [120, 10]]

CHECKS = [
    Check(
        "total-params",
        zh="总参数量正确",
        en="Total parameter counts are right",
        points=20,
        basis="verified",
        basis_note="summarize()'s answer against hidden/expected.json",
    ),
    Check(
        "trainable-params",
        zh="可训练参数量正确（冻结的不算）",
        en="Trainable parameter counts are right (frozen ones excluded)",
        points=15,
        basis="verified",
        basis_note="summarize()'s answer against hidden/expected.json",
    ),
    Check(
        "layer-shapes",
        zh="每一层的输出形状正确、顺序正确",
        en="Every layer's output shape, in the order the layers run",
        points=25,
        visible=False,
        basis="verified",
        basis_note="summarize()'s answer against hidden/expected.json",
    ),
    Check(
        "layer-params",
        zh="每一层的参数量正确",
        en="Every layer's parameter count",
        points=15,
        visible=False,
        basis="verified",
        basis_note="summarize()'s answer against hidden/expected.json",
    ),
    Check(
        "fixed-model",
        zh="修好了 BrokenNet 的维度不匹配",
        en="BrokenNet's dimension mismatch is fixed",
        points=25,
        basis="verified",
        basis_note="the fixed model's output shapes on the driver's inputs; its parameter total, Linear and leaf layers are observed",
    ),
]


def check(ctx):
    yield ctx.evaluate("total-params", check_total)
    yield ctx.evaluate("trainable-params", check_trainable)
    yield ctx.evaluate("layer-shapes", check_layer_shapes)
    yield ctx.evaluate("layer-params", check_layer_params)
    yield ctx.evaluate("fixed-model", check_fixed)


# ---------------------------------------------------------------------------------------------------
# Shared pieces


def integer(value):
    """An observed whole number as an int (ints, or floats like 837.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def returned_summary(ctx, name):
    """(summary dict, None) or (None, (zh, en)) for summarize() on the model `name`."""
    call = f"summarize(<{name}>)"
    error = ctx.error_of(f"summary.{name}")
    if error:
        return None, (f"调用 {call} 出错了：\n{error}", f"{call} raised an error:\n{error}")
    value = ctx.observed(f"summary.{name}")
    if not isinstance(value, dict):
        return None, (
            f"{call} 应返回一个 dict，实际返回的是 {show(value)}。",
            f"{call} should return a dict; it returned {show(value)}.",
        )
    return value, None


def returned_layers(ctx, name):
    """(list of (type, shape, params), None) or (None, (zh, en))."""
    summary, problem = returned_summary(ctx, name)
    if problem:
        return None, problem
    layers = summary.get("layers")
    call = f"summarize(<{name}>)"
    if not isinstance(layers, list):
        return None, (
            f"{call} 返回的 dict 里 'layers' 应是一个列表，实际是 {show(layers)}。",
            f"'layers' in what {call} returned should be a list; it is {show(layers)}.",
        )
    rows = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict) or not {"type", "output_shape", "params"} <= set(layer):
            return None, (
                f"{call} 的第 {index} 个 layer 应是带 'type'、'output_shape'、'params' 三个键的 dict，实际是 {show(layer)}。",
                f"Layer {index} from {call} should be a dict with 'type', 'output_shape' and 'params'; it is {show(layer)}.",
            )
        shape = layer["output_shape"]
        shape = [integer(size) for size in shape] if isinstance(shape, list) else shape
        rows.append((layer["type"], shape, integer(layer["params"])))
    return rows, None


def verdict(ctx, key, problems, zh_ok, en_ok):
    if not problems:
        return ctx.passed(key, zh=zh_ok, en=en_ok)
    zh, en = problems[0]
    if len(problems) > 1:
        zh += f"\n（{len(MODELS)} 个模型中共有 {len(problems)} 个有问题，这里先列出第一个。）"
        en += f"\n({len(problems)} of {len(MODELS)} models have problems; this is the first.)"
    return ctx.failed(key, zh=zh, en=en)


def describe_layers(rows):
    return "; ".join(f"{kind} {shape}" for kind, shape, _ in rows)


# ---------------------------------------------------------------------------------------------------
# The checks


def check_total(ctx):
    problems = []
    for name, expected in MODELS.items():
        summary, problem = returned_summary(ctx, name)
        if problem:
            problems.append(problem)
            continue
        got = integer(summary.get("total_params"))
        want = expected["total_params"]
        if got == want:
            continue
        zh = f"<{name}> 的 total_params 是 {show(summary.get('total_params'))}，应为 {want}。"
        en = f"total_params for <{name}> is {show(summary.get('total_params'))}; expected {want}."
        if got is not None and expected["buffers"] and got == want + expected["buffers"]:
            zh += "你把缓冲区（BatchNorm 的 running_mean、running_var 等）也算进去了：它们不是参数，数 model.parameters()，不要数 state_dict()。"
            en += " You counted buffers too (BatchNorm's running_mean, running_var, …): they are not parameters. Count model.parameters(), not state_dict()."
        elif got is not None and got == expected["trainable_params"] != want:
            zh += "你只数了可训练的参数；冻结的参数（requires_grad=False）也属于模型，要算进总数。"
            en += " You counted only the trainable ones; frozen parameters (requires_grad=False) still belong to the model and count in the total."
        problems.append((zh, en))
    return verdict(
        ctx,
        "total-params",
        problems,
        f"{len(MODELS)} 个模型的总参数量全部正确。",
        f"Total parameters were right for all {len(MODELS)} models.",
    )


def check_trainable(ctx):
    problems = []
    for name, expected in MODELS.items():
        summary, problem = returned_summary(ctx, name)
        if problem:
            problems.append(problem)
            continue
        got = integer(summary.get("trainable_params"))
        want = expected["trainable_params"]
        if got == want:
            continue
        zh = f"<{name}> 的 trainable_params 是 {show(summary.get('trainable_params'))}，应为 {want}。"
        en = f"trainable_params for <{name}> is {show(summary.get('trainable_params'))}; expected {want}."
        if got is not None and got == expected["total_params"] != want:
            zh += "这个模型有一部分参数被冻结了（requires_grad=False），它们不可训练：只数 p.requires_grad 为 True 的参数。"
            en += " Part of this model is frozen (requires_grad=False); those parameters are not trainable: count only parameters with p.requires_grad."
        problems.append((zh, en))
    return verdict(
        ctx,
        "trainable-params",
        problems,
        "可训练参数量全部正确，冻结的参数没有算进去。",
        "Trainable parameter counts were all right; frozen parameters were left out.",
    )


def layer_list_problem(name, rows, expected_rows):
    """(zh, en) when the (type, shape) sequence differs from the expected one, else None."""
    got = [(kind, shape) for kind, shape, _ in rows]
    want = [(kind, shape) for kind, shape, _ in expected_rows]
    if got == want:
        return None
    expected_text = describe_layers(expected_rows)
    got_text = describe_layers(rows) or "（空）"
    expected_kinds = {kind for kind, _, _ in expected_rows}
    if len(rows) > len(expected_rows) and any(kind not in expected_kinds for kind, _, _ in rows):
        return (
            f"<{name}> 列出了 {len(rows)} 层，其中有 Sequential 或模型本身这样的容器。只列叶子层（没有子模块的层）：{expected_text}。",
            f"<{name}> lists {len(rows)} layers, including containers such as Sequential or the model itself. List leaf layers "
            f"only (modules without children): {expected_text}.",
        )
    if sorted(map(repr, got)) == sorted(map(repr, want)):
        return (
            f"<{name}> 的层都对，但顺序不对：你给出的是 {got_text}；模型运行时的顺序是 {expected_text}。"
            "层在 __init__ 里定义的顺序不一定是 forward 执行的顺序——按执行顺序列出（torchinfo 和前向钩子都是这样）。",
            f"<{name}> has the right layers in the wrong order: you gave {got_text}; they run as "
            f"{expected_text}. The order layers are defined in __init__ need not be the order forward runs "
            "them: list them as they run (torchinfo and forward hooks both do).",
        )
    if len(got) == len(want) and all(
        kind == want_kind and isinstance(shape, list) and shape == want_shape[1:]
        for (kind, shape), (want_kind, want_shape) in zip(got, want, strict=True)
    ):
        return (
            f"<{name}> 的输出形状少了批维度：例如第一层应为 {want[0][1]}，你给的是 {got[0][1]}。"
            "输出形状包含批大小，和 torchinfo 的 Output Shape 一栏一样。",
            f"The output shapes of <{name}> lack the batch dimension: the first layer should be "
            f"{want[0][1]}, you gave {got[0][1]}. Output shapes include the batch size, like torchinfo's "
            "Output Shape column.",
        )
    return (
        f"<{name}> 的层列表是 {got_text}；应为 {expected_text}。",
        f"The layers of <{name}> are {got_text}; expected {expected_text}.",
    )


def check_layer_shapes(ctx):
    problems = []
    for name, expected in MODELS.items():
        rows, problem = returned_layers(ctx, name)
        if problem is None:
            problem = layer_list_problem(name, rows, expected["layers"])
        if problem:
            problems.append(problem)
    return verdict(
        ctx,
        "layer-shapes",
        problems,
        "每个模型的叶子层、输出形状和执行顺序都正确。",
        "Every model's leaf layers, output shapes and running order were right.",
    )


def check_layer_params(ctx):
    problems = []
    for name, expected in MODELS.items():
        rows, problem = returned_layers(ctx, name)
        if problem:
            problems.append(problem)
            continue
        got = [(kind, params) for kind, _, params in rows]
        want = [(kind, params) for kind, _, params in expected["layers"]]
        if got == want:
            continue
        if [kind for kind, _ in got] != [kind for kind, _ in want]:
            problems.append(
                (
                    f"<{name}> 的层列表和模型对不上，没法逐层比较参数量（见“每一层的输出形状”检查）。",
                    f"The layer list of <{name}> does not match the model, so parameters cannot be compared "
                    "layer by layer (see the layer-shapes check).",
                )
            )
            continue
        index = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        kind, params = got[index]
        problems.append(
            (
                f"<{name}> 的第 {index} 层 {kind} 报告了 {show(params)} 个参数，应为 {want[index][1]}"
                "（权重加偏置；BatchNorm 的 weight 和 bias 算参数，running_mean/var 不算）。",
                f"Layer {index} of <{name}> ({kind}) reports {show(params)} parameters; expected "
                f"{want[index][1]} (weights plus biases; BatchNorm's weight and bias count, its running "
                "mean/var do not).",
            )
        )
    return verdict(
        ctx,
        "layer-params",
        problems,
        "每一层的参数量都正确。",
        "Every layer's parameter count was right.",
    )


def check_fixed(ctx):
    error = ctx.error_of("fixed.build")
    if error:
        return ctx.failed(
            "fixed-model", zh=f"FixedNet() 出错了：\n{error}", en=f"FixedNet() raised an error:\n{error}"
        )
    built = ctx.observed("fixed.build")
    if not isinstance(built, dict) or built.get("is_module") is not True:
        return ctx.failed(
            "fixed-model",
            zh=f"FixedNet() 应构造出一个 nn.Module，观察到 {show(built)}。",
            en=f"FixedNet() should build an nn.Module; observed {show(built)}.",
        )
    for name, batch in FIXED_BATCHES:
        key = f"fixed.{name}"
        error = ctx.error_of(key)
        call = f"FixedNet()(x)，x 的形状为 ({batch}, 1, 28, 28)"
        call_en = f"FixedNet()(x) with x of shape ({batch}, 1, 28, 28)"
        if error:
            return ctx.failed(
                "fixed-model",
                zh=f"{call} 出错了：\n{error}\n用 summary(model.features, input_size=(64, 1, 28, 28)) 看卷积部分最后的输出形状，"
                "Flatten 之后的长度就是第一个 Linear 的 in_features。",
                en=f"{call_en} raised an error:\n{error}\nLook at the last output shape of the convolutional part with "
                "summary(model.features, input_size=(64, 1, 28, 28)): its flattened length is the first Linear's in_features.",
            )
        value = ctx.observed(key)
        shape = value.get("shape") if isinstance(value, dict) else None
        if shape != [batch, 10]:
            return ctx.failed(
                "fixed-model",
                zh=f"{call} 的输出是 {show(value)}，应为形状 ({batch}, 10) 的张量。",
                en=f"{call_en} gave {show(value)}; expected a tensor of shape ({batch}, 10).",
            )
    linear = built.get("linear")
    if linear != FIXED_LINEAR or built.get("total") != FIXED["total_params"]:
        return ctx.failed(
            "fixed-model",
            zh=f"FixedNet 能运行了，但网络被改动了：它有 {show(built.get('total'))} 个参数、Linear 层为 {show(linear)}；"
            f"只修正第一个 Linear 的 in_features 时应有 {FIXED['total_params']} 个参数、Linear 层为 {FIXED_LINEAR}"
            "（16 个通道 × 4 × 4 = 256）。卷积部分保持原样。",
            en=f"FixedNet runs, but the network was changed: it has {show(built.get('total'))} parameters and "
            f"Linear layers {show(linear)}; fixing only the first Linear's in_features gives "
            f"{FIXED['total_params']} parameters and Linear layers {FIXED_LINEAR} (16 channels × 4 × 4 = 256). "
            "Keep the convolutional part as it is.",
        )
    return ctx.passed(
        "fixed-model",
        zh="FixedNet 把 (N, 1, 28, 28) 映射到 (N, 10)，第一个 Linear 的 in_features 是 256，共 34622 个参数。",
        en="FixedNet maps (N, 1, 28, 28) to (N, 10); the first Linear takes 256 features; 34622 parameters in all.",
    )
