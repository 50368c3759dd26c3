"""Check for trial 3.1, image-augmentation. Runs outside the sandbox and scores the probe's observations.

Expected values are computed here from the probe's constants (read as literals) and the ImageNet
statistics the statement prescribes: a plain colour c must come out of the validation pipeline as
exactly (c/255 - mean)/std per channel; a grey stays grey under brightness jitter, so a normalised
training output of it, turned back into a pixel value, must agree across the three channels.
"""

from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, show

HERE = Path(__file__).resolve().parent
PROBE = HERE / "probe.py"
DEFAULT_SIZE = literal_from(PROBE, "DEFAULT_SIZE")
OTHER_SIZES = literal_from(PROBE, "OTHER_SIZES")
COLOUR = literal_from(PROBE, "COLOUR")
GREY = literal_from(PROBE, "GREY")
DRAWS = literal_from(PROBE, "DRAWS")
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])
TOLERANCE = 0.02  # in normalised units: about 1.2 grey levels out of 255
FLIP_RANGE = (0.2, 0.8)  # the share of flipped draws that counts as "random", p = 0.5 expected
MIN_JITTER = 0.05  # the smallest spread of brightness factors over the draws

CHECKS = [
    Check(
        "output-format",
        zh="两个变换都输出 3×224×224 的 float32 张量",
        en="Both pipelines output 3×224×224 float32 tensors",
        points=20,
        basis="verified",
        basis_note="the outputs' shapes and dtypes for pictures the driver sends; that build_transforms() returned a pair of callables is observed",
    ),
    Check(
        "normalization",
        zh="输出按 ImageNet 的均值和标准差归一化",
        en="Outputs are normalised with the ImageNet mean and std",
        points=20,
        basis="verified",
        basis_note="measured by the driver on the outputs it receives",
    ),
    Check(
        "val-deterministic",
        zh="验证变换是确定的：不翻转、不抖动",
        en="The validation pipeline is deterministic: no flips, no jitter",
        points=20,
        basis="verified",
        basis_note="repeat differences measured on the outputs the driver receives",
    ),
    Check(
        "random-flip",
        zh="训练变换会随机水平翻转",
        en="The training pipeline flips horizontally at random",
        points=15,
        basis="verified",
        basis_note="flips measured on the outputs the driver receives",
    ),
    Check(
        "brightness-jitter",
        zh="训练变换会随机改变亮度",
        en="The training pipeline jitters the brightness",
        points=15,
        basis="verified",
        basis_note="brightness measured on the outputs the driver receives",
    ),
    Check(
        "other-sizes",
        zh="build_transforms(size) 对其他尺寸同样有效",
        en="build_transforms(size) honours other sizes",
        points=10,
        visible=False,
        basis="verified",
        basis_note="shapes of the outputs for other picture sizes",
    ),
]

PIPELINE_NAMES = {
    "train": ("训练变换", "the training pipeline"),
    "val": ("验证变换", "the validation pipeline"),
}
PICTURE_NAMES = {
    "photo": ("240×160 的照片", "the 240×160 photo"),
    "grey": ("110×150 的竖版灰色图", "a 110×150 portrait grey image"),
    "colour": ("130×90 的纯色图", "a 130×90 plain-colour image"),
    "ramp": ("160×120 的渐变图", "a 160×120 gradient image"),
}


def check(ctx):
    yield ctx.evaluate("output-format", check_format)
    yield ctx.evaluate("normalization", check_normalization)
    yield ctx.evaluate("val-deterministic", check_val_deterministic)
    yield ctx.evaluate("random-flip", check_flip)
    yield ctx.evaluate("brightness-jitter", check_jitter)
    yield ctx.evaluate("other-sizes", check_other_sizes)


# ---------------------------------------------------------------------------------------------------
# Shared pieces


def build_problem(ctx, key, call):
    """Why build_transforms() gave no usable pair, as (zh, en), or None."""
    if error := ctx.error_of(key):
        return f"调用 {call} 出错：\n{error}", f"{call} raised an error:\n{error}"
    value = ctx.observed(key)
    if not isinstance(value, dict):
        return f"没有 {call} 的观测结果。", f"No observation for {call}."
    if not value.get("pair_of_callables"):
        return (
            f"{call} 返回的是 {value.get('type')}，应返回两个变换组成的元组 (train_transform, val_transform)。",
            f"{call} returned a {value.get('type')}; it should return a tuple of two transforms "
            "(train_transform, val_transform).",
        )
    return None


def call_problem(ctx, key, pipeline, picture):
    """Why the probe has nothing for `key` (an error, a non-tensor output), as (zh, en), or None."""
    zh_pipe, en_pipe = PIPELINE_NAMES[pipeline]
    zh_pic, en_pic = PICTURE_NAMES[picture]
    if error := ctx.error_of(key):
        return (
            f"{zh_pipe}处理{zh_pic}时出错：\n{error}",
            f"{en_pipe.capitalize()} raised on {en_pic}:\n{error}",
        )
    value = ctx.observed(key)
    if isinstance(value, dict) and "not_chw" in value:
        return format_problem(value["not_chw"], pipeline, picture, DEFAULT_SIZE)
    return None


def format_problem(summary, pipeline, picture, size):
    """What is wrong with one output summary, as (zh, en), or None when it is a 3×size×size float32 tensor."""
    problem = _format_problem(summary, pipeline, picture, size)
    return None if problem is None else (problem[0], problem[1][:1].upper() + problem[1][1:])


def _format_problem(summary, pipeline, picture, size):
    zh_pipe, en_pipe = PIPELINE_NAMES[pipeline]
    zh_pic, en_pic = PICTURE_NAMES[picture]
    if not isinstance(summary, dict):
        return f"没有{zh_pipe}处理{zh_pic}的结果。", f"No output of {en_pipe} on {en_pic}."
    if not summary.get("is_tensor"):
        kind = summary.get("type", "?")
        return (
            f"{zh_pipe}处理{zh_pic}返回的是 {kind}，不是张量。在最后加上 transforms.ToTensor()"
            "（v2 中是 ToImage() 加 ToDtype(torch.float32, scale=True)），再接 Normalize。",
            f"{en_pipe} returned a {kind} for {en_pic}, not a tensor. End the pipeline with "
            "transforms.ToTensor() (in v2: ToImage() then ToDtype(torch.float32, scale=True)), then Normalize.",
        )
    shape = summary.get("shape")
    expected = [3, size, size]
    if shape != expected:
        zh = f"{zh_pipe}处理{zh_pic}得到的形状是 {show(shape)}，应为 {expected}。"
        en = f"{en_pipe} turned {en_pic} into shape {show(shape)}; expected {expected}."
        if isinstance(shape, list) and len(shape) == 3 and shape[0] == 3 and size in shape[1:]:
            zh += (
                f"Resize({size}) 只把短边缩放到 {size}，长边按比例变化；还需要裁剪成正方形："
                f"训练用 RandomCrop({size}) 或 RandomResizedCrop({size})，验证用 CenterCrop({size})。"
            )
            en += (
                f" Resize({size}) scales only the shorter side to {size}; the longer side keeps the aspect "
                f"ratio. Crop to a square too: RandomCrop({size}) or RandomResizedCrop({size}) for training, "
                f"CenterCrop({size}) for validation."
            )
        elif isinstance(shape, list) and len(shape) == 3 and shape[-1] == 3:
            zh += "通道维应在最前面（C×H×W）：用 ToTensor() 而不是手动 torch.tensor(np.array(img))。"
            en += " Channels come first (C×H×W): use ToTensor() rather than torch.tensor(np.array(img))."
        return zh, en
    if summary.get("dtype") != "torch.float32":
        return (
            f"{zh_pipe}输出的类型是 {summary.get('dtype')}，应为 torch.float32。"
            "v2 中用 ToDtype(torch.float32, scale=True) 把 0–255 的整数变成 0–1 的浮点数。",
            f"{en_pipe} output dtype {summary.get('dtype')}; expected torch.float32. In v2, "
            "ToDtype(torch.float32, scale=True) turns 0–255 integers into 0–1 floats.",
        )
    return None


def first_of(ctx, key, problems, total, zh_ok, en_ok):
    if not problems:
        return ctx.passed(key, zh=zh_ok, en=en_ok)
    zh, en = problems[0]
    if len(problems) > 1:
        zh += f"\n（{total} 项中共有 {len(problems)} 处问题，这里先列出第一处。）"
        en += f"\n({len(problems)} problems in {total} cases; this is the first.)"
    return ctx.failed(key, zh=zh, en=en)


def expected_normalised(pixel):
    return (np.asarray(pixel, dtype=float) / 255.0 - MEAN) / STD


def recovered_pixels(means):
    """Normalised channel means turned back into pixel values in [0, 1]."""
    return np.asarray(means, dtype=float) * STD + MEAN


# ---------------------------------------------------------------------------------------------------
# The checks


def check_format(ctx):
    if problem := build_problem(ctx, "build.default", "build_transforms()"):
        return ctx.failed("output-format", *problem)
    problems = []
    cases = (("train.photo", "train", "photo"), ("val.photo", "val", "photo"))
    cases += (("train.grey", "train", "grey"), ("val.colour", "val", "colour"))
    for key, pipeline, picture in cases:
        if error := ctx.error_of(key):
            zh_pipe, en_pipe = PIPELINE_NAMES[pipeline]
            zh_pic, en_pic = PICTURE_NAMES[picture]
            problems.append(
                (
                    f"{zh_pipe}处理{zh_pic}时出错：\n{error}",
                    f"{en_pipe.capitalize()} raised on {en_pic}:\n{error}",
                )
            )
        elif problem := format_problem(ctx.observed(key), pipeline, picture, DEFAULT_SIZE):
            problems.append(problem)
    return first_of(
        ctx,
        "output-format",
        problems,
        len(cases),
        "横版、竖版图片经过两个变换都得到 3×224×224 的 float32 张量。",
        "Landscape and portrait images both come out of both pipelines as 3×224×224 float32 tensors.",
    )


def check_normalization(ctx):
    if problem := build_problem(ctx, "build.default", "build_transforms()"):
        return ctx.failed("normalization", *problem)
    if problem := call_problem(ctx, "val.colour.values", "val", "colour"):
        return ctx.failed("normalization", *problem)
    stats = ctx.array("val_colour_stats")
    if stats is None or stats.shape != (3, 3):
        return ctx.failed("normalization")
    expected = expected_normalised(COLOUR)
    means, lows, highs = stats[:, 0], stats[:, 1], stats[:, 2]
    if not np.all(np.isfinite(stats)) or np.max(np.abs(means - expected)) > TOLERANCE:
        got = ", ".join(f"{value:.3f}" for value in means)
        want = ", ".join(f"{value:.3f}" for value in expected)
        zh = (
            f"纯色图 RGB{tuple(COLOUR)} 经过验证变换后，三个通道的值是 ({got})，应为 ({want})，"
            "即 (c/255 − mean) / std。"
        )
        en = (
            f"The plain colour RGB{tuple(COLOUR)} came out of the validation pipeline as ({got}) per channel; "
            f"expected ({want}), that is (c/255 − mean) / std."
        )
        raw = np.asarray(COLOUR) / 255.0
        ratios = recovered_pixels(means) / raw
        if np.max(np.abs(means - raw)) < TOLERANCE:
            zh += "这正是没有归一化的值：在 ToTensor() 之后加上 transforms.Normalize(mean, std)。"
            en += " These are the values before normalisation: add transforms.Normalize(mean, std) after ToTensor()."
        elif np.max(np.abs(means - np.asarray(COLOUR))) < 1.0:
            zh += (
                "这是 0–255 的原始像素值：ToTensor() 会把它们缩放到 0–1（v2 中要 ToDtype(..., scale=True)）。"
            )
            en += " These are raw 0–255 pixel values: ToTensor() scales them to 0–1 (in v2, ToDtype(..., scale=True))."
        elif np.ptp(ratios) < 0.02 and abs(float(ratios.mean()) - 1) > 0.02:
            zh += (
                f"按正确的归一化还原，这张图被调亮/调暗了 {float(ratios.mean()):.2f} 倍："
                "验证变换里不应有 ColorJitter。"
            )
            en += (
                f" Undoing the normalisation shows the image scaled by {float(ratios.mean()):.2f} in brightness: "
                "the validation pipeline must not contain ColorJitter."
            )
        else:
            zh += "请检查 Normalize 用的是 mean=(0.485, 0.456, 0.406)、std=(0.229, 0.224, 0.225)，顺序为 R、G、B。"
            en += " Check that Normalize uses mean=(0.485, 0.456, 0.406) and std=(0.229, 0.224, 0.225), in R, G, B order."
        return ctx.failed("normalization", zh=zh, en=en)
    if np.max(highs - lows) > TOLERANCE:
        return ctx.failed(
            "normalization",
            zh="纯色图经过验证变换后不再是纯色：验证变换不应改变像素值（除了缩放和归一化）。",
            en="A plain colour did not stay plain through the validation pipeline: validation should change "
            "nothing but size and scale.",
        )
    # The training pipeline must normalise the same way: a grey stays grey under brightness jitter.
    if problem := call_problem(ctx, "train.grey.values", "train", "grey"):
        return ctx.failed("normalization", *problem)
    train = ctx.array("train_grey_means")
    if train is None or train.ndim != 2 or train.shape[1] != 3 or not np.all(np.isfinite(train)):
        return ctx.failed("normalization")
    pixels = recovered_pixels(train)
    spread = float(np.max(pixels.max(axis=1) - pixels.min(axis=1)))
    if spread > TOLERANCE or pixels.min() < -TOLERANCE or pixels.max() > 1 + TOLERANCE:
        return ctx.failed(
            "normalization",
            zh=(
                f"灰色图经过训练变换后，按 ImageNet 的均值和标准差还原，三个通道不再相等（最大相差 {spread:.3f}）："
                "训练变换的归一化和验证变换不一致。两个变换最后都要 ToTensor() + Normalize(mean, std)，参数相同。"
            ),
            en=(
                f"A grey image through the training pipeline, mapped back with the ImageNet mean and std, has "
                f"channels that differ by up to {spread:.3f}: the training pipeline does not normalise like the "
                "validation one. End both with ToTensor() + Normalize(mean, std), with the same numbers."
            ),
        )
    return ctx.passed(
        "normalization",
        zh="验证输出恰好是 (c/255 − mean) / std；训练输出也用同样的均值和标准差归一化。",
        en="Validation outputs are exactly (c/255 − mean) / std, and training outputs use the same statistics.",
    )


def check_val_deterministic(ctx):
    if problem := build_problem(ctx, "build.default", "build_transforms()"):
        return ctx.failed("val-deterministic", *problem)
    for key, picture in (("val.repeat", "photo"), ("val.ramp", "ramp"), ("val.grey", "grey")):
        if problem := call_problem(ctx, key, "val", picture):
            return ctx.failed("val-deterministic", *problem)
    repeat = ctx.observed("val.repeat")
    if not isinstance(repeat, dict) or not isinstance(repeat.get("differences"), list):
        return ctx.failed("val-deterministic")
    differences = repeat["differences"]
    changed = [d for d in differences if not isinstance(d, int | float) or d > 1e-6]
    if changed:
        return ctx.failed(
            "val-deterministic",
            zh=(
                f"同一张照片连续经过验证变换 {len(differences)} 次，有 {len(changed)} 次结果和第一次不同。"
                "验证变换里不能有随机操作（RandomCrop、RandomHorizontalFlip、ColorJitter……）："
                "验证要衡量模型本身，每次都得看到同样的输入。用 Resize + CenterCrop + ToTensor + Normalize。"
            ),
            en=(
                f"The same photo went through the validation pipeline {len(differences)} times and {len(changed)} "
                "results differed from the first. Validation must not be random (no RandomCrop, "
                "RandomHorizontalFlip, ColorJitter…): it measures the model, so it must see the same input every "
                "time. Use Resize + CenterCrop + ToTensor + Normalize."
            ),
        )
    ramp = ctx.observed("val.ramp")
    flips = ramp.get("flips") if isinstance(ramp, dict) else None
    if not isinstance(flips, list) or not flips:
        return ctx.failed("val-deterministic")
    if any(isinstance(pair, list) and any(pair) for pair in flips):
        return ctx.failed(
            "val-deterministic",
            zh="验证变换把渐变图翻转了。翻转是训练时的数据增强，验证时不要翻转。",
            en="The validation pipeline flipped the gradient image. Flipping is training-time augmentation; "
            "validation must not flip.",
        )
    grey = ctx.array("val_grey_means")
    if grey is None or grey.ndim != 2 or not np.all(np.isfinite(grey)):
        return ctx.failed("val-deterministic")
    if float(np.max(grey.max(axis=0) - grey.min(axis=0))) > 1e-6:
        return ctx.failed(
            "val-deterministic",
            zh="灰色图多次经过验证变换，亮度每次都不一样：ColorJitter 只能放在训练变换里。",
            en="A grey image came out of the validation pipeline with a different brightness each time: "
            "ColorJitter belongs in the training pipeline only.",
        )
    return ctx.passed(
        "val-deterministic",
        zh="验证变换每次给出相同的结果，不翻转、不改亮度。",
        en="The validation pipeline gives the same result every time, with no flips and no jitter.",
    )


def check_flip(ctx):
    if problem := build_problem(ctx, "build.default", "build_transforms()"):
        return ctx.failed("random-flip", *problem)
    if problem := call_problem(ctx, "train.ramp", "train", "ramp"):
        return ctx.failed("random-flip", *problem)
    ramp = ctx.observed("train.ramp")
    flips = ramp.get("flips") if isinstance(ramp, dict) else None
    if (
        not isinstance(flips, list)
        or len(flips) != DRAWS
        or not all(isinstance(p, list) and len(p) == 2 for p in flips)
    ):
        return ctx.failed("random-flip")
    horizontal = sum(1 for pair in flips if pair[0] is True)
    vertical = sum(1 for pair in flips if pair[1] is True)
    low, high = FLIP_RANGE
    if low * DRAWS <= horizontal <= high * DRAWS:
        return ctx.passed(
            "random-flip",
            zh=f"{DRAWS} 次训练变换中有 {horizontal} 次左右翻转：翻转是随机的。",
            en=f"{horizontal} of {DRAWS} training draws were flipped left-right: the flip is random.",
        )
    if horizontal == 0 and vertical:
        return ctx.failed(
            "random-flip",
            zh=(
                f"{DRAWS} 次训练变换中没有一次左右翻转，却有 {vertical} 次上下翻转。"
                "照片上下颠倒就不像真实世界了：用 RandomHorizontalFlip()，不是 RandomVerticalFlip()。"
            ),
            en=(
                f"None of {DRAWS} training draws was flipped left-right, but {vertical} were flipped upside down. "
                "Upside-down photos are not what the model will meet: use RandomHorizontalFlip(), not "
                "RandomVerticalFlip()."
            ),
        )
    if horizontal == 0:
        return ctx.failed(
            "random-flip",
            zh=f"{DRAWS} 次训练变换中没有一次左右翻转。在训练变换里加上 transforms.RandomHorizontalFlip()。",
            en=f"None of {DRAWS} training draws was flipped left-right. Add transforms.RandomHorizontalFlip() "
            "to the training pipeline.",
        )
    return ctx.failed(
        "random-flip",
        zh=(
            f"{DRAWS} 次训练变换中有 {horizontal} 次左右翻转，不像是随机的（应在 {int(low * DRAWS)} 到 "
            f"{int(high * DRAWS)} 次之间）。翻转要以一定概率发生，用 RandomHorizontalFlip(p=0.5)，而不是每次都翻转。"
        ),
        en=(
            f"{horizontal} of {DRAWS} training draws were flipped left-right, which is not random (expected "
            f"between {int(low * DRAWS)} and {int(high * DRAWS)}). Flip with a probability, "
            "RandomHorizontalFlip(p=0.5), not every time."
        ),
    )


def check_jitter(ctx):
    if problem := build_problem(ctx, "build.default", "build_transforms()"):
        return ctx.failed("brightness-jitter", *problem)
    if problem := call_problem(ctx, "train.grey.values", "train", "grey"):
        return ctx.failed("brightness-jitter", *problem)
    train = ctx.array("train_grey_means")
    if train is None or train.ndim != 2 or train.shape != (DRAWS, 3) or not np.all(np.isfinite(train)):
        return ctx.failed("brightness-jitter")
    factors = recovered_pixels(train).mean(axis=1) / (GREY / 255.0)
    spread = float(factors.max() - factors.min())
    if spread < MIN_JITTER:
        return ctx.failed(
            "brightness-jitter",
            zh=(
                f"同一张灰色图经过 {DRAWS} 次训练变换，亮度几乎没变（倍数在 {factors.min():.3f} 到 "
                f"{factors.max():.3f} 之间）。在训练变换里加上 transforms.ColorJitter(brightness=0.2)，"
                "让模型见到明暗不同的图片。"
            ),
            en=(
                f"The same grey image went through the training pipeline {DRAWS} times and its brightness "
                f"barely moved (factors {factors.min():.3f} to {factors.max():.3f}). Add "
                "transforms.ColorJitter(brightness=0.2) so the model sees lighter and darker versions."
            ),
        )
    return ctx.passed(
        "brightness-jitter",
        zh=f"{DRAWS} 次训练变换中亮度倍数在 {factors.min():.2f} 到 {factors.max():.2f} 之间变化。",
        en=f"Over {DRAWS} training draws the brightness factor ranged from {factors.min():.2f} to {factors.max():.2f}.",
    )


def check_other_sizes(ctx):
    problems = []
    total = 0
    for size in OTHER_SIZES:
        call = f"build_transforms({size})"
        if problem := build_problem(ctx, f"build.{size}", call):
            problems.append(problem)
            continue
        for pipeline, picture in (("train", "photo"), ("val", "photo"), ("train", "grey"), ("val", "colour")):
            total += 1
            key = f"size{size}.{pipeline}.{picture}"
            if error := ctx.error_of(key):
                zh_pipe, en_pipe = PIPELINE_NAMES[pipeline]
                problems.append(
                    (f"{call} 的{zh_pipe}出错：\n{error}", f"The {en_pipe} of {call} raised:\n{error}")
                )
            elif problem := format_problem(ctx.observed(key), pipeline, picture, size):
                zh, en = problem
                problems.append(
                    (
                        f"{call}：{zh}不要把 224 写死，用参数 size。",
                        f"{call}: {en} Do not hard-code 224; use the size argument.",
                    )
                )
    return first_of(
        ctx,
        "other-sizes",
        problems,
        max(total, 1),
        f"尺寸 {OTHER_SIZES} 也都输出正确形状的张量。",
        f"Sizes {OTHER_SIZES} give tensors of the right shape too.",
    )
