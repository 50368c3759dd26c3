"""Driver for trial 4.1, pretrained-frozen. The student's code runs in the agent; this process drives it.

The models live in the agent (`agent_load`, `agent_freeze`, `agent_train`); what comes back are
outcomes: the loaded model's whole state_dict, and the trained model's. From those this process computes
every fingerprint and the loss after training itself, on its own ResNet-18, so pretrained-weights,
head-learns, backbone-unchanged and batchnorm-statistics-kept are *verified*; which parameters still
require gradients after freeze_backbone is *observed* (a flag the student's process reports).
The steps, as before:

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


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process): the model lives here between calls

MODEL = []


def agent_load(solution):
    torch.set_num_threads(1)
    loaded = solution.load_pretrained()
    if not isinstance(loaded, nn.Module):
        return {"module": False, "type": type(loaded).__name__}
    return {"module": True, "type": type(loaded).__name__, "state": dict(loaded.state_dict())}


def agent_freeze(solution, checkpoint):
    from pathlib import Path

    model = probe_model(Path(checkpoint))
    returned = solution.freeze_backbone(model)
    if returned is not None and not isinstance(returned, nn.Module):
        return {"returned": type(returned).__name__}
    model = model if returned is None else returned
    MODEL[:] = [model]
    return {
        "returned": "none" if returned is None else "module",
        "parameters": [[name, bool(p.requires_grad)] for name, p in model.named_parameters()],
    }


def agent_train(solution, images, labels, steps):
    model = MODEL[0]
    model.train()  # as a freshly built torchvision model is: train_head decides the mode itself
    losses = solution.train_head(model, images, labels, steps)
    return {"returned": losses, "state": dict(model.state_dict())}


# ---------------------------------------------------------------------------------------------------
# In the driver


def driver(ctx):
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
    loaded = ctx.run("load", "agent_load")
    if isinstance(loaded, dict) and loaded.get("module") is True and isinstance(loaded.get("state"), dict):
        state = {
            str(name): value for name, value in loaded["state"].items() if isinstance(value, torch.Tensor)
        }
        names = sorted(state)
        ctx.observe(
            "load",
            {"module": True, "type": str(loaded.get("type"))[:200], "names": names,
             "shapes": [list(state[name].shape) for name in names]},
        )  # fmt: skip
        ctx.save_array("load_fingerprint", fingerprint(state, names))
    elif isinstance(loaded, dict):
        ctx.observe("load", {"module": False, "type": str(loaded.get("type"))[:200]})
    del loaded

    frozen = ctx.run("freeze", "agent_freeze", str(checkpoint))
    if not isinstance(frozen, dict):
        return
    ctx.observe("freeze", frozen)
    if "parameters" not in frozen:
        return

    # This process's own copy, as the agent's was before training: the loss before, the head before.
    reference = probe_model(checkpoint)
    data = load_public(ctx.public)
    images = digits_as_images(data["train_x"][:N_IMAGES])
    labels = torch.as_tensor(data["train_y"][:N_IMAGES], dtype=torch.long)
    before = probe_loss(reference, images, labels)
    head_before = {name: p.detach().clone() for name, p in reference.fc.named_parameters()}
    trained = ctx.run("train", "agent_train", images, labels, STEPS)
    if not isinstance(trained, dict):
        return
    returned = trained.get("returned")
    state = trained.get("state") if isinstance(trained.get("state"), dict) else {}
    state = {str(name): value for name, value in state.items() if isinstance(value, torch.Tensor)}
    after, head_change = None, 0.0
    try:
        reference.load_state_dict(state)
        after = probe_loss(reference, images, labels)
        head_change = max(
            float((state[f"fc.{name}"].double() - value.double()).abs().max())
            for name, value in head_before.items()
        )
    except (RuntimeError, KeyError, ValueError) as error:  # not a ResNet-18 with a 10-class head any more
        print(f"the trained model's state_dict does not fit a ResNet-18 with a 10-class head: {error}")
    names = sorted(name for name in state if not name.startswith("fc."))
    ctx.observe(
        "train",
        {
            "returned": returned if isinstance(returned, list | tuple) else {"type": type(returned).__name__},
            "loss_before": before,
            "loss_after": after,
            "head_change": head_change,
            "backbone_names": names,
            "backbone_shapes": [list(state[name].shape) for name in names],
        },
    )
    ctx.save_array("backbone_after", fingerprint(state, names))
