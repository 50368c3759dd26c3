"""Driver for trial 4.1, pretrained-frozen. The student's code runs in the agent; this process drives it.

The models live in the agent (`agent_load`, `agent_freeze`, `agent_train`); what comes back are
outcomes: the loaded model's whole state_dict, and the trained model's. From those this process computes
every fingerprint and the loss after training itself, on its own ResNet-18, so pretrained-weights,
head-learns, backbone-unchanged and batchnorm-statistics-kept are *verified*; which parameters still
require gradients after freeze_backbone is *observed* (a flag the student's process reports).

The trained head is also *replayed* (`replay_head`): a state that holds the pretrained backbone beside a
head trained some other way (a backbone that moved during training, BatchNorm in train mode) would
otherwise pass. The agent records, at every optimizer step, the optimizer's class and its parameter
groups' settings (`StepRecorder`: which head parameters each group holds, learning rate, momentum,
betas, weight decay …); this process then trains a fresh copy of the same initial head on the features
of its own frozen backbone in eval mode, with the same optimizer and settings step by step, and the
check compares the returned head with that replay. The record is the student's to forge, but no
setting makes the replay land on a head that was not trained on the frozen features.
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


# Optimizers the replay can rebuild, and the group settings it takes over (anything else is the default).
REPLAY_OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]
MAX_RECORDED_STEPS = 100


class StepRecorder:
    """Every optimizer step while train_head runs: which optimizer (by order of first step), its class
    and each parameter group's settings with the names of the head parameters it holds."""

    def __init__(self, model):
        self.names = {id(parameter): name for name, parameter in model.named_parameters()}
        self.optimizers = {}
        self.steps = []

    def __call__(self, optimizer, args, kwargs):
        if len(self.steps) >= MAX_RECORDED_STEPS:
            self.steps.append(None)  # too many: the record says so
            return
        index = self.optimizers.setdefault(id(optimizer), len(self.optimizers))
        groups = []
        for group in optimizer.param_groups:
            settings = {"params": [self.names.get(id(p), "?") for p in group["params"]]}
            for name, value in group.items():
                if name == "params":
                    continue
                if isinstance(value, torch.Tensor) and value.numel() == 1:
                    value = float(value)
                if value is None or isinstance(value, bool | int | float | str):
                    settings[name] = value
                elif isinstance(value, tuple) and all(isinstance(item, int | float) for item in value):
                    settings[name] = list(value)
            groups.append(settings)
        self.steps.append({"optimizer": index, "class": type(optimizer).__name__, "groups": groups})


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
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    model = MODEL[0]
    model.train()  # as a freshly built torchvision model is: train_head decides the mode itself
    recorder = StepRecorder(model)
    handle = register_optimizer_step_pre_hook(recorder)
    try:
        losses = solution.train_head(model, images, labels, steps)
    finally:
        handle.remove()
    return {"returned": losses, "state": dict(model.state_dict()), "steps": recorder.steps}


# ---------------------------------------------------------------------------------------------------
# The replay, in the driver


def frozen_features(model, images):
    """The frozen backbone's features (eval mode, no grad) of `images`, from the driver's own model."""
    model.eval()
    head, model.fc = model.fc, nn.Identity()
    try:
        with torch.no_grad():
            return model(images)
    finally:
        model.fc = head


def replay_head(features, labels, head_before, steps):
    """Train a copy of the initial head on `features` as the record says: the same optimizer class,
    groups and settings at every step, the whole batch, cross-entropy. Returns (head, None) or
    (None, why it cannot be replayed)."""
    if not isinstance(steps, list) or not steps:
        return None, "no-steps"
    if len(steps) > MAX_RECORDED_STEPS or any(not isinstance(step, dict) for step in steps):
        return None, "too-many-steps"
    head = nn.Linear(features.shape[1], NUM_CLASSES)
    with torch.no_grad():
        head.weight.copy_(head_before["weight"])
        head.bias.copy_(head_before["bias"])
    parameters = {"fc.weight": head.weight, "fc.bias": head.bias}
    built = {}
    try:
        for step in steps:
            name = step.get("class")
            if name not in REPLAY_OPTIMIZERS:
                return None, f"optimizer:{str(name)[:80]}"
            groups = []
            for group in step.get("groups") or []:
                held = [parameters[p] for p in group.get("params") or [] if p in parameters]
                if held:
                    settings = {k: v for k, v in group.items() if k != "params"}
                    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
                    groups.append({"params": held, **settings})
            if not groups:
                return None, "no-head-parameters"
            index = step.get("optimizer")
            optimizer = built.get(index)
            if optimizer is None or len(optimizer.param_groups) != len(groups):
                optimizer = built[index] = getattr(torch.optim, name)(groups)
            else:
                for group, settings in zip(optimizer.param_groups, groups, strict=True):
                    group.update({k: v for k, v in settings.items() if k != "params"})
            optimizer.zero_grad()
            F.cross_entropy(head(features), labels).backward()
            optimizer.step()
    except (TypeError, ValueError, KeyError, RuntimeError) as error:
        return None, f"settings:{type(error).__name__}: {str(error)[:200]}"
    return head, None


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
    features = frozen_features(reference, images)
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
    ctx.observe("train.replay", replay_outcome(trained.get("steps"), state, features, labels, head_before))
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


def replay_outcome(steps, state, features, labels, head_before):
    """How far the returned head lies from the replay, relative to how far the replay moved the head."""
    head, why = replay_head(features, labels, head_before, steps)
    if head is None:
        return {"replayed": False, "why": why}
    got = [state.get("fc.weight"), state.get("fc.bias")]
    if not all(isinstance(value, torch.Tensor) for value in got) or got[0].shape != head.weight.shape:
        return {"replayed": False, "why": "no-head"}
    if got[1].shape != head.bias.shape:
        return {"replayed": False, "why": "no-head"}
    want = torch.cat([head.weight.detach().reshape(-1), head.bias.detach().reshape(-1)]).double()
    start = torch.cat([head_before["weight"].reshape(-1), head_before["bias"].reshape(-1)]).double()
    returned = torch.cat([got[0].reshape(-1), got[1].reshape(-1)]).double()
    moved = float(torch.linalg.vector_norm(want - start))
    return {
        "replayed": True,
        "steps": len(steps),
        "optimizer": str(steps[0].get("class")),
        "difference": float(torch.linalg.vector_norm(returned - want)) / max(moved, 1e-12),
    }
