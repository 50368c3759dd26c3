"""Driver for trial 3.1, image-augmentation. The student's code runs in the agent; this process drives it.

The two pipelines are live objects, so they are built and kept in the agent (`agent_build`) and run
there on pictures this process sends as pixels (`agent_apply`); every output comes back as data, and
every summary, flip, brightness and difference below is computed here from the tensors received
(*verified*). Only whether build_transforms() returned a pair of callables is *observed*. The pictures
are those the statement never shows: the trial's photo, a plain colour, a dark grey portrait, and a
"ramp" whose red channel grows left to right and blue channel top to bottom (so a flip shows as a sign
change). The training pipeline runs many times under fixed seeds, so flips and brightness changes are
observed statistically, yet every grading run sees the same draws. check.py reads the constants below
as literals (never runs this file).
"""

import io
import random

import numpy as np
import torch
from PIL import Image

from exercises.kit.probe import FAILED

DEFAULT_SIZE = 224
OTHER_SIZES = [96, 160]
COLOUR = [150, 100, 60]  # a plain colour image, 130 wide and 90 tall
GREY = 60  # a dark grey portrait, 110 wide and 150 tall
RAMP_SIZE = [160, 120]  # width, height
DRAWS = 40  # calls of the training pipeline per statistic
REPEATS = 8  # calls of the validation pipeline that must agree
VIEWS = 8  # training views of the photo in the student's picture
SEED = 3101
MEAN = (0.485, 0.456, 0.406)  # only to turn outputs back into pictures for the student's artifact
STD = (0.229, 0.224, 0.225)
PIPELINE_INDEX = {"train": 0, "val": 1}


def images(public):
    """The four pictures as (H, W, 3) uint8 tensors: pixels are what crosses the boundary."""
    photo = np.asarray(Image.open(public / "photo.png").convert("RGB"))
    colour = np.empty((90, 130, 3), dtype=np.uint8)
    colour[...] = COLOUR
    grey = np.full((150, 110, 3), GREY, dtype=np.uint8)
    width, height = RAMP_SIZE
    ramp = np.empty((height, width, 3), dtype=np.uint8)
    ramp[..., 0] = np.linspace(20, 235, width).round().astype(np.uint8)[None, :]
    ramp[..., 1] = 128
    ramp[..., 2] = np.linspace(20, 235, height).round().astype(np.uint8)[:, None]
    pictures = {"photo": photo, "colour": colour, "grey": grey, "ramp": ramp}
    return {name: torch.from_numpy(np.ascontiguousarray(pixels)) for name, pixels in pictures.items()}


def seed_all(seed):
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process): the pipelines live here between calls

PIPELINES = {}


def agent_build(solution, key, *args):
    """build_transforms(*args), kept under `key` when it is a pair of callables."""
    built = solution.build_transforms(*args)
    ok = isinstance(built, tuple | list) and len(built) == 2 and all(callable(item) for item in built)
    if ok:
        PIPELINES[key] = tuple(built)
    return {"pair_of_callables": ok, "type": type(built).__name__}


def agent_apply(solution, build, which, pixels, seeds):
    """One call of the pipeline per entry of `seeds`, each after seeding everything with it (None: go on
    from the random state as it is). The outputs are returned as they are."""
    image = Image.fromarray(pixels.numpy())
    transform = PIPELINES[build][which]
    outputs = []
    for seed in seeds:
        if seed is not None:
            seed_all(seed)
        outputs.append(transform(image))
    return outputs


def agent_views(solution, pixels):
    """The validation view of the photo, then VIEWS training views, for the student's picture (None
    when the pipeline raised: the checks report that from their own calls)."""
    train, val = PIPELINES["build.default"]
    image = Image.fromarray(pixels.numpy())
    seed_all(SEED + 600)
    try:
        return [val(image), *(train(image) for _ in range(VIEWS))]
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------------
# In the driver


def summary(ctx, value):
    """What the checks need to know about one output, from the data that arrived here."""
    return {"is_tensor": isinstance(value, torch.Tensor), **ctx.describe_tensor(value)}


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


def build(ctx, key, *args):
    """Build the pipelines in the agent under `key`; True when they are a pair of callables."""
    answer = ctx.run(key, "agent_build", key, *args)
    if answer is FAILED:
        return False
    if not isinstance(answer, dict):
        return False
    ok = answer.get("pair_of_callables") is True
    ctx.observe(key, {"pair_of_callables": ok, "type": str(answer.get("type"))})
    return ok


def apply(ctx, key, build_key, pipeline, picture, seeds):
    """The outputs of len(seeds) calls, or None (the error is recorded under `key`)."""
    answer = ctx.run(key, "agent_apply", build_key, PIPELINE_INDEX[pipeline], picture, list(seeds))
    if answer is FAILED or not isinstance(answer, list) or len(answer) != len(seeds):
        return None
    return answer


def apply_chw(ctx, key, build_key, pipeline, picture, seeds):
    """The outputs as (3, H, W) float tensors, or None after recording why not under `key`."""
    outputs = apply(ctx, key, build_key, pipeline, picture, seeds)
    if outputs is None:
        return None
    tensors = []
    for out in outputs:
        tensor = as_chw(out)
        if tensor is None:
            ctx.observe(key, {"not_chw": summary(ctx, out)})
            return None
        tensors.append(tensor)
    return tensors


def driver(ctx):
    ctx.load_solution()
    pictures = images(ctx.public)
    if not build(ctx, "build.default"):
        return

    # Output format at the default size, on a landscape photo, a wide and a tall image.
    for name, pipeline, picture in (
        ("train.photo", "train", "photo"),
        ("val.photo", "val", "photo"),
        ("train.grey", "train", "grey"),
        ("val.colour", "val", "colour"),
    ):
        outputs = apply(ctx, name, "build.default", pipeline, pictures[picture], [SEED])
        if outputs is not None:
            ctx.observe(name, summary(ctx, outputs[0]))

    observe_validation(ctx, pictures)
    observe_training(ctx, pictures)
    show_augmentations(ctx, pictures["photo"])

    for size in OTHER_SIZES:
        build_key = f"build.{size}"
        if not build(ctx, build_key, size):
            continue
        for pipeline, picture in (("train", "photo"), ("val", "photo"), ("train", "grey"), ("val", "colour")):
            name = f"size{size}.{pipeline}.{picture}"
            outputs = apply(ctx, name, build_key, pipeline, pictures[picture], [SEED + size])
            if outputs is not None:
                ctx.observe(name, summary(ctx, outputs[0]))


def observe_validation(ctx, pictures):
    """Repeated validation calls: identical, never flipped, exactly normalised on plain colours."""
    seeds = [SEED + 100 + index for index in range(REPEATS)]
    outputs = apply_chw(ctx, "val.repeat", "build.default", "val", pictures["photo"], seeds)
    if outputs is None:
        return
    differences = [
        float((o - outputs[0]).abs().max()) if o.shape == outputs[0].shape else "shape" for o in outputs
    ]
    ctx.observe("val.repeat", {"calls": len(outputs), "differences": differences})
    seeds = [SEED + 200 + index for index in range(REPEATS)]
    ramps = apply_chw(ctx, "val.ramp", "build.default", "val", pictures["ramp"], seeds)
    if ramps is None:
        return
    seeds = [SEED + 250 + index for index in range(REPEATS)]
    greys = apply_chw(ctx, "val.grey", "build.default", "val", pictures["grey"], seeds)
    if greys is None:
        return
    ctx.observe("val.ramp", {"flips": [flips(tensor) for tensor in ramps]})
    ctx.save_array("val_grey_means", np.asarray([channel_means(t) for t in greys], dtype=np.float64))
    ctx.observe("val.grey", {"calls": len(greys)})
    colour = apply_chw(ctx, "val.colour.values", "build.default", "val", pictures["colour"], [SEED + 300])
    if colour is not None:
        flat = colour[0].reshape(3, -1)
        stats = torch.stack([flat.mean(1), flat.min(1).values, flat.max(1).values], dim=1)
        ctx.save_array("val_colour_stats", stats.double().numpy())  # (3 channels, mean/min/max)
        ctx.observe("val.colour.values", {"saved": True})


def observe_training(ctx, pictures):
    """Many training calls under one seed: how often the ramp flips, how the grey's brightness moves."""
    seeds = [SEED + 400] + [None] * (DRAWS - 1)
    ramps = apply_chw(ctx, "train.ramp", "build.default", "train", pictures["ramp"], seeds)
    if ramps is not None:
        ctx.observe("train.ramp", {"flips": [flips(tensor) for tensor in ramps]})
    seeds = [SEED + 500] + [None] * (DRAWS - 1)
    greys = apply_chw(ctx, "train.grey.values", "build.default", "train", pictures["grey"], seeds)
    if greys is None:
        return
    ctx.save_array("train_grey_means", np.asarray([channel_means(t) for t in greys], dtype=np.float64))
    ctx.observe("train.grey.values", {"calls": len(greys)})


def picture(tensor, side=112):
    """A normalised (3, H, W) output as a side×side uint8 picture (undoing the ImageNet normalisation)."""
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    pixels = (tensor * std + mean).clamp(0, 1).mul(255).round().to(torch.uint8)
    image = Image.fromarray(pixels.permute(1, 2, 0).numpy())
    return image.resize((side, side), Image.Resampling.BILINEAR)


def show_augmentations(ctx, photo):
    """A picture for the student, drawn here from the outputs received: the validation view, then eight
    training views of the same photo."""
    answer = ctx.run("views", "agent_views", photo)
    if not isinstance(answer, list) or len(answer) != VIEWS + 1:
        return
    views = [as_chw(view) for view in answer]
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
