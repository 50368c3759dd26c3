"""Driver for trial 5.1, cutmix. The student's code runs in the agent; this process drives it.

Every batch the driver hands to `cutmix()` is a "code-marked" image batch: each pixel (i, c, y, x) holds
its own secret code, a distinct whole number drawn from this job's secret seed (`ctx.seed`) when the
driver builds the batch. Whatever comes back, the check can decode every output pixel to the image,
channel and position it was copied from, so it sees the pasted box (where it came from, whether it is
one rectangle, how large it is) and recomputes what the label weights must be from it. A value that is
no code at all (0 from a Cutout-style fill, a blend from Mixup) shows too, and since the codes are new
for every job, no output made without reading the batch can decode. The labels are one-hot with a
distinct class per sample, also drawn from the job's seed, so each label weight names its image.

A `numpy.random.Generator` is a live object, so the agent builds one per call from the seed the driver
sends (`agent_series`, the trial's routine in the student's process) and calls the student's code with
copies of the batch; the outputs come back here as data, stacked per series, and are *verified*: the
check decodes them. Whether the caller's tensors still hold the batch after each call is only visible
in the student's process: `inputs-unchanged` is *observed*, and so is the global random state the
routine scrambles between the calls of the reproducibility series.

The series differ in shape (odd sizes, width < height, a batch of one) and in alpha (a very peaked and
a very flat Beta distribution). check.py reads SERIES and REPEAT from this file as literals and
rebuilds codes, classes and generator seeds from the job's seed with the same functions below.
"""

import random

import numpy as np
import torch

from exercises.kit.data import seed_from
from exercises.kit.probe import FAILED

# (name, alpha, batch, channels, height, width, classes, calls)
SERIES = [
    ("main", 1.0, 8, 3, 12, 16, 10, 40),
    ("gray", 1.0, 5, 1, 11, 7, 10, 20),
    ("single", 1.0, 1, 3, 9, 9, 4, 3),
    ("peaked", 0.05, 16, 1, 12, 16, 20, 300),
    ("flat", 50.0, 16, 1, 12, 16, 20, 100),
]
# The reproducibility series has the shape of "main": one seed twice, then OTHERS other seeds.
REPEAT = ("repeat", 1.0, 8, 3, 12, 16, 10)
OTHERS = 3
CODE_RANGE = 1048576  # codes are whole numbers in [1, 2**20]: exact in float32
_equal = torch.equal  # taken before the student's module is imported


# ---------------------------------------------------------------------------------------------------
# Built from the job's seed, here and (the same functions) in check.py


def _rng(job_seed, name, what):
    return np.random.default_rng([int(job_seed), seed_from("cutmix", name, what)])


def codes_of(job_seed, name, batch, channels, height, width):
    """The secret code of every pixel of series `name`: distinct whole numbers, shape (N, C, H, W)."""
    total = batch * channels * height * width
    codes = 1 + _rng(job_seed, name, "codes").choice(CODE_RANGE, size=total, replace=False)
    return codes.reshape(batch, channels, height, width)


def classes_of(job_seed, name, batch, classes):
    """Distinct classes, one per sample."""
    return _rng(job_seed, name, "classes").permutation(classes)[:batch]


def seeds_of(job_seed, name, calls):
    """The generator seed of every call; the reproducibility series repeats its first seed once."""
    if name == REPEAT[0]:
        first, *others = _rng(job_seed, name, "seeds").choice(1 << 31, size=1 + OTHERS, replace=False)
        return [int(first), int(first), *(int(seed) for seed in others)]
    return [int(seed) for seed in _rng(job_seed, name, "seeds").choice(1 << 31, size=calls, replace=False)]


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process)


def scramble_global_state(number):
    """Different global seeds before each call: a result that depends on them is not seeded by `generator`."""
    value = 9173 * (number + 1)
    torch.manual_seed(value)
    np.random.seed(value)
    random.seed(value)


def _same(given, original):
    """Whether the tensor handed to the student still holds the batch (shape, dtype and values)."""
    return (
        isinstance(given, torch.Tensor)
        and given.shape == original.shape
        and given.dtype == original.dtype
        and bool(_equal(given.detach().cpu(), original))
    )


def _pair(result):
    if isinstance(result, tuple | list) and len(result) == 2:
        images, labels = result
        if isinstance(images, torch.Tensor) and isinstance(labels, torch.Tensor):
            return images.detach().cpu(), labels.detach().cpu()
    return None


def agent_series(solution, images, labels, alpha, seeds, scramble):
    """cutmix(copy of images, copy of labels, alpha, np.random.default_rng(seed)) for every seed.

    Returns the outputs stacked (calls, N, ...) while every call gives two same-shaped floating-point
    tensors; at the first call that does not, what it returned instead. `inputs` says whether the
    caller's copies still held the batch after each call (what only this process can see)."""
    inputs = {"calls": 0, "images_changed": 0, "labels_changed": 0}
    outputs_images, outputs_labels = [], []
    for number, seed in enumerate(seeds):
        if scramble:
            scramble_global_state(number)
        given_images, given_labels = images.clone(), labels.clone()
        result = solution.cutmix(given_images, given_labels, alpha, np.random.default_rng(seed))
        inputs["calls"] += 1
        changed = (not _same(given_images, images), not _same(given_labels, labels))
        inputs["images_changed"] += changed[0]
        inputs["labels_changed"] += changed[1]
        if any(changed) and "first_changed" not in inputs:
            inputs["first_changed"] = number
        pair = _pair(result)
        if (
            pair is None
            or pair[0].shape != images.shape
            or pair[1].shape != labels.shape
            or not pair[0].dtype.is_floating_point
            or not pair[1].dtype.is_floating_point
        ):
            return {"calls": number, "inputs": inputs, "returned": result}
        outputs_images.append(pair[0].to(torch.float32))
        outputs_labels.append(pair[1].to(torch.float64))
    return {
        "calls": len(seeds),
        "inputs": inputs,
        "images": torch.stack(outputs_images),
        "labels": torch.stack(outputs_labels),
    }


def agent_writeup(solution):
    """The module's WRITEUP as it is (a plain str travels as text, anything else as its type name)."""
    return getattr(solution, "WRITEUP", None)


# ---------------------------------------------------------------------------------------------------
# In the driver


def make_batch(job_seed, name, batch, channels, height, width, classes):
    images = torch.from_numpy(codes_of(job_seed, name, batch, channels, height, width).astype(np.float32))
    labels = torch.zeros(batch, classes)
    labels[torch.arange(batch), torch.from_numpy(classes_of(job_seed, name, batch, classes))] = 1.0
    return images, labels


def described(ctx, value):
    """`ctx.describe_tensor(value)` with every text cut short: what the agent names must stay small."""
    return {
        key: item[:200] if isinstance(item, str) else item for key, item in ctx.describe_tensor(value).items()
    }


def summary(ctx, result):
    """What came back instead of (images, labels), for the check's message."""
    if isinstance(result, tuple | list):
        return {
            "type": type(result).__name__,
            "length": len(result),
            "items": [described(ctx, item) for item in list(result)[:4]],
        }
    return {"type": described(ctx, result).get("type")}


def stacked(value, shape, dtype):
    """`value` if it is a (calls, *shape) tensor of `dtype` with at least one call, else None."""
    if not isinstance(value, torch.Tensor) or value.dtype != dtype or value.ndim != len(shape) + 1:
        return None
    if tuple(value.shape[1:]) != tuple(shape) or value.shape[0] == 0:
        return None
    return value


def run_series(ctx, name, alpha, batch, channels, height, width, classes, seeds, *, scramble=False):
    """One routine call for the whole series; save the stacked outputs, or observe why there are none."""
    images, labels = make_batch(ctx.seed, name, batch, channels, height, width, classes)
    answer = ctx.run(f"{name}.call", "agent_series", images, labels, alpha, seeds, scramble)
    if answer is FAILED:
        return
    if not isinstance(answer, dict):
        ctx.observe(f"{name}.call", {"calls": 0, "problem": "not-a-pair", "returned": summary(ctx, answer)})
        return
    if isinstance(answer.get("inputs"), dict):  # only its whole numbers: it must stay small
        counts = ("calls", "images_changed", "labels_changed", "first_changed")
        inputs = {key: answer["inputs"][key] for key in counts if type(answer["inputs"].get(key)) is int}
        ctx.observe(f"{name}.inputs", inputs)
    calls = answer.get("calls") if type(answer.get("calls")) is int else 0
    if "returned" in answer:
        returned = answer["returned"]
        if isinstance(returned, tuple | list) and len(returned) == 2:
            shape_of = [described(ctx, item) for item in returned]
            ctx.observe(
                f"{name}.call",
                {"calls": calls, "problem": "shape", "images": shape_of[0], "labels": shape_of[1]},
            )
        else:
            ctx.observe(
                f"{name}.call", {"calls": calls, "problem": "not-a-pair", "returned": summary(ctx, returned)}
            )
        return
    out_images = stacked(answer.get("images"), images.shape, torch.float32)
    out_labels = stacked(answer.get("labels"), labels.shape, torch.float64)
    if out_images is None or out_labels is None or not len(out_images) == len(out_labels) == len(seeds):
        ctx.observe(
            f"{name}.call",
            {
                "calls": calls,
                "problem": "shape",
                "images": described(ctx, answer.get("images")),
                "labels": described(ctx, answer.get("labels")),
            },
        )
        return
    ctx.observe(f"{name}.call", {"calls": len(seeds), "problem": None})
    ctx.save_array(f"{name}_images", out_images)
    ctx.save_array(f"{name}_labels", out_labels)


def driver(ctx):
    ctx.load_solution()
    for name, alpha, batch, channels, height, width, classes, calls in SERIES:
        seeds = seeds_of(ctx.seed, name, calls)
        run_series(ctx, name, alpha, batch, channels, height, width, classes, seeds)

    name, alpha, batch, channels, height, width, classes = REPEAT
    seeds = seeds_of(ctx.seed, name, 0)
    run_series(ctx, name, alpha, batch, channels, height, width, classes, seeds, scramble=True)

    writeup = ctx.run("writeup", "agent_writeup")
    if type(writeup) is str:
        ctx.observe("writeup", {"type": "str", "length": len(writeup.strip()), "text": writeup.strip()})
    elif writeup is not FAILED:
        ctx.observe("writeup", {"type": described(ctx, writeup).get("type")})
