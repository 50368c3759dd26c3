"""Driver for trial 3.4, grad-cam. The student's code runs in the agent; this process drives it.

The model lives in the agent (`agent_cam`); the images are sent from here and the heatmaps and overlays
come back as data, so the heatmaps' shape, peaks and the overlay are *verified* outside (the boxes stay
in hidden/); what the hooks saw (eval mode, autograd on, BatchNorm statistics changed) is *observed*.
In the agent's routine, as before, it loads the kit's reference CNN from public/ and hands it to the student's grad_cam() in *training*
mode, the way a model comes out of a training loop, with hooks that record every forward pass: was the
model in eval mode, was autograd on. It also snapshots the BatchNorm running statistics, which any
forward pass in training mode changes. Then it asks for heatmaps of the 24 public images (their boxes
stay in hidden/), of a batch of one, and of two larger 96×96 images, and it renders the student's
overlays into a picture for the student. check.py reads the constants below as literals.
"""

import io

import numpy as np
import torch
from PIL import Image

from exercises.kit.probe import FAILED, describe_tensor
from exercises.kit.shapes import WEIGHTS_FILE, load_reference_cnn, make_shapes, to_tensor

LARGE_SEED = 3402
LARGE_SIZE = 96
LARGE_COUNT = 2
ARTIFACT_IMAGES = 6
BLOB_CENTRE = [20, 44]  # row, column of the synthetic heatmap given to overlay()


class Recorder:
    """Forward pre-hook on the model: (training, grad enabled) for every call."""

    def __init__(self, model):
        self.calls = []
        self.handle = model.register_forward_pre_hook(self.hook)

    def hook(self, module, args):
        self.calls.append([bool(module.training), bool(torch.is_grad_enabled())])


def bn_state(model):
    return {
        name: tensor.detach().clone()
        for name, tensor in model.state_dict().items()
        if "running_" in name or "num_batches_tracked" in name
    }


def heatmap_array(value):
    """The returned heatmaps as a float32 numpy array, or None (with the reason in the summary)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float32).numpy()
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(np.float32)
    return None


def summary(value):
    array = heatmap_array(value)
    info = {"type": getattr(value, "type_name", type(value).__name__)}
    if array is None:
        info.update({**describe_tensor(value), "type": info["type"]})
        return info, None
    finite = bool(np.isfinite(array).all())
    info.update({"shape": list(array.shape), "dtype": str(value.dtype), "finite": finite})
    if finite and array.size:
        info.update({"min": float(array.min()), "max": float(array.max())})
    return info, array


MODEL = []


def agent_cam(solution, images, watch_batchnorm):
    """grad_cam() on the kit's reference CNN in training mode, with the hooks; the heatmaps and what the
    hooks saw (and, for the main call, whether BatchNorm's running statistics changed)."""
    from pathlib import Path

    torch.set_num_threads(1)
    if not MODEL:
        MODEL.append(load_reference_cnn(Path(solution.__file__).parent / "public" / WEIGHTS_FILE))
    model = MODEL[0]
    model.train()  # as it comes out of a training loop
    before = bn_state(model)
    recorder = Recorder(model)
    try:
        out = solution.grad_cam(model, images)
    finally:
        recorder.handle.remove()
    answer = {"out": out, "forwards": recorder.calls, "training_after": bool(model.training)}
    if watch_batchnorm:
        after = bn_state(model)
        answer["bn_changed"] = any(not torch.equal(before[name], after[name]) for name in before)
    return answer


def call_cam(ctx, key, images, watch_batchnorm=False):
    answer = ctx.run(key, "agent_cam", images, watch_batchnorm)
    if not isinstance(answer, dict):
        return None
    info, array = summary(answer.get("out"))
    info["forwards"] = answer.get("forwards")
    info["training_after"] = answer.get("training_after")
    ctx.observe(key, info)
    if watch_batchnorm:
        ctx.observe("bn.changed", answer.get("bn_changed"))
    return array


def blob(size):
    rows, cols = np.mgrid[0:size, 0:size]
    row, col = BLOB_CENTRE
    return np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * 8.0**2)).astype(np.float32)


def driver(ctx):
    torch.set_num_threads(1)
    ctx.load_solution()
    with np.load(ctx.public / "cam_images.npz", allow_pickle=False) as archive:
        pictures = archive["images"]
    images = to_tensor(pictures)

    heatmaps = call_cam(ctx, "cam.main", images.clone(), watch_batchnorm=True)
    if heatmaps is not None and heatmaps.ndim == 3 and heatmaps.shape[0] == len(images):
        ctx.save_array("heatmaps", heatmaps)
    call_cam(ctx, "cam.single", images[:1].clone())
    large = to_tensor(make_shapes(LARGE_COUNT, LARGE_SEED, size=LARGE_SIZE).images)
    call_cam(ctx, "cam.large", large)

    # overlay() on a heatmap of our own, so that this check does not depend on grad_cam().
    picture = pictures[0].astype(np.float32) / 255.0
    mixed = ctx.call("overlay", "overlay", picture.copy(), blob(picture.shape[0]))
    if mixed is not FAILED:
        array = np.asarray(mixed) if isinstance(mixed, np.ndarray | torch.Tensor) else None
        ctx.observe(
            "overlay",
            {"type": getattr(mixed, "type_name", type(mixed).__name__),
             "shape": list(array.shape) if array is not None else None,
             "dtype": str(array.dtype) if array is not None else None},
        )  # fmt: skip
        if array is not None and array.dtype.kind in "biuf":
            ctx.save_array("overlay", array)

    if heatmaps is not None and heatmaps.shape[1:] == pictures.shape[1:3]:
        artifact(ctx, pictures, heatmaps)


def artifact(ctx, pictures, heatmaps):
    """Pictures and the student's overlays, two rows of six, for the student to look at."""
    tiles = []
    for index in range(min(ARTIFACT_IMAGES, len(pictures))):
        picture = pictures[index].astype(np.float32) / 255.0
        mixed = ctx.call("picture", "overlay", picture.copy(), heatmaps[index].copy())
        if not isinstance(mixed, np.ndarray | torch.Tensor):
            ctx.observations.pop("picture", None)  # the overlay check reports the student's error itself
            return
        mixed = np.asarray(mixed)
        if mixed.shape != picture.shape:
            return
        if mixed.dtype != np.uint8:
            mixed = (np.clip(mixed.astype(np.float32), 0, 1) * 255).round().astype(np.uint8)
        tiles.append((pictures[index], mixed))
    scale, gap = 3, 6
    side = pictures.shape[1] * scale
    sheet = Image.new("RGB", (len(tiles) * (side + gap) - gap, 2 * side + gap), (255, 255, 255))
    for column, (plain, mixed) in enumerate(tiles):
        x = column * (side + gap)
        sheet.paste(Image.fromarray(plain).resize((side, side), Image.Resampling.NEAREST), (x, 0))
        sheet.paste(Image.fromarray(mixed).resize((side, side), Image.Resampling.NEAREST), (x, side + gap))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", optimize=True)
    saved = ctx.save_artifact("grad-cam", buffer.getvalue())
    ctx.observe("artifact", {"saved": saved, "bytes": len(buffer.getvalue())})
