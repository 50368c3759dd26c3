"""Probe for trial 4.2, replace-head. Runs inside the sandbox; observes, never judges.

1. `replace_head(model, 10)` on a frozen pretrained ResNet-18: the new head's type, sizes, flags and
   values (saved for the check, which compares them with the checkpoint's old head), the output shape,
   and whether the backbone stayed frozen. In Submit mode also on an EfficientNet-B0 (a `classifier`
   head) and a small net whose `fc` takes 48 features.
2. Stage 1: `fine_tune(model, optimizer, images, labels, epochs, batch_size)` on the probe's own frozen
   ResNet-18 with a seeded 10-class head and an Adam optimizer over the head: optimizer steps counted
   with a hook, the loss measured by the probe before and after, then the probe's predictions on the
   held-out digits (their labels stay outside).
3. Stage 2 (Submit): `unfreeze_last_block(model, head_lr)`: requires_grad per parameter, the optimizer's
   parameter groups by name and learning rate; then one more `fine_tune` epoch with that optimizer and
   which parameters changed.
4. Stage 3 (Submit): `compare_strategies(...)`: the returned table, the call's duration, and the
   number of parameters each optimizer step actually updated (those with a gradient).

check.py reads the constants below as literals.
"""

import os
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from exercises.kit.digits import load_public
from exercises.kit.probe import FAILED
from exercises.kit.weights import checkpoint_path, load_state, sha256_of

SIZE = 32
NUM_CLASSES = 10
HEAD_SEED = 4201
FINE_TUNE_IMAGES = 512
LOSS_IMAGES = 256  # the probe measures the loss on the first 256 of them
EPOCHS = 2
BATCH_SIZE = 32
HEAD_LR = 1e-2
UNFREEZE_HEAD_LR = 1e-3
UNFREEZE_EPOCHS = 1
UNFREEZE_IMAGES = 256
COMPARE_TRAIN = (512, 768)  # slices of the public training split
COMPARE_VAL = (768, 896)
COMPARE_EPOCHS = 2
OTHER_MODELS = [("efficientnet", 7), ("small", 3)]
SMALL_FEATURES = 48
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


class SmallNet(nn.Module):
    """A backbone of another width: its head `fc` takes 48 features, not 512."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, SMALL_FEATURES, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1)
        )
        self.fc = nn.Linear(SMALL_FEATURES, 1000)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def pretrained_resnet(checkpoint, *, head_seed=None):
    """ResNet-18 with the checkpoint's weights, every parameter frozen, in train mode as built."""
    from torchvision.models import resnet18

    model = resnet18()
    model.load_state_dict(load_state(checkpoint))
    model.requires_grad_(False)
    if head_seed is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(head_seed)
            model.fc = nn.Linear(model.fc.in_features, NUM_CLASSES)
    return model.train()


def count_steps(optimizer):
    counter = {"steps": 0}

    def hook(*_):
        counter["steps"] += 1

    optimizer.register_step_post_hook(hook)
    return counter


def evaluate(model, images, labels):
    model.eval()
    with torch.no_grad():
        logits = model(images)
    return float(F.cross_entropy(logits, labels)), logits.argmax(1)


def snapshot(model):
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def probe(ctx):
    # One thread: two graders (or two test workers) share a 2-core machine, and oversubscribed OpenMP
    # threads make small convolutions many times slower. The same for every student.
    torch.set_num_threads(1)
    torch_home = os.environ.get("TORCH_HOME")
    checkpoint = checkpoint_path(torch_home) if torch_home else None
    if checkpoint is None or not checkpoint.is_file():
        ctx.observe("checkpoint", None)
        return
    ctx.observe("checkpoint", {"sha256": sha256_of(checkpoint)})
    ctx.load_solution()
    data = load_public(ctx.public)
    observe_replace_head(ctx, checkpoint)
    if ctx.mode == "submit":
        observe_other_models(ctx)

    model = pretrained_resnet(checkpoint, head_seed=HEAD_SEED)
    images = digits_as_images(data["train_x"][:FINE_TUNE_IMAGES])
    labels = torch.as_tensor(data["train_y"][:FINE_TUNE_IMAGES], dtype=torch.long)
    if not observe_fine_tune(ctx, model, images, labels, digits_as_images(data["test_x"])):
        return
    if ctx.mode != "submit":
        return
    observe_unfreeze(ctx, model, images[:UNFREEZE_IMAGES], labels[:UNFREEZE_IMAGES])
    observe_comparison(ctx, data)


def observe_replace_head(ctx, checkpoint):
    model = pretrained_resnet(checkpoint)
    returned = ctx.call("replace", "replace_head", model, NUM_CLASSES)
    if returned is FAILED:
        return
    if not isinstance(returned, nn.Module):
        ctx.observe("replace", {"module": False, "type": type(returned).__name__})
        return
    head = getattr(returned, "fc", None)
    seen = {
        "module": True,
        "head_type": type(head).__name__,
        "in_features": getattr(head, "in_features", None),
        "out_features": getattr(head, "out_features", None),
        "head_trainable": [bool(p.requires_grad) for p in head.parameters()]
        if isinstance(head, nn.Module)
        else [],
        "backbone_trainable": sorted(
            name for name, p in returned.named_parameters() if p.requires_grad and not name.startswith("fc.")
        ),
    }
    if isinstance(head, nn.Linear):
        ctx.save_array("head_weight", head.weight)
        if head.bias is not None:
            ctx.save_array("head_bias", head.bias)
    returned.eval()
    with torch.no_grad():
        output = ctx.call("replace.forward", returned, torch.zeros(4, 3, SIZE, SIZE))
    if output is not FAILED:
        seen["output"] = ctx.describe_tensor(output)
    ctx.observe("replace", seen)


def observe_other_models(ctx):
    from torchvision.models import efficientnet_b0

    for name, classes in OTHER_MODELS:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(classes)
            model = efficientnet_b0() if name == "efficientnet" else SmallNet()
        model.requires_grad_(False)
        returned = ctx.call(f"other.{name}", "replace_head", model, classes)
        if returned is FAILED:
            continue
        if not isinstance(returned, nn.Module):
            ctx.observe(f"other.{name}", {"module": False, "type": type(returned).__name__})
            continue
        returned.eval()
        with torch.no_grad():
            if name == "efficientnet":
                # EfficientNet's forward ends features → avgpool → flatten → classifier: run the last step.
                classifier = getattr(returned, "classifier", None)
                output = (
                    ctx.call(f"other.{name}.forward", classifier, torch.zeros(2, 1280))
                    if classifier
                    else None
                )
            else:
                output = ctx.call(f"other.{name}.forward", returned, torch.zeros(2, 3, SIZE, SIZE))
        ctx.observe(
            f"other.{name}",
            {
                "module": True,
                "output": None if output in (None, FAILED) else ctx.describe_tensor(output),
                "trainable": sum(p.numel() for p in returned.parameters() if p.requires_grad),
            },
        )


def observe_fine_tune(ctx, model, images, labels, test_images):
    optimizer = torch.optim.Adam(model.fc.parameters(), lr=HEAD_LR)
    counter = count_steps(optimizer)
    before, _ = evaluate(model, images[:LOSS_IMAGES], labels[:LOSS_IMAGES])
    model.train()
    losses = ctx.call("fine_tune", "fine_tune", model, optimizer, images, labels, EPOCHS, BATCH_SIZE)
    if losses is FAILED:
        return False
    after, _ = evaluate(model, images[:LOSS_IMAGES], labels[:LOSS_IMAGES])
    _, predictions = evaluate(model, test_images, torch.zeros(len(test_images), dtype=torch.long))
    ctx.save_array("held_out_predictions", predictions)
    ctx.observe(
        "fine_tune",
        {
            "returned": losses if isinstance(losses, list | tuple) else {"type": type(losses).__name__},
            "steps": counter["steps"],
            "loss_before": before,
            "loss_after": after,
        },
    )
    return True


def observe_unfreeze(ctx, model, images, labels):
    model.train()
    optimizer = ctx.call("unfreeze", "unfreeze_last_block", model, UNFREEZE_HEAD_LR)
    if optimizer is FAILED:
        return
    names = {id(p): name for name, p in model.named_parameters()}
    seen = {
        "optimizer": isinstance(optimizer, torch.optim.Optimizer),
        "type": type(optimizer).__name__,
        "trainable": sorted(name for name, p in model.named_parameters() if p.requires_grad),
    }
    if not seen["optimizer"]:
        ctx.observe("unfreeze", seen)
        return
    seen["groups"] = [
        {"lr": group.get("lr"), "params": [names.get(id(p), "?") for p in group["params"]]}
        for group in optimizer.param_groups
    ]
    counter = count_steps(optimizer)
    before = snapshot(model)
    model.train()
    losses = ctx.call(
        "unfreeze.fine_tune", "fine_tune", model, optimizer, images, labels, UNFREEZE_EPOCHS, BATCH_SIZE
    )
    if losses is not FAILED:
        seen["steps"] = counter["steps"]
        seen["changed"] = sorted(
            name
            for name, p in model.named_parameters()
            if name in before and not torch.equal(p.detach(), before[name])
        )
    ctx.observe("unfreeze", seen)


def observe_comparison(ctx, data):
    sizes = []

    def hook(optimizer, *_):
        sizes.append(
            sum(p.numel() for group in optimizer.param_groups for p in group["params"] if p.grad is not None)
        )

    train = slice(*COMPARE_TRAIN)
    val = slice(*COMPARE_VAL)
    handle = register_optimizer_step_post_hook(hook)
    started = time.perf_counter()
    try:
        table = ctx.call(
            "compare",
            "compare_strategies",
            digits_as_images(data["train_x"][train]),
            torch.as_tensor(data["train_y"][train], dtype=torch.long),
            digits_as_images(data["train_x"][val]),
            torch.as_tensor(data["train_y"][val], dtype=torch.long),
            NUM_CLASSES,
            COMPARE_EPOCHS,
        )
    finally:
        handle.remove()
    seconds = time.perf_counter() - started
    if table is not FAILED:
        ctx.observe("compare", {"table": table, "seconds": seconds, "updated_sizes": sorted(set(sizes))})
