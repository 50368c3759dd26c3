"""Probe for trial 5.1, cutmix. Runs inside the sandbox; observes, never judges.

Every batch the probe hands to `cutmix()` is a "position-coded" image batch: pixel (i, c, y, x) holds the
number 1 + its flat index in the batch. Whatever the student's code returns, the check can decode every
output pixel back to the image, channel and position it came from, so it can see the pasted box (where
it came from, whether it is one rectangle, how large it is) and compare that with the label weights,
without ever trusting a number the sandbox computed. A value that decodes to nothing (0 from a Cutout-
style fill, a blend from Mixup) is visible too. The labels are one-hot with a distinct class per sample,
so each label weight names the image it belongs to.

The generator is a `numpy.random.Generator` seeded per call. The series differ in shape (odd sizes,
width < height, a batch of one) and in alpha (a very peaked and a very flat Beta distribution), and one
series calls twice with the same seed while the global torch/numpy/random states differ. Each call gets
copies of the batch, which are compared with the batch afterwards: the caller's tensors must come back
unchanged. check.py reads SERIES and the seed lists from this file as literals, so keep them plain
literals.
"""

import random

import numpy as np
import torch

from exercises.kit.data import seed_from
from exercises.kit.probe import FAILED, describe_tensor

# (name, alpha, batch, channels, height, width, classes, first seed, calls)
SERIES = [
    ("main", 1.0, 8, 3, 12, 16, 10, 1000, 40),
    ("gray", 1.0, 5, 1, 11, 7, 10, 2000, 20),
    ("single", 1.0, 1, 3, 9, 9, 4, 3000, 3),
    ("peaked", 0.05, 16, 1, 12, 16, 20, 4000, 300),
    ("flat", 50.0, 16, 1, 12, 16, 20, 5000, 100),
]
# The reproducibility series uses the shape of "main": seed REPEAT_SEED twice, then the OTHER_SEEDS.
REPEAT = ("repeat", 1.0, 8, 3, 12, 16, 10)
REPEAT_SEED = 77
OTHER_SEEDS = [78, 79, 80]
_equal = torch.equal  # taken before the student's module is imported


def class_of_each_sample(name, batch, classes):
    """Distinct classes, one per sample, from a seed the check can rebuild."""
    return np.random.default_rng(seed_from("cutmix", name, "classes")).permutation(classes)[:batch]


def make_batch(name, batch, channels, height, width, classes):
    images = torch.arange(1, batch * channels * height * width + 1, dtype=torch.float32)
    images = images.reshape(batch, channels, height, width)
    labels = torch.zeros(batch, classes)
    labels[torch.arange(batch), torch.from_numpy(class_of_each_sample(name, batch, classes))] = 1.0
    return images, labels


def returned_pair(result):
    """(images, labels) if the student returned two tensors, else None."""
    if isinstance(result, tuple | list) and len(result) == 2:
        images, labels = result
        if isinstance(images, torch.Tensor) and isinstance(labels, torch.Tensor):
            return images.detach().cpu(), labels.detach().cpu()
    return None


def _same(given, original):
    """Whether the tensor handed to the student still holds the batch (shape, dtype and values)."""
    return (
        isinstance(given, torch.Tensor)
        and given.shape == original.shape
        and given.dtype == original.dtype
        and bool(_equal(given.detach().cpu(), original))
    )


def summary(result):
    """What came back instead of (images, labels), for the check's message."""
    if isinstance(result, tuple | list):
        return {
            "type": type(result).__name__,
            "length": len(result),
            "items": [describe_tensor(item) for item in list(result)[:4]],
        }
    return {"type": type(result).__name__}


def run_series(ctx, name, alpha, batch, channels, height, width, classes, seeds, *, reseed=None):
    """Call cutmix once per seed; save the stacked outputs, or observe why they could not be stacked."""
    images, labels = make_batch(name, batch, channels, height, width, classes)
    outputs_images, outputs_labels = [], []
    first = None
    inputs = {"calls": 0, "images_changed": 0, "labels_changed": 0}
    for number, seed in enumerate(seeds):
        if reseed is not None:
            reseed(number)
        given_images, given_labels = images.clone(), labels.clone()
        result = ctx.call(
            f"{name}.call", "cutmix", given_images, given_labels, alpha, np.random.default_rng(seed)
        )
        inputs["calls"] += 1
        changed = (not _same(given_images, images), not _same(given_labels, labels))
        inputs["images_changed"] += changed[0]
        inputs["labels_changed"] += changed[1]
        if any(changed) and "first_changed" not in inputs:
            inputs["first_changed"] = number
        ctx.observe(f"{name}.inputs", inputs)
        if result is FAILED:
            return
        pair = returned_pair(result)
        if pair is None:
            ctx.observe(
                f"{name}.call", {"calls": number, "problem": "not-a-pair", "returned": summary(result)}
            )
            return
        out_images, out_labels = pair
        if first is None:
            first = {"images": ctx.describe_tensor(out_images), "labels": ctx.describe_tensor(out_labels)}
        if (
            out_images.shape != images.shape
            or out_labels.shape != labels.shape
            or not out_images.dtype.is_floating_point
            or not out_labels.dtype.is_floating_point
        ):
            ctx.observe(
                f"{name}.call",
                {
                    "calls": number,
                    "problem": "shape",
                    "images": ctx.describe_tensor(out_images),
                    "labels": ctx.describe_tensor(out_labels),
                },
            )
            return
        outputs_images.append(out_images.to(torch.float32))
        outputs_labels.append(out_labels.to(torch.float64))
    ctx.observe(f"{name}.call", {"calls": len(seeds), "problem": None, **first})
    ctx.save_array(f"{name}_images", torch.stack(outputs_images))
    ctx.save_array(f"{name}_labels", torch.stack(outputs_labels))


def scramble_global_state(number):
    """Different global seeds before each call: a result that depends on them is not seeded by `generator`."""
    value = 9173 * (number + 1)
    torch.manual_seed(value)
    np.random.seed(value)
    random.seed(value)


def probe(ctx):
    module = ctx.load_solution()
    for name, alpha, batch, channels, height, width, classes, first_seed, calls in SERIES:
        seeds = list(range(first_seed, first_seed + calls))
        run_series(ctx, name, alpha, batch, channels, height, width, classes, seeds)

    name, alpha, batch, channels, height, width, classes = REPEAT
    run_series(
        ctx, name, alpha, batch, channels, height, width, classes,
        [REPEAT_SEED, REPEAT_SEED, *OTHER_SEEDS], reseed=scramble_global_state,
    )  # fmt: skip

    writeup = getattr(module, "WRITEUP", None)
    if isinstance(writeup, str):
        ctx.observe("writeup", {"type": "str", "length": len(writeup.strip()), "text": writeup.strip()})
    else:
        ctx.observe("writeup", {"type": type(writeup).__name__})
