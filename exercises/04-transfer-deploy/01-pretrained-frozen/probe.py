"""Probe for trial 4.1, pretrained-frozen. Runs inside the sandbox; observes, never judges.

1. `load_pretrained()`: a fingerprint of every tensor of the returned model's state_dict (the check
   compares it, outside, with the cached checkpoint it loads itself).
2. `freeze_backbone(model)` on the probe's own ResNet-18 (checkpoint weights, a new seeded 10-class
   head, in train mode as torchvision builds it): which parameters still require gradients.
3. `train_head(model, images, labels, steps)` on that model with digits upsampled to 3×32×32: the
   probe measures the loss itself (eval mode, no grad) before and after, and fingerprints the backbone
   afterwards, parameters and BatchNorm buffers alike.

It also records the sha256 of the checkpoint it sees at $TORCH_HOME, so the check knows it compares
against the same file. check.py reads the constants below as literals.
"""

import os

import torch
import torch.nn.functional as F
from torch import nn

from exercises.kit.digits import load_public
from exercises.kit.probe import FAILED
from exercises.kit.weights import checkpoint_path, fingerprint, is_standin, load_state, sha256_of

N_IMAGES = 32
STEPS = 10
SIZE = 32
NUM_CLASSES = 10
HEAD_SEED = 4101
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def digits_as_images(flat):
    """(n, 64) digits in [0, 1] as ImageNet-normalised (n, 3, SIZE, SIZE) float32 images."""
    images = torch.as_tensor(flat, dtype=torch.float32).reshape(-1, 1, 8, 8)
    images = F.interpolate(images, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    images = images.repeat(1, 3, 1, 1)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (images - mean) / std


def state_summary(model):
    """(names, shapes, fingerprint) of a module's whole state_dict."""
    state = model.state_dict()
    names = sorted(state)
    return names, [list(state[name].shape) for name in names], fingerprint(state, names)


def probe_model(checkpoint):
    """ResNet-18 with the checkpoint's weights and a new, seeded 10-class head, in train mode."""
    from torchvision.models import resnet18

    model = resnet18()
    model.load_state_dict(load_state(checkpoint))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(HEAD_SEED)
        model.fc = nn.Linear(model.fc.in_features, NUM_CLASSES)
    return model.train()


def probe_loss(model, images, labels):
    model.eval()
    with torch.no_grad():
        return float(F.cross_entropy(model(images), labels))


def probe(ctx):
    # One thread: two graders (or two test workers) share a 2-core machine, and oversubscribed OpenMP
    # threads make small convolutions many times slower. The same for every student.
    torch.set_num_threads(1)
    torch_home = os.environ.get("TORCH_HOME")
    checkpoint = checkpoint_path(torch_home) if torch_home else None
    if checkpoint is None or not checkpoint.is_file():
        ctx.observe("checkpoint", None)
        return
    ctx.observe("checkpoint", {"sha256": sha256_of(checkpoint), "stand_in": is_standin(torch_home)})

    ctx.load_solution()
    loaded = ctx.call("load", "load_pretrained")
    if loaded is not FAILED:
        if isinstance(loaded, nn.Module):
            names, shapes, values = state_summary(loaded)
            ctx.observe(
                "load", {"module": True, "type": type(loaded).__name__, "names": names, "shapes": shapes}
            )
            ctx.save_array("load_fingerprint", values)
        else:
            ctx.observe("load", {"module": False, "type": type(loaded).__name__})
    del loaded

    model = probe_model(checkpoint)
    returned = ctx.call("freeze", "freeze_backbone", model)
    if returned is FAILED:
        return
    if returned is not None and not isinstance(returned, nn.Module):
        ctx.observe("freeze", {"returned": type(returned).__name__})
        return
    model = model if returned is None else returned
    ctx.observe(
        "freeze",
        {
            "returned": "none" if returned is None else "module",
            "parameters": [[name, bool(p.requires_grad)] for name, p in model.named_parameters()],
        },
    )

    data = load_public(ctx.public)
    images = digits_as_images(data["train_x"][:N_IMAGES])
    labels = torch.as_tensor(data["train_y"][:N_IMAGES], dtype=torch.long)
    before = probe_loss(model, images, labels)
    head_before = [p.detach().clone() for p in model.fc.parameters()] if hasattr(model, "fc") else []
    model.train()  # as a freshly built torchvision model is: train_head decides the mode itself
    losses = ctx.call("train", "train_head", model, images, labels, STEPS)
    if losses is FAILED:
        return
    head_after = list(model.fc.parameters()) if hasattr(model, "fc") else []
    head_change = max(
        (float((a.detach() - b).abs().max()) for a, b in zip(head_after, head_before, strict=False)),
        default=0.0,
    )
    after = probe_loss(model, images, labels)
    state = model.state_dict()
    names = sorted(name for name in state if not name.startswith("fc."))
    ctx.observe(
        "train",
        {
            "returned": losses if isinstance(losses, list | tuple) else {"type": type(losses).__name__},
            "loss_before": before,
            "loss_after": after,
            "head_change": head_change,
            "backbone_names": names,
            "backbone_shapes": [list(state[name].shape) for name in names],
        },
    )
    ctx.save_array("backbone_after", fingerprint(state, names))
