"""Check for trial 5.1, cutmix. Runs outside the sandbox and scores what the driver received.

The driver's input batches are rebuilt here from its literals and the job's secret seed (`job.seed`):
pixel (i, c, y, x) of a batch held its secret code `codes_of(...)[i, c, y, x]`, and sample i had the
one-hot label of class `classes_of(...)[i]`. So each output pixel decodes to the image, channel and
position it was copied from, and nothing the student's process computed is taken as an expected value:
the label weights each sample must carry are recomputed from the box found in its pixels, and the seeded
and Beta checks compare calls with each other. Only `inputs-unchanged` is observed in the student's
process (docs/architecture.md).

This is a hybrid trial: these checks gate; a reviewer scores the implementation and the write-up by the
rubric in exercise.toml.
"""

from pathlib import Path

import numpy as np

from exercises.kit.check import Check, literal_from, show
from exercises.kit.data import seed_from

HERE = Path(__file__).resolve().parent
SERIES = {row[0]: row for row in literal_from(HERE / "probe.py", "SERIES")}
REPEAT = literal_from(HERE / "probe.py", "REPEAT")
OTHERS = literal_from(HERE / "probe.py", "OTHERS")
CODE_RANGE = literal_from(HERE / "probe.py", "CODE_RANGE")
SHAPES = {name: row[2:7] for name, row in SERIES.items()} | {REPEAT[0]: REPEAT[2:7]}
CALLS = {name: row[7] for name, row in SERIES.items()}

BOX_SERIES = ("main", "gray", "single")  # the series the box and label checks judge
TOLERANCE = 1e-4  # label weights vs pixel fractions (float32 arithmetic on the student's side)
SMALL_BOX = 0.05  # "no visible patch": at most 5 % of the pixels
PEAKED_MIN_SMALL = 0.30  # alpha = 0.05: about 45 % of draws give lambda ~ 1 (no patch) with Beta(α, α)
FLAT_MAX_SMALL = 0.12  # alpha = 50: lambda ~ 0.5, only fixed points of the permutation show no patch
MAIN_MIN_MIXED = 0.50  # alpha = 1: most samples receive a visible patch
MIN_WRITEUP = 200
MIN_DISTINCT_CHARACTERS = 20

CHECKS = [
    Check(
        "shapes",
        zh="返回同形状的图像和每行之和为 1 的软标签",
        en="Returns same-shaped images and soft labels whose rows sum to 1",
        points=10,
        basis="verified",
        basis_note="the returned tensors' shapes and label sums, measured on the trusted side",
    ),
    Check(
        "inputs-unchanged",
        zh="调用者传入的 images 和 labels 没有被原地修改",
        en="The caller's images and labels are not modified in place",
        points=5,
        basis="observed",
        basis_note="the caller's copies are compared after each call inside the student's process",
    ),
    Check(
        "box",
        zh="粘贴的是另一张图同一位置的一个矩形",
        en="The pasted patch is one rectangle from the same place of one other image",
        points=25,
        basis="verified",
        basis_note="every output pixel decoded to its source through the job's secret pixel codes",
    ),
    Check(
        "labels-match-area",
        zh="标签的混合权重等于实际粘贴的面积",
        en="The label mixing weights equal the area actually pasted",
        points=25,
        basis="verified",
        basis_note="the weights each label must carry, recomputed from the box decoded from its pixels",
    ),
    Check(
        "seeded",
        zh="同一个 generator 种子得到同样的结果",
        en="The same generator seed gives the same result",
        points=15,
        visible=False,
        basis="verified",
        basis_note="the returned outputs of repeated and differing seeds compared on the trusted side; "
        "the global random state between the calls is scrambled in the student's process",
    ),
    Check(
        "lambda-beta",
        zh="λ 按 Beta(α, α) 抽取，α 起作用",
        en="λ is drawn from Beta(α, α): alpha matters",
        points=10,
        visible=False,
        basis="verified",
        basis_note="the distribution of the decoded box areas at three values of alpha",
    ),
    Check(
        "writeup",
        zh="WRITEUP 里写了复现记录",
        en="WRITEUP holds a reproduction write-up",
        points=10,
        basis="verified",
        basis_note="the text arrives as data and is measured on the trusted side; a reviewer reads it",
    ),
]


def check(ctx):
    yield ctx.evaluate("shapes", check_shapes)
    yield ctx.evaluate("inputs-unchanged", check_inputs)
    yield ctx.evaluate("box", check_box)
    yield ctx.evaluate("labels-match-area", check_labels)
    yield ctx.evaluate("seeded", check_seeded)
    yield ctx.evaluate("lambda-beta", check_lambda)
    yield ctx.evaluate("writeup", check_writeup)


# ---------------------------------------------------------------------------------------------------
# Rebuilding the inputs and decoding the outputs


def job_seed(ctx):
    """The seed the driver drew this job's batches from (None when it observed none: nothing decodes)."""
    seed = ctx.observed("job.seed", None)
    return seed if type(seed) is int else None


def _rng(seed, name, what):
    return np.random.default_rng([int(seed), seed_from("cutmix", name, what)])


def codes_of(ctx, name):
    """The secret code of every pixel of series `name`, exactly as the driver drew them: (N, C, H, W)."""
    batch, channels, height, width, _ = SHAPES[name]
    seed = job_seed(ctx)
    if seed is None:
        return np.zeros((batch, channels, height, width), dtype=np.int64)
    total = batch * channels * height * width
    codes = 1 + _rng(seed, name, "codes").choice(CODE_RANGE, size=total, replace=False)
    return codes.reshape(batch, channels, height, width)


def classes_of(ctx, name):
    """The class of each sample of series `name`, exactly as the driver drew it."""
    batch, _, _, _, classes = SHAPES[name]
    seed = job_seed(ctx)
    if seed is None:
        return np.arange(batch)
    return _rng(seed, name, "classes").permutation(classes)[:batch]


def seeds_of(ctx, name):
    """The generator seed of every call of series `name`, as the driver drew them."""
    seed = job_seed(ctx)
    calls = 1 + OTHERS if name == REPEAT[0] else CALLS[name]
    if seed is None:
        return [0] * (calls + (name == REPEAT[0]))
    drawn = [int(value) for value in _rng(seed, name, "seeds").choice(1 << 31, size=calls, replace=False)]
    return [drawn[0], *drawn] if name == REPEAT[0] else drawn


def where(ctx, name, call, sample=None):
    """A short description of one call (and sample) for messages, as (zh, en)."""
    batch, channels, height, width, _ = SHAPES[name]
    seeds = seeds_of(ctx, name)
    seed = seeds[call] if 0 <= call < len(seeds) else "?"
    zh = f"批大小 {batch}、图像 {channels}×{height}×{width}、种子 {seed} 的那次调用"
    en = f"the call with a batch of {batch} {channels}×{height}×{width} images and seed {seed}"
    if sample is not None:
        zh += f"里的第 {sample} 个样本"
        en = f"sample {sample} of " + en
    return zh, en


def series_arrays(ctx, name):
    """(images, labels) arrays of shape (calls, batch, ...) or None when the probe saved none."""
    images, labels = ctx.array(f"{name}_images"), ctx.array(f"{name}_labels")
    batch, channels, height, width, classes = SHAPES[name]
    if images is None or labels is None or images.ndim != 5 or labels.ndim != 3:
        return None
    if images.shape[1:] != (batch, channels, height, width) or labels.shape[1:] != (batch, classes):
        return None
    if images.shape[0] != labels.shape[0] or images.shape[0] == 0:
        return None
    return images.astype(np.float64), labels.astype(np.float64)


def decode_sample(image, sample, shape, codes):
    """Where the pixels of one output image came from; `codes` is `(sorted codes, flat index of each)`.

    Returns ({"partner": j or None, "area": fraction of pixels from j}, None) or (None, (kind, detail)).
    """
    _, channels, height, width, _ = shape
    known, index_of = codes
    if not np.all(np.isfinite(image)):
        return None, ("foreign", "nan")
    position = np.clip(np.searchsorted(known, image), 0, len(known) - 1)
    if not np.array_equal(known[position], image):
        zeros = int(np.count_nonzero(image == 0.0))
        return None, ("foreign", "zeros" if zeros else "blend")
    whole = index_of[position]
    per_image = channels * height * width
    source, rest = np.divmod(whole, per_image)
    channel, rest = np.divmod(rest, height * width)
    row, column = np.divmod(rest, width)
    grid_c, grid_y, grid_x = np.indices((channels, height, width))
    if not (
        np.array_equal(channel, grid_c) and np.array_equal(row, grid_y) and np.array_equal(column, grid_x)
    ):
        return None, ("moved", "")
    if not np.all(source == source[0]):
        return None, ("channels", "")
    source = source[0]
    partners = sorted(set(np.unique(source).tolist()) - {sample})
    if len(partners) > 1:
        return None, ("several", ", ".join(str(p) for p in partners[:4]))
    mask = source != sample
    if not partners:
        return {"partner": None, "area": 0.0}, None
    rows, columns = np.nonzero(mask)
    box = mask[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    if not box.all():
        return None, ("not-rectangle", "")
    return {"partner": partners[0], "area": float(mask.mean())}, None


def decode_all(images, shape, codes):
    """`decode_sample` for a whole series (calls, N, C, H, W) at once.

    Returns ((partner of each sample or -1, area of each sample), None) when every sample decodes, else
    (None, (call, sample)): the first sample with a problem, for `decode_sample` to name it."""
    batch, channels, height, width, _ = shape
    known, index_of = codes
    calls = images.shape[0]
    finite = np.isfinite(images)
    position = np.clip(np.searchsorted(known, np.where(finite, images, -1.0)), 0, len(known) - 1)
    bad = ~(finite & (known[position] == images)).reshape(calls, batch, -1).all(axis=2)
    whole = index_of[position]
    source, rest = np.divmod(whole, channels * height * width)
    channel, rest = np.divmod(rest, height * width)
    row, column = np.divmod(rest, width)
    grid_c, grid_y, grid_x = np.indices((channels, height, width))
    bad |= ((channel != grid_c) | (row != grid_y) | (column != grid_x)).reshape(calls, batch, -1).any(axis=2)
    bad |= (source != source[:, :, :1]).reshape(calls, batch, -1).any(axis=2)
    source = source[:, :, 0]  # (calls, N, H, W)
    own = np.arange(batch).reshape(1, batch, 1, 1)
    mask = source != own
    lowest = np.where(mask, source, batch).reshape(calls, batch, -1).min(axis=2)
    highest = np.where(mask, source, -1).reshape(calls, batch, -1).max(axis=2)
    mixed = mask.reshape(calls, batch, -1).any(axis=2)
    bad |= mixed & (lowest != highest)
    rows, columns = mask.any(axis=3), mask.any(axis=2)
    top, bottom = rows.argmax(axis=2), height - 1 - rows[:, :, ::-1].argmax(axis=2)
    left, right = columns.argmax(axis=2), width - 1 - columns[:, :, ::-1].argmax(axis=2)
    count = mask.reshape(calls, batch, -1).sum(axis=2)
    bad |= mixed & (count != (bottom - top + 1) * (right - left + 1))
    if bad.any():
        call, sample = np.argwhere(bad)[0]
        return None, (int(call), int(sample))
    partners = np.where(mixed, lowest, -1)
    return (partners, count / (height * width)), None


def decoded(ctx, name):
    """Per call, per sample decodes of a series: (list of lists, None) or (None, (zh, en) problem)."""
    cache = ctx.__dict__.setdefault("_cutmix_decoded", {})
    if name not in cache:
        cache[name] = _decode_series(ctx, name)
    return cache[name]


def _decode_series(ctx, name):
    arrays = series_arrays(ctx, name)
    if arrays is None:
        return None, (
            "这一组调用没有可用的输出（先通过“形状”检查）。",
            "This series has no usable output (pass the shapes check first).",
        )
    images, _ = arrays
    flat = codes_of(ctx, name).reshape(-1).astype(np.float64)
    order = np.argsort(flat, kind="stable")
    codes = (flat[order], order)
    found, first_problem = decode_all(images, SHAPES[name], codes)
    if first_problem is not None:
        call, sample = first_problem
        _, problem = decode_sample(images[call, sample], sample, SHAPES[name], codes)
        if problem is None:  # the two decoders disagree: never a pass on that
            problem = ("not-rectangle", "")
        return None, box_problem(ctx, name, call, sample, problem)
    partners, areas = found
    results = [
        [
            {"partner": None if partner < 0 else int(partner), "area": float(area)}
            for partner, area in zip(partners[call], areas[call], strict=True)
        ]
        for call in range(images.shape[0])
    ]
    return results, None


def box_problem(ctx, name, call, sample, problem):
    kind, detail = problem
    at_zh, at_en = where(ctx, name, call, sample)
    if kind == "foreign" and detail == "zeros":
        return (
            f"{at_zh}里有值为 0 的像素：补丁被填成了常数。那是 Cutout，不是 CutMix——CutMix 把另一张图同一位置的像素复制过来："
            "mixed[:, :, y1:y2, x1:x2] = images[index, :, y1:y2, x1:x2]。",
            f"In {at_en} some pixels are 0: the patch was filled with a constant. That is Cutout, not CutMix — "
            "CutMix copies the pixels of another image from the same place: "
            "mixed[:, :, y1:y2, x1:x2] = images[index, :, y1:y2, x1:x2].",
        )
    if kind == "foreign":
        return (
            f"{at_zh}里有些像素不是任何一张输入图像的原样像素（像是被加权混合或改动过）。按比例混合整张图是 Mixup；CutMix 只复制像素，不改变它们的值。",
            f"In {at_en} some pixels are not copied unchanged from any input image (they look blended or "
            "altered). Blending whole images is Mixup; CutMix only copies pixels, it never changes their values.",
        )
    if kind == "moved":
        return (
            f"{at_zh}里，粘贴进来的像素来自另一张图的不同位置或不同通道。CutMix 用同一个框：从伙伴图像的 [y1:y2, x1:x2] 复制到本图的 [y1:y2, x1:x2]，所有通道一起。",
            f"In {at_en} the pasted pixels come from a different position or channel of the other image. "
            "CutMix uses one box for both: copy [y1:y2, x1:x2] of the partner into [y1:y2, x1:x2] of this "
            "image, all channels together.",
        )
    if kind == "channels":
        return (
            f"{at_zh}里，不同通道粘贴的区域不一样。索引要覆盖所有通道：images[index, :, y1:y2, x1:x2]（第二维用冒号）。",
            f"In {at_en} the channels received different patches. Index every channel: "
            "images[index, :, y1:y2, x1:x2] (a colon in the channel dimension).",
        )
    if kind == "several":
        return (
            f"{at_zh}里混入了多张其他图像的像素（{detail}）。每个样本只和一个伙伴混合：用一个排列 index，第 i 个样本的补丁来自 images[index[i]]。",
            f"In {at_en} pixels from several other images ({detail}) were pasted. Each sample mixes with "
            "one partner: draw one permutation index, and sample i gets its patch from images[index[i]].",
        )
    return (
        f"{at_zh}里，来自伙伴图像的区域不是一个完整的矩形。CutMix 粘贴一个轴对齐的矩形框 [y1:y2, x1:x2]。",
        f"In {at_en} the region taken from the partner is not one filled rectangle. CutMix pastes one "
        "axis-aligned box [y1:y2, x1:x2].",
    )


# ---------------------------------------------------------------------------------------------------
# The checks


def call_problem(ctx, name):
    """Why the probe has no outputs for series `name`, as (zh, en), or None when it has them."""
    key = f"{name}.call"
    at_zh, at_en = where(ctx, name, 0)
    if error := ctx.error_of(key):
        return (f"调用 cutmix 时出错（{at_zh}起）：\n{error}", f"cutmix raised (from {at_en} on):\n{error}")
    observed = ctx.observed(key)
    if not isinstance(observed, dict):
        return (
            "没有 cutmix 的观测结果（代码可能提前退出了）。",
            "No observation of cutmix (the code may have exited early).",
        )
    batch, channels, height, width, classes = SHAPES[name]
    if observed.get("problem") == "not-a-pair":
        returned = observed.get("returned", {})
        got = show(returned.get("type")) + (f"，长度 {returned['length']}" if "length" in returned else "")
        got_en = show(returned.get("type")) + (
            f" of length {returned['length']}" if "length" in returned else ""
        )
        return (
            f"cutmix 应返回两个张量 (mixed_images, mixed_labels)，却返回了 {got}。标签要在函数里按面积混合好再返回，而不是返回 (labels_a, labels_b, lam)。",
            f"cutmix should return two tensors (mixed_images, mixed_labels) but returned {got_en}. Mix the "
            "labels by area inside the function and return them, not (labels_a, labels_b, lam).",
        )
    if observed.get("problem") == "shape":
        images, labels = observed.get("images", {}), observed.get("labels", {})
        return (
            f"{at_zh}：返回的图像是 {show(images.get('shape'))}、{show(images.get('dtype'))}，标签是 "
            f"{show(labels.get('shape'))}、{show(labels.get('dtype'))}；应为图像 [{batch}, {channels}, {height}, {width}]、"
            f"标签 [{batch}, {classes}]，都是浮点数。",
            f"For {at_en} the images came back as {show(images.get('shape'))} {show(images.get('dtype'))} and "
            f"the labels as {show(labels.get('shape'))} {show(labels.get('dtype'))}; expected images "
            f"[{batch}, {channels}, {height}, {width}] and labels [{batch}, {classes}], both floating point.",
        )
    if series_arrays(ctx, name) is None:
        return ("cutmix 的输出没能保存下来。", "The outputs of cutmix could not be saved.")
    return None


def check_shapes(ctx):
    for name in (*SERIES, REPEAT[0]):
        if problem := call_problem(ctx, name):
            return ctx.failed("shapes", zh=problem[0], en=problem[1])
        _, labels = series_arrays(ctx, name)
        if not np.all(np.isfinite(labels)):
            return ctx.failed(
                "shapes",
                zh="返回的标签里有 NaN 或无穷大。",
                en="The returned labels contain NaN or infinity.",
            )
        sums = labels.sum(axis=2)
        worst = np.unravel_index(np.argmax(np.abs(sums - 1.0)), sums.shape)
        if abs(sums[worst] - 1.0) > TOLERANCE or labels.min() < -TOLERANCE:
            at_zh, at_en = where(ctx, name, int(worst[0]), int(worst[1]))
            return ctx.failed(
                "shapes",
                zh=f"{at_zh}的标签之和是 {sums[worst]:.4f}，应为 1。混合后的标签是两个 one-hot 的加权平均："
                "lam * labels + (1 - lam) * labels[index]，两项权重之和为 1。",
                en=f"The label of {at_en} sums to {sums[worst]:.4f}; it should sum to 1. A mixed label is a "
                "weighted average of two one-hot labels: lam * labels + (1 - lam) * labels[index], weights "
                "adding up to 1.",
            )
    return ctx.passed(
        "shapes",
        zh="各种形状（包括批大小 1）都返回了同形状的图像和每行之和为 1 的标签。",
        en="Every shape (a batch of one included) gave same-shaped images and labels whose rows sum to 1.",
    )


def check_inputs(ctx):
    calls = 0
    for name in (*SERIES, REPEAT[0]):
        seen = ctx.observed(f"{name}.inputs", None)
        if not isinstance(seen, dict) or not isinstance(seen.get("calls"), int) or seen["calls"] < 1:
            if problem := call_problem(ctx, name):
                return ctx.failed("inputs-unchanged", zh=problem[0], en=problem[1])
            return ctx.failed(
                "inputs-unchanged",
                zh="没有观察到对 cutmix 的调用。",
                en="No call of cutmix was observed.",
            )
        calls += seen["calls"]
        changed = [
            what
            for what, key in (("images", "images_changed"), ("labels", "labels_changed"))
            if seen.get(key) != 0
        ]
        if changed:
            names = " 和 ".join(changed)
            first = seen.get("first_changed")
            at_zh, at_en = where(
                ctx, name, first if isinstance(first, int) and 0 <= first < seen["calls"] else 0
            )
            return ctx.failed(
                "inputs-unchanged",
                zh=f"cutmix 原地修改了调用者传入的 {names}（最早在{at_zh}；这一项是在运行你代码的进程里观察到的）。调用者可能还要用原来的批次"
                "（比如同时记录未混合的样本，或对同一批做别的增强），所以要返回新的张量：先 mixed = images.clone()，"
                "再往 mixed 里粘贴；标签也一样，用运算得到新张量，不要对 labels 做原地赋值。",
                en=f"cutmix modified the caller's {' and '.join(changed)} in place (first in {at_en}; this is "
                "observed in the process that runs your code). The "
                "caller may still need the original batch (to log the unmixed samples, or to "
                "augment the same batch another way), so return new tensors: mixed = images.clone(), then "
                "paste into mixed; build the labels with operations that make a new tensor, not assignments "
                "into labels.",
            )
    return ctx.passed(
        "inputs-unchanged",
        zh=f"{calls} 次调用后，调用者传入的 images 和 labels 都保持原样（在运行你代码的进程里观察到）。",
        en=f"After {calls} calls the caller's images and labels were still as they were (observed in the "
        "process that runs your code).",
    )


def check_box(ctx):
    mixed = 0
    for name in BOX_SERIES:
        results, problem = decoded(ctx, name)
        if problem:
            return ctx.failed("box", zh=problem[0], en=problem[1])
        mixed += sum(1 for row in results for found in row if found["partner"] is not None)
    if mixed == 0:
        return ctx.failed(
            "box",
            zh="所有调用里都没有任何图像被粘贴进补丁：输出和输入一模一样。",
            en="No image received a patch in any call: the output equals the input.",
        )
    return ctx.passed(
        "box",
        zh="每个被混合的样本都从唯一的伙伴图像的同一位置复制了一个矩形补丁。",
        en="Every mixed sample received one rectangle, copied from the same place of one partner image.",
    )


def check_labels(ctx):
    checked = 0
    for name in BOX_SERIES:
        results, problem = decoded(ctx, name)
        if problem:
            return ctx.failed(
                "labels-match-area",
                zh="补丁本身有问题，无法比较面积和标签（见“box”检查）。",
                en="The patch itself is wrong, so area and labels cannot be compared (see the box check).",
            )
        _, labels = series_arrays(ctx, name)
        classes = classes_of(ctx, name)
        for call, row in enumerate(results):
            for sample, found in enumerate(row):
                checked += 1
                if message := label_problem(ctx, name, call, sample, found, labels[call, sample], classes):
                    return ctx.failed("labels-match-area", zh=message[0], en=message[1])
    return ctx.passed(
        "labels-match-area",
        zh=f"{checked} 个样本的标签权重都等于实际粘贴的面积。",
        en=f"In all {checked} samples the label weights equal the area actually pasted.",
    )


def label_problem(ctx, name, call, sample, found, label, classes):
    own = classes[sample]
    expected = np.zeros_like(label)
    expected[own] = 1.0 - found["area"]
    if found["partner"] is not None:
        expected[classes[found["partner"]]] += found["area"]
    if np.max(np.abs(label - expected)) <= TOLERANCE:
        return None
    at_zh, at_en = where(ctx, name, call, sample)
    if found["partner"] is None:
        return (
            f"{at_zh}没有收到任何补丁（图像没变），它的标签却是 {format_weights(label, classes)}，应仍是自己的类别 {own}、权重 1。",
            f"{capitalized(at_en)} received no patch (the image is unchanged), yet its label is "
            f"{format_weights(label, classes)}; it should still be its own class {own} with weight 1.",
        )
    partner_class = classes[found["partner"]]
    area = found["area"]
    swapped = abs(label[own] - area) <= TOLERANCE and abs(label[partner_class] - (1 - area)) <= TOLERANCE
    zh = (
        f"{at_zh}有 {area:.1%} 的像素来自类别 {partner_class} 的图像，标签应为：类别 {own} 权重 {1 - area:.4f}，"
        f"类别 {partner_class} 权重 {area:.4f}；实际是 {format_weights(label, classes)}。"
    )
    en = (
        f"{capitalized(at_en)} shows {area:.1%} of its pixels from the image of class {partner_class}, so its "
        f"label should be class {own}: {1 - area:.4f}, class {partner_class}: {area:.4f}; it is "
        f"{format_weights(label, classes)}."
    )
    if swapped:
        zh += "两个权重正好反了：lam 是保留下来的原图面积，labels 乘 lam，labels[index] 乘 1 - lam。"
        en += (
            " The two weights are the wrong way round: lam is the area of the original image that remains, "
            "so labels gets lam and labels[index] gets 1 - lam."
        )
    else:
        zh += "框被图像边界裁剪（或取整）后，面积不再是抽到的 1 - λ：要按真正粘贴的框重新计算 lam = 1 - (y2 - y1) * (x2 - x1) / (H * W)。"
        en += (
            " Once the box is clipped at the border (or rounded), its area is no longer the 1 - λ you drew: "
            "recompute lam = 1 - (y2 - y1) * (x2 - x1) / (H * W) from the box actually pasted."
        )
    return zh, en


def capitalized(text):
    return text[:1].upper() + text[1:]


def format_weights(label, classes):
    parts = [f"{int(index)}: {label[index]:.4f}" for index in np.flatnonzero(np.abs(label) > TOLERANCE)[:4]]
    return "{" + ", ".join(parts) + "}"


def check_seeded(ctx):
    name = REPEAT[0]
    if problem := call_problem(ctx, name):
        return ctx.failed("seeded", zh=problem[0], en=problem[1])
    images, labels = series_arrays(ctx, name)
    seeds = seeds_of(ctx, name)
    repeated, others = seeds[0], seeds[2:]
    if images.shape[0] < 2 + OTHERS:
        return ctx.failed("seeded")
    if not (np.array_equal(images[0], images[1]) and np.array_equal(labels[0], labels[1])):
        return ctx.failed(
            "seeded",
            zh=f"用同一个种子（np.random.default_rng({repeated})）调用两次，结果却不同（两次调用之间全局随机状态变了）。"
            "所有随机性都要从传入的 generator 取：generator.beta(alpha, alpha)、generator.integers(...)、"
            "generator.permutation(n)；不要用 np.random.*、torch.randperm、random.*。",
            en=f"Two calls with the same seed (np.random.default_rng({repeated})) gave different results "
            "(the global random state changed in between). Take every random number from the generator you "
            "are given: generator.beta(alpha, alpha), generator.integers(...), generator.permutation(n); not "
            "np.random.*, torch.randperm or random.*.",
        )
    differs = [
        not (np.array_equal(images[0], images[k]) and np.array_equal(labels[0], labels[k]))
        for k in range(2, 2 + OTHERS)
    ]
    if not any(differs):
        return ctx.failed(
            "seeded",
            zh=f"种子 {', '.join(map(str, others))} 给出的结果和种子 {repeated} 完全一样：generator 没有被用到，框和排列是固定的。",
            en=f"Seeds {', '.join(map(str, others))} gave exactly the result of seed {repeated}: the "
            "generator is not used, so the box and the permutation are fixed.",
        )
    return ctx.passed(
        "seeded",
        zh="同一个种子得到同样的结果，不受全局随机状态影响；不同种子得到不同的结果。",
        en="The same seed gave the same result whatever the global random state; other seeds gave others.",
    )


def small_fraction(results):
    areas = [found["area"] for row in results for found in row]
    return sum(1 for area in areas if area <= SMALL_BOX) / len(areas)


def check_lambda(ctx):
    fractions = {}
    for name in ("main", "peaked", "flat"):
        results, problem = decoded(ctx, name)
        if problem:
            return ctx.failed(
                "lambda-beta",
                zh="补丁本身有问题，无法统计面积的分布（见“box”检查）。" + problem[0],
                en="The patch itself is wrong, so the distribution of areas cannot be measured (see the box "
                "check). " + problem[1],
            )
        fractions[name] = small_fraction(results)
    mixed = 1.0 - fractions["main"]
    if mixed < MAIN_MIN_MIXED:
        return ctx.failed(
            "lambda-beta",
            zh=f"alpha = 1 时只有 {mixed:.0%} 的样本得到了可见的补丁（几乎没有混合）。λ ~ Beta(1, 1) 是均匀分布，框面积 1 - λ 大多不小。",
            en=f"With alpha = 1 only {mixed:.0%} of the samples received a visible patch (hardly any mixing). "
            "λ ~ Beta(1, 1) is uniform, so the box area 1 - λ is mostly not small.",
        )
    peaked, flat = fractions["peaked"], fractions["flat"]
    if peaked < PEAKED_MIN_SMALL or flat > FLAT_MAX_SMALL:
        return ctx.failed(
            "lambda-beta",
            zh=f"框面积的分布和 Beta(α, α) 对不上：alpha = 0.05 时 {peaked:.0%} 的样本几乎没有补丁（应约为一半：λ 几乎总是接近 0 或 1），"
            f"alpha = 50 时是 {flat:.0%}（应几乎没有：λ 集中在 0.5 附近）。用 lam = generator.beta(alpha, alpha) 抽 λ，再按 "
            "sqrt(1 - lam) 定框的边长。",
            en=f"The box areas do not follow Beta(α, α): with alpha = 0.05, {peaked:.0%} of the samples got "
            "(almost) no patch (about half should: λ is nearly always close to 0 or 1); with alpha = 50 it "
            f"was {flat:.0%} (almost none should: λ stays near 0.5). Draw lam = generator.beta(alpha, alpha) "
            "and size the box sides by sqrt(1 - lam).",
        )
    return ctx.passed(
        "lambda-beta",
        zh=f"框面积随 alpha 变化，符合 Beta(α, α)：alpha = 0.05 时 {peaked:.0%} 无补丁，alpha = 50 时 {flat:.0%}。",
        en=f"Box areas follow Beta(α, α): no patch in {peaked:.0%} of samples at alpha = 0.05 and in "
        f"{flat:.0%} at alpha = 50.",
    )


def check_writeup(ctx):
    observed = ctx.observed("writeup")
    if not isinstance(observed, dict) or observed.get("type") != "str":
        kind = observed.get("type") if isinstance(observed, dict) else None
        return ctx.failed(
            "writeup",
            zh=f'solution.py 里没有字符串 WRITEUP（找到的是 {show(kind)}）。在模块顶层写 WRITEUP = """..."""。',
            en=f'solution.py has no string WRITEUP (found {show(kind)}). Write WRITEUP = """...""" at '
            "the top level of the module.",
        )
    length = observed.get("length")
    text = observed.get("text") if isinstance(observed.get("text"), str) else ""
    distinct = len(set(text) - set(" \t\r\n"))
    if not isinstance(length, int) or length < MIN_WRITEUP or distinct < MIN_DISTINCT_CHARACTERS:
        return ctx.failed(
            "writeup",
            zh=f"WRITEUP 只有 {length} 个字符，至少要 {MIN_WRITEUP} 个（中文或英文都可以）。写下：你复现了什么、和论文/官方代码有哪些不同、结果如何、遇到了什么问题。",
            en=f"WRITEUP has only {length} characters; write at least {MIN_WRITEUP} (Chinese or English). "
            "Say what you reproduced, how it differs from the paper and the official code, what you observed, "
            "and what went wrong along the way.",
        )
    return ctx.passed(
        "writeup",
        zh=f"WRITEUP 有 {length} 个字符，提交后由老师按评分标准评阅。",
        en=f"WRITEUP has {length} characters; a reviewer scores it by the rubric after you submit.",
    )
