"""Probe for trial 3.1, image-augmentation. Runs inside the sandbox; observes, never judges.

It builds the student's two pipelines and feeds them images the statement never shows: the trial's
photo, a plain colour, a dark grey portrait, and a "ramp" whose red channel grows left to right and
blue channel top to bottom (so a flip shows as a sign change). The training pipeline runs many times
under fixed seeds, so flips and brightness changes are observed statistically, yet every grading run
sees the same draws. check.py reads the constants below as literals (never runs this file).
"""

import io
import random

import numpy as np
import torch
from PIL import Image

from exercises.kit.probe import FAILED, describe_tensor

DEFAULT_SIZE = 224
OTHER_SIZES = [96, 160]
COLOUR = [150, 100, 60]  # a plain colour image, 130 wide and 90 tall
GREY = 60  # a dark grey portrait, 110 wide and 150 tall
RAMP_SIZE = [160, 120]  # width, height
DRAWS = 40  # calls of the training pipeline per statistic
REPEATS = 8  # calls of the validation pipeline that must agree
SEED = 3101
MEAN = (0.485, 0.456, 0.406)  # only to turn outputs back into pictures for the student's artifact
STD = (0.229, 0.224, 0.225)


def images(public):
    photo = Image.open(public / "photo.png").convert("RGB")
    colour = Image.new("RGB", (130, 90), tuple(COLOUR))
    grey = Image.new("RGB", (110, 150), (GREY, GREY, GREY))
    width, height = RAMP_SIZE
    ramp = np.empty((height, width, 3), dtype=np.uint8)
    ramp[..., 0] = np.linspace(20, 235, width).round().astype(np.uint8)[None, :]
    ramp[..., 1] = 128
    ramp[..., 2] = np.linspace(20, 235, height).round().astype(np.uint8)[:, None]
    return {"photo": photo, "colour": colour, "grey": grey, "ramp": Image.fromarray(ramp)}


def seed_all(seed):
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


def summary(value):
    """What the checks need to know about one output."""
    return {"is_tensor": isinstance(value, torch.Tensor), **describe_tensor(value)}


def as_chw(value):
    """The output as a float (3, H, W) tensor, or None when it is not one."""
    if not isinstance(value, torch.Tensor) or value.dim() != 3 or value.shape[0] != 3:
        return None
    return value.detach().to("cpu", torch.float32).as_subclass(torch.Tensor)


def flips(tensor):
    """(flipped left-right, flipped top-bottom) for an output of the ramp."""
    red, blue = tensor[0], tensor[2]
    half_w, half_h = red.shape[1] // 2, blue.shape[0] // 2
    left_right = float(red[:, half_w:].mean() - red[:, :half_w].mean())
    top_bottom = float(blue[half_h:, :].mean() - blue[:half_h, :].mean())
    return left_right < 0, top_bottom < 0


def channel_means(tensor):
    return [float(value) for value in tensor.mean(dim=(1, 2))]


def probe(ctx):
    ctx.load_solution()
    pictures = images(ctx.public)

    built = ctx.call("build.default", "build_transforms")
    pipelines = unpack(ctx, "build.default", built)
    if pipelines is None:
        return
    train, val = pipelines

    # Output format at the default size, on a landscape photo, a wide and a tall image.
    for name, transform, picture in (
        ("train.photo", train, "photo"),
        ("val.photo", val, "photo"),
        ("train.grey", train, "grey"),
        ("val.colour", val, "colour"),
    ):
        seed_all(SEED)
        out = ctx.call(name, transform, pictures[picture])
        if out is not FAILED:
            ctx.observe(name, summary(out))

    observe_validation(ctx, val, pictures)
    observe_training(ctx, train, pictures)
    show_augmentations(ctx, train, val, pictures["photo"])

    for size in OTHER_SIZES:
        built = ctx.call(f"build.{size}", "build_transforms", size)
        pipelines = unpack(ctx, f"build.{size}", built)
        if pipelines is None:
            continue
        for name, transform, picture in (
            (f"size{size}.train.photo", pipelines[0], "photo"),
            (f"size{size}.val.photo", pipelines[1], "photo"),
            (f"size{size}.train.grey", pipelines[0], "grey"),
            (f"size{size}.val.colour", pipelines[1], "colour"),
        ):
            seed_all(SEED + size)
            out = ctx.call(name, transform, pictures[picture])
            if out is not FAILED:
                ctx.observe(name, summary(out))


def unpack(ctx, key, built):
    if built is FAILED:
        return None
    ok = isinstance(built, tuple | list) and len(built) == 2 and all(callable(item) for item in built)
    ctx.observe(key, {"pair_of_callables": ok, "type": type(built).__name__})
    return tuple(built) if ok else None


def call_chw(ctx, key, transform, image):
    """The output as a (3, H, W) float tensor, or None after recording why not under `key`."""
    out = ctx.call(key, transform, image)
    if out is FAILED:
        return None
    tensor = as_chw(out)
    if tensor is None:
        ctx.observe(key, {"not_chw": summary(out)})
    return tensor


def observe_validation(ctx, val, pictures):
    """Repeated validation calls: identical, never flipped, exactly normalised on plain colours."""
    outputs = []
    for index in range(REPEATS):
        seed_all(SEED + 100 + index)
        tensor = call_chw(ctx, "val.repeat", val, pictures["photo"])
        if tensor is None:
            return
        outputs.append(tensor)
    differences = [
        float((o - outputs[0]).abs().max()) if o.shape == outputs[0].shape else "shape" for o in outputs
    ]
    ctx.observe("val.repeat", {"calls": len(outputs), "differences": differences})
    ramp_flips, grey_means = [], []
    for index in range(REPEATS):
        seed_all(SEED + 200 + index)
        tensor = call_chw(ctx, "val.ramp", val, pictures["ramp"])
        if tensor is None:
            return
        ramp_flips.append(flips(tensor))
        tensor = call_chw(ctx, "val.grey", val, pictures["grey"])
        if tensor is None:
            return
        grey_means.append(channel_means(tensor))
    ctx.observe("val.ramp", {"flips": ramp_flips})
    ctx.save_array("val_grey_means", np.asarray(grey_means, dtype=np.float64))
    ctx.observe("val.grey", {"calls": len(grey_means)})
    seed_all(SEED + 300)
    tensor = call_chw(ctx, "val.colour.values", val, pictures["colour"])
    if tensor is not None:
        flat = tensor.reshape(3, -1)
        stats = torch.stack([flat.mean(1), flat.min(1).values, flat.max(1).values], dim=1)
        ctx.save_array("val_colour_stats", stats.double().numpy())  # (3 channels, mean/min/max)
        ctx.observe("val.colour.values", {"saved": True})


def observe_training(ctx, train, pictures):
    """Many training calls under one seed: how often the ramp flips, how the grey's brightness moves."""
    seed_all(SEED + 400)
    ramp_flips = []
    for _ in range(DRAWS):
        tensor = call_chw(ctx, "train.ramp", train, pictures["ramp"])
        if tensor is None:
            break
        ramp_flips.append(flips(tensor))
    else:
        ctx.observe("train.ramp", {"flips": ramp_flips})
    seed_all(SEED + 500)
    grey_means = []
    for _ in range(DRAWS):
        tensor = call_chw(ctx, "train.grey.values", train, pictures["grey"])
        if tensor is None:
            return
        grey_means.append(channel_means(tensor))
    ctx.save_array("train_grey_means", np.asarray(grey_means, dtype=np.float64))
    ctx.observe("train.grey.values", {"calls": len(grey_means)})


def picture(tensor, side=112):
    """A normalised (3, H, W) output as a side×side uint8 picture (undoing the ImageNet normalisation)."""
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    pixels = (tensor * std + mean).clamp(0, 1).mul(255).round().to(torch.uint8)
    image = Image.fromarray(pixels.permute(1, 2, 0).numpy())
    return image.resize((side, side), Image.Resampling.BILINEAR)


def show_augmentations(ctx, train, val, photo):
    """A picture for the student: the validation view, then eight training views of the same photo."""
    seed_all(SEED + 600)
    views = []
    try:
        views.append(as_chw(val(photo)))
        views.extend(as_chw(train(photo)) for _ in range(8))
    except Exception:  # the student's pipeline raised: the checks report it from their own calls
        return
    if any(view is None for view in views):
        return
    side, gap = 112, 4
    sheet = Image.new("RGB", (9 * side + 8 * gap + 2 * gap, side), (255, 255, 255))
    for index, view in enumerate(views):
        x = index * (side + gap) + (2 * gap if index else 0)
        sheet.paste(picture(view, side), (x, 0))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", optimize=True)
    ctx.save_artifact("augmentations", buffer.getvalue())
