"""Check for trial 3.4, grad-cam. Runs outside the sandbox and scores the driver's observations.

Where each object lies comes from hidden/cam_regions.npz, which never enters the sandbox; image sizes
and counts come from the probe's constants (read as literals) and generate.py.

Verified (the heatmaps and overlays reached the driver as data): heatmap-shape, heatmap-range,
overlay, peak-in-object. Observed (hooks in the student's process): uses-gradients, eval-mode.
"""

from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, number, show

HERE = Path(__file__).resolve().parent
PROBE = HERE / "probe.py"
IMAGES = literal_from(HERE / "generate.py", "IMAGES")
LARGE_SIZE = literal_from(PROBE, "LARGE_SIZE")
LARGE_COUNT = literal_from(PROBE, "LARGE_COUNT")
BLOB_CENTRE = literal_from(PROBE, "BLOB_CENTRE")
SIZE = 64
MARGIN = 3  # pixels around the object's box that still count as "on the object" (a feature cell is 4)
PEAK_SHARE = 0.8
RANGE_TOLERANCE = 1e-4

CHECKS = [
    Check(
        "heatmap-shape",
        zh="每张图一个与图片同样大小的热力图",
        en="One heatmap per image, as large as the image",
        points=20,
        basis="verified",
        basis_note="the heatmaps returned as data",
    ),
    Check(
        "heatmap-range",
        zh="热力图的值在 [0, 1] 之间",
        en="Heatmap values lie in [0, 1]",
        points=15,
        basis="verified",
        basis_note="the heatmaps returned as data",
    ),
    Check(
        "uses-gradients",
        zh="热力图来自模型的前向与梯度",
        en="Heatmaps come from the model's forward pass and gradients",
        points=15,
        basis="observed",
        basis_note="hooks in the student's process see whether gradients were used",
    ),
    Check(
        "eval-mode",
        zh="Grad-CAM 在 eval() 模式下计算，结束时模型仍是 eval()",
        en="Grad-CAM runs in eval() mode and leaves the model in eval()",
        points=20,
        basis="observed",
        basis_note="the model's mode and BatchNorm statistics, seen in the student's process",
    ),
    Check(
        "overlay",
        zh="叠加图是 H×W×3 的 uint8 图片",
        en="The overlay is an H×W×3 uint8 picture",
        points=10,
        basis="verified",
        basis_note="the overlays returned as data",
    ),
    Check(
        "peak-in-object",
        zh=f"至少 {PEAK_SHARE:.0%} 的热力图峰值落在物体上",
        en=f"At least {PEAK_SHARE:.0%} of heatmap peaks fall on the object",
        points=20,
        visible=False,
        basis="verified",
        basis_note="the heatmaps' peaks against the boxes in hidden/",
    ),
]

CASES = {
    "cam.main": (IMAGES, SIZE, f"{IMAGES} 张 64×64 图片", f"{IMAGES} images of 64×64"),
    "cam.single": (1, SIZE, "1 张 64×64 图片", "a batch of one 64×64 image"),
    "cam.large": (LARGE_COUNT, LARGE_SIZE, f"{LARGE_COUNT} 张 96×96 图片", f"{LARGE_COUNT} images of 96×96"),
}


def check(ctx):
    yield ctx.evaluate("heatmap-shape", check_shape)
    yield ctx.evaluate("heatmap-range", check_range)
    yield ctx.evaluate("uses-gradients", check_gradients)
    yield ctx.evaluate("eval-mode", check_eval)
    yield ctx.evaluate("overlay", check_overlay)
    yield ctx.evaluate("peak-in-object", check_peaks)


def call_problem(ctx, key):
    """Why grad_cam() gave nothing usable for `key`, as (zh, en), or None."""
    _, _, what_zh, what_en = CASES[key]
    if error := ctx.error_of(key):
        return f"对{what_zh}调用 grad_cam 出错：\n{error}", f"grad_cam raised on {what_en}:\n{error}"
    value = ctx.observed(key)
    if not isinstance(value, dict):
        return f"没有{what_zh}的 grad_cam 结果。", f"No grad_cam result for {what_en}."
    if "shape" not in value or "finite" not in value:
        return (
            f"对{what_zh}，grad_cam 返回的是 {value.get('type')}，应返回 numpy 数组或张量 (N, H, W)。",
            f"For {what_en} grad_cam returned a {value.get('type')}; it should return a numpy array or a "
            "tensor of shape (N, H, W).",
        )
    return None


def shape_problem(ctx, key):
    if problem := call_problem(ctx, key):
        return problem
    count, size, what_zh, what_en = CASES[key]
    value = ctx.observed(key)
    expected = [count, size, size]
    if value["shape"] == expected:
        return None
    zh = f"对{what_zh}，热力图的形状是 {show(value['shape'])}，应为 {expected}。"
    en = f"For {what_en} the heatmaps have shape {show(value['shape'])}; expected {expected}."
    shape = value["shape"]
    if count == 1 and shape == [size, size]:
        zh += "批大小为 1 时批维度被挤掉了：不要对结果调用 squeeze()。"
        en += " The batch dimension of a batch of one was squeezed away: do not squeeze() the result."
    elif isinstance(shape, list) and len(shape) >= 2 and shape[-1] < size and shape[-1] == shape[-2]:
        zh += (
            f"{shape[-1]}×{shape[-1]} 是卷积特征图的大小：要把热力图上采样到图片大小"
            "（F.interpolate(..., size=images.shape[-2:], mode='bilinear')），pytorch-grad-cam 会自动做这一步。"
        )
        en += (
            f" {shape[-1]}×{shape[-1]} is the size of the feature map: upsample the heatmap to the image size "
            "(F.interpolate(..., size=images.shape[-2:], mode='bilinear')); pytorch-grad-cam does this for you."
        )
    elif size == LARGE_SIZE and shape == [count, SIZE, SIZE]:
        zh += "不要把 64 写死：热力图要和输入图片一样大，用 images.shape[-2:]。"
        en += " Do not hard-code 64: the heatmap must match the input, images.shape[-2:]."
    return zh, en


def check_shape(ctx):
    for key in CASES:
        if problem := shape_problem(ctx, key):
            return ctx.failed("heatmap-shape", *problem)
    return ctx.passed(
        "heatmap-shape",
        zh=f"{IMAGES} 张、1 张和 {LARGE_COUNT} 张 96×96 图片的热力图形状都正确。",
        en=f"Heatmaps have the right shape for {IMAGES} images, for one, and for {LARGE_COUNT} of 96×96.",
    )


def check_range(ctx):
    if problem := call_problem(ctx, "cam.main"):
        return ctx.failed("heatmap-range", *problem)
    value = ctx.observed("cam.main")
    if not value.get("finite"):
        return ctx.failed(
            "heatmap-range",
            zh="热力图里有 NaN 或无穷大：归一化时分母可能为 0，给它加一个很小的下限。",
            en="The heatmaps hold NaN or infinity: a normalisation may divide by zero; clamp the denominator.",
        )
    low, high = number(value.get("min")), number(value.get("max"))
    if low is None or high is None:
        return ctx.failed("heatmap-range")
    if low < -RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
        return ctx.failed(
            "heatmap-range",
            zh=(
                f"热力图的取值范围是 [{low:.3g}, {high:.3g}]，应在 [0, 1] 内。Grad-CAM 对加权和取 ReLU"
                "（只保留支持该类别的区域），再按每张图的最小值和最大值缩放到 [0, 1]。"
            ),
            en=(
                f"Heatmap values range over [{low:.3g}, {high:.3g}]; they should lie in [0, 1]. Grad-CAM takes "
                "the ReLU of the weighted sum (keeping only what speaks for the class), then scales each image's "
                "map by its own minimum and maximum into [0, 1]."
            ),
        )
    heatmaps = ctx.array("heatmaps")
    if heatmaps is None or heatmaps.ndim != 3:
        return ctx.failed("heatmap-range", *shape_problem(ctx, "cam.main") or ("", ""))
    spread = heatmaps.reshape(len(heatmaps), -1)
    flat = int(np.sum(spread.max(axis=1) - spread.min(axis=1) < 0.1))
    if flat:
        return ctx.failed(
            "heatmap-range",
            zh=f"{len(heatmaps)} 张热力图中有 {flat} 张几乎是平的（最大值与最小值相差不到 0.1）：热力图应突出某些区域。",
            en=f"{flat} of {len(heatmaps)} heatmaps are almost flat (max − min below 0.1): a heatmap should "
            "highlight something.",
        )
    return ctx.passed(
        "heatmap-range",
        zh=f"热力图的值在 [{low:.2f}, {high:.2f}] 之内。",
        en=f"Heatmap values lie within [{low:.2f}, {high:.2f}].",
    )


def forwards_of(ctx, key):
    value = ctx.observed(key)
    calls = value.get("forwards") if isinstance(value, dict) else None
    if not isinstance(calls, list) or not all(isinstance(c, list) and len(c) == 2 for c in calls):
        return None
    return calls


def check_gradients(ctx):
    if problem := call_problem(ctx, "cam.main"):
        return ctx.failed("uses-gradients", *problem)
    calls = forwards_of(ctx, "cam.main")
    if calls is None:
        return ctx.failed("uses-gradients")
    if not calls:
        return ctx.failed(
            "uses-gradients",
            zh=(
                "grad_cam 没有调用模型的前向传播：热力图不是模型算出来的。Grad-CAM 要把图片送进模型，"
                "对预测类别的分数求梯度，用梯度给最后一层卷积特征加权。"
            ),
            en=(
                "grad_cam never ran the model's forward pass, so the heatmaps are not the model's. Grad-CAM "
                "feeds the images through the model, takes the gradient of the predicted class's score, and "
                "uses it to weight the last convolutional features."
            ),
        )
    if not any(grad for _, grad in calls):
        return ctx.failed(
            "uses-gradients",
            zh=(
                "模型的每次前向都在 torch.no_grad()（或 inference_mode）下运行，这样没法求梯度。"
                "Grad-CAM 需要梯度：计算热力图时不要关掉 autograd（eval() 就够了，它不会关掉梯度）。"
            ),
            en=(
                "Every forward pass ran under torch.no_grad() (or inference_mode), so there are no gradients. "
                "Grad-CAM needs them: keep autograd on while computing the heatmap (eval() is enough; it does "
                "not switch gradients off)."
            ),
        )
    return ctx.passed(
        "uses-gradients",
        zh=f"grad_cam 运行了 {len(calls)} 次模型前向，并开启了梯度。",
        en=f"grad_cam ran the model {len(calls)} time(s) with gradients on.",
    )


def check_eval(ctx):
    if problem := call_problem(ctx, "cam.main"):
        return ctx.failed("eval-mode", *problem)
    for key in CASES:
        value = ctx.observed(key)
        calls = forwards_of(ctx, key)
        if calls is None or not isinstance(value, dict):
            continue
        if any(training for training, _ in calls):
            return ctx.failed(
                "eval-mode",
                zh=(
                    "交给 grad_cam 的模型处于训练模式，而它在训练模式下做了前向：BatchNorm 用的是这一批的统计量"
                    "（还改写了 running_mean），Dropout 随机丢弃特征，热力图因此不可靠。计算之前先调用 model.eval()。"
                ),
                en=(
                    "The model reached grad_cam in training mode and ran forward in training mode: BatchNorm used "
                    "this batch's statistics (and overwrote running_mean), Dropout dropped features at random, so "
                    "the heatmaps are not reliable. Call model.eval() first."
                ),
            )
        if value.get("training_after") is not False and not calls:
            return ctx.failed(
                "eval-mode",
                zh=(
                    "模型以训练模式交给 grad_cam，返回时仍是训练模式。解释模型之前先调用 model.eval()"
                    "（pytorch-grad-cam 的 GradCAM 会替你调用）。"
                ),
                en=(
                    "The model came to grad_cam in training mode and left it in training mode. Call model.eval() "
                    "before explaining a model (pytorch-grad-cam's GradCAM does it for you)."
                ),
            )
        if value.get("training_after") is not False:
            return ctx.failed(
                "eval-mode",
                zh=(
                    "grad_cam 结束时模型又回到了训练模式。pytorch-grad-cam 会自己调用 model.eval()，"
                    "之后不要再调用 model.train()：解释模型时它应保持评估模式。"
                ),
                en=(
                    "When grad_cam returned, the model was back in training mode. pytorch-grad-cam calls "
                    "model.eval() itself; do not call model.train() afterwards: a model being explained stays "
                    "in eval mode."
                ),
            )
    if ctx.observed("bn.changed") is not False:
        return ctx.failed(
            "eval-mode",
            zh="grad_cam 运行之后，BatchNorm 的 running_mean / running_var 变了：有前向是在训练模式下做的。",
            en="BatchNorm's running_mean / running_var changed while grad_cam ran: some forward pass ran in "
            "training mode.",
        )
    return ctx.passed(
        "eval-mode",
        zh="所有前向都在 eval() 模式下，BatchNorm 统计量没有变化，结束时模型仍是 eval()。",
        en="Every forward pass ran in eval() mode, BatchNorm statistics stayed put, and the model ends in eval().",
    )


def check_overlay(ctx):
    if error := ctx.error_of("overlay"):
        return ctx.failed("overlay", zh=f"overlay 出错：\n{error}", en=f"overlay raised:\n{error}")
    value = ctx.observed("overlay")
    if not isinstance(value, dict):
        return ctx.failed("overlay")
    expected = [SIZE, SIZE, 3]
    if value.get("shape") != expected or value.get("dtype") not in ("uint8", "torch.uint8"):
        return ctx.failed(
            "overlay",
            zh=(
                f"overlay 返回的是 {value.get('type')} {show(value.get('shape'))} {value.get('dtype')}，"
                f"应是 {expected} 的 uint8 数组。pytorch_grad_cam.utils.image.show_cam_on_image(image, heatmap, "
                "use_rgb=True) 正好返回这样的图片。"
            ),
            en=(
                f"overlay returned a {value.get('type')} {show(value.get('shape'))} {value.get('dtype')}; "
                f"expected a {expected} uint8 array. pytorch_grad_cam.utils.image.show_cam_on_image(image, "
                "heatmap, use_rgb=True) returns exactly that."
            ),
        )
    picture = ctx.array("overlay")
    if picture is None or list(picture.shape) != expected:
        return ctx.failed("overlay")
    row, col = BLOB_CENTRE
    hot = picture[row - 2 : row + 3, col - 2 : col + 3].astype(float)
    cold = picture[-6:, :6].astype(float) if row < SIZE // 2 else picture[:6, -6:].astype(float)
    if np.abs(hot.mean(axis=(0, 1)) - cold.mean(axis=(0, 1))).max() < 20:
        return ctx.failed(
            "overlay",
            zh="给 overlay 的热力图中心很热、角落很冷，但叠加图上两处颜色几乎一样：要把热力图着色后与原图混合。",
            en="The heatmap given to overlay is hot in one place and cold in a corner, yet the overlay looks the "
            "same in both: colour the heatmap and blend it with the image.",
        )
    artifact = ctx.observed("artifact")
    shown = isinstance(artifact, dict) and artifact.get("saved") is True
    return ctx.passed(
        "overlay",
        zh="overlay 返回 64×64×3 的 uint8 图片，热的地方和冷的地方颜色不同。"
        + ("结果下方的图片展示了你的叠加图。" if shown else "（热力图不可用，所以没有生成叠加图的图片。）"),
        en="overlay returns a 64×64×3 uint8 picture whose hot and cold parts look different."
        + (
            " Your overlays are shown in the picture with this result."
            if shown
            else " (No picture: the heatmaps could not be overlaid.)"
        ),
    )


def check_peaks(ctx):
    if problem := shape_problem(ctx, "cam.main"):
        return ctx.failed("peak-in-object", *problem)
    heatmaps = ctx.array("heatmaps")
    if heatmaps is None or heatmaps.shape != (IMAGES, SIZE, SIZE) or not np.all(np.isfinite(heatmaps)):
        return ctx.failed("peak-in-object")
    with np.load(ctx.hidden / "cam_regions.npz", allow_pickle=False) as archive:
        boxes = archive["boxes"]
    hits = 0
    for heatmap, (top, left, bottom, right) in zip(heatmaps, boxes, strict=True):
        row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
        hits += top - MARGIN <= row < bottom + MARGIN and left - MARGIN <= col < right + MARGIN
    share = hits / IMAGES
    if share < PEAK_SHARE:
        return ctx.failed(
            "peak-in-object",
            zh=(
                f"{IMAGES} 张图中只有 {hits} 张的热力图峰值落在物体上（需要至少 {PEAK_SHARE:.0%}）。"
                "目标层选最后一个卷积块（model.block3），解释模型预测的类别（targets=None）。"
            ),
            en=(
                f"Only {hits} of {IMAGES} heatmaps peak on the object (at least {PEAK_SHARE:.0%} is needed). "
                "Target the last convolutional block (model.block3) and explain the predicted class "
                "(targets=None)."
            ),
        )
    return ctx.passed(
        "peak-in-object",
        zh=f"{IMAGES} 张图中有 {hits} 张的热力图峰值落在物体上。",
        en=f"{hits} of {IMAGES} heatmaps peak on the object.",
    )
