"""Driver for trial 4.2, replace-head. The student's code runs in the agent; this process drives it.

The models live in the agent; what comes back are values and outcomes, and this process measures them
on its own ResNet-18. *Verified*: the new head's values and the output shapes (tensors returned as
data), every loss and the held-out predictions (computed here after loading the state_dict the agent
returns after each fine_tune), which parameters an unfrozen fine_tune changed (state_dicts compared
here), the returned losses and table, and the comparison's duration (timed here around the call).
*Observed*: requires_grad flags, the head's type and sizes, the optimizers' parameter groups and the
optimizer steps and updated sizes counted by hooks in the student's process. The steps:

1. `replace_head(model, 10)` on a frozen pretrained ResNet-18: the new head's type, sizes, flags and
   values (saved for the check, which compares them with the checkpoint's old head), the output shape,
   and whether the backbone stayed frozen. In Submit mode also on an EfficientNet-B0 (a `classifier`
   head) and a small net whose `fc` takes 48 features.
2. Stage 1: `fine_tune(model, optimizer, images, labels, epochs, batch_size)` on the trial's own frozen
   ResNet-18 with a seeded 10-class head and an Adam optimizer over the head: optimizer steps counted
   with a hook, the loss measured before and after, then the predictions on the held-out digits (their
   labels stay outside).
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


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process): the models live here between calls

MODELS = {}


def tensors_of(state):
    return {str(name): value.detach() for name, value in state.items() if isinstance(value, torch.Tensor)}


def agent_replace(solution, checkpoint):
    from pathlib import Path

    torch.set_num_threads(1)
    returned = solution.replace_head(pretrained_resnet(Path(checkpoint)), NUM_CLASSES)
    if not isinstance(returned, nn.Module):
        return {"module": False, "type": type(returned).__name__}
    MODELS["replace"] = returned
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
        seen["head_weight"] = head.weight.detach()
        if head.bias is not None:
            seen["head_bias"] = head.bias.detach()
    return seen


def agent_forward(solution, key, inputs):
    """The kept model's output (for EfficientNet, its classifier's) on the driver's inputs, in eval mode."""
    model = MODELS[key]
    model.eval()
    if key == "other.efficientnet":
        # EfficientNet's forward ends features → avgpool → flatten → classifier: run the last step.
        model = model.classifier
    with torch.no_grad():
        return model(inputs)


def agent_other(solution, name, classes):
    from torchvision.models import efficientnet_b0

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(classes)
        model = efficientnet_b0() if name == "efficientnet" else SmallNet()
    model.requires_grad_(False)
    returned = solution.replace_head(model, classes)
    if not isinstance(returned, nn.Module):
        return {"module": False, "type": type(returned).__name__}
    MODELS[f"other.{name}"] = returned
    return {
        "module": True,
        "classifier": getattr(returned, "classifier", None) is not None,
        "trainable": sum(p.numel() for p in returned.parameters() if p.requires_grad),
    }


def agent_fine_tune(solution, checkpoint, images, labels):
    from pathlib import Path

    model = pretrained_resnet(Path(checkpoint), head_seed=HEAD_SEED)
    MODELS["tune"] = model
    optimizer = torch.optim.Adam(model.fc.parameters(), lr=HEAD_LR)
    counter = count_steps(optimizer)
    model.train()
    losses = solution.fine_tune(model, optimizer, images, labels, EPOCHS, BATCH_SIZE)
    return {"returned": losses, "steps": counter["steps"], "state": tensors_of(model.state_dict())}


def agent_unfreeze(solution):
    model = MODELS["tune"]
    model.train()
    optimizer = solution.unfreeze_last_block(model, UNFREEZE_HEAD_LR)
    names = {id(p): name for name, p in model.named_parameters()}
    seen = {
        "optimizer": isinstance(optimizer, torch.optim.Optimizer),
        "type": type(optimizer).__name__,
        "trainable": sorted(name for name, p in model.named_parameters() if p.requires_grad),
    }
    if seen["optimizer"]:
        MODELS["unfreeze.optimizer"] = optimizer
        seen["groups"] = [
            {"lr": group.get("lr"), "params": [names.get(id(p), "?") for p in group["params"]]}
            for group in optimizer.param_groups
        ]
    return seen


def agent_unfrozen_fine_tune(solution, images, labels):
    model = MODELS["tune"]
    optimizer = MODELS["unfreeze.optimizer"]
    counter = count_steps(optimizer)
    before = {name: value.clone() for name, value in tensors_of(model.state_dict()).items()}
    model.train()
    solution.fine_tune(model, optimizer, images, labels, UNFREEZE_EPOCHS, BATCH_SIZE)
    return {"steps": counter["steps"], "before": before, "after": tensors_of(model.state_dict())}


def agent_compare(solution, *args):
    sizes = []

    def hook(optimizer, *_):
        sizes.append(
            sum(p.numel() for group in optimizer.param_groups for p in group["params"] if p.grad is not None)
        )

    handle = register_optimizer_step_post_hook(hook)
    try:
        table = solution.compare_strategies(*args)
    finally:
        handle.remove()
    return {"table": table, "updated_sizes": sorted(set(sizes))}


# ---------------------------------------------------------------------------------------------------
# In the driver


def tensor_state(value):
    """The tensors of a state_dict that came back as data (anything else dropped)."""
    if not isinstance(value, dict):
        return {}
    return {str(name): tensor for name, tensor in value.items() if isinstance(tensor, torch.Tensor)}


def driver(ctx):
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

    images = digits_as_images(data["train_x"][:FINE_TUNE_IMAGES])
    labels = torch.as_tensor(data["train_y"][:FINE_TUNE_IMAGES], dtype=torch.long)
    if not observe_fine_tune(ctx, checkpoint, images, labels, digits_as_images(data["test_x"])):
        return
    if ctx.mode != "submit":
        return
    observe_unfreeze(ctx, checkpoint, images[:UNFREEZE_IMAGES], labels[:UNFREEZE_IMAGES])
    observe_comparison(ctx, data)


def observe_replace_head(ctx, checkpoint):
    seen = ctx.run("replace", "agent_replace", str(checkpoint))
    if not isinstance(seen, dict):
        return
    if seen.get("module") is not True:
        ctx.observe("replace", {"module": False, "type": str(seen.get("type"))})
        return
    for name in ("head_weight", "head_bias"):
        value = seen.pop(name, None)
        if isinstance(value, torch.Tensor):
            ctx.save_array(name, value)
    output = ctx.run("replace.forward", "agent_forward", "replace", torch.zeros(4, 3, SIZE, SIZE))
    if output is not FAILED:
        seen["output"] = ctx.describe_tensor(output)
    ctx.observe("replace", seen)


def observe_other_models(ctx):
    for name, classes in OTHER_MODELS:
        seen = ctx.run(f"other.{name}", "agent_other", name, classes)
        if not isinstance(seen, dict):
            continue
        if seen.get("module") is not True:
            ctx.observe(f"other.{name}", {"module": False, "type": str(seen.get("type"))})
            continue
        output = None
        if name != "efficientnet" or seen.get("classifier") is True:
            inputs = torch.zeros(2, 1280) if name == "efficientnet" else torch.zeros(2, 3, SIZE, SIZE)
            output = ctx.run(f"other.{name}.forward", "agent_forward", f"other.{name}", inputs)
        ctx.observe(
            f"other.{name}",
            {
                "module": True,
                "output": None if output is None or output is FAILED else ctx.describe_tensor(output),
                "trainable": seen.get("trainable"),
            },
        )


def observe_fine_tune(ctx, checkpoint, images, labels, test_images):
    """Stage 1; False when fine_tune raised (or the agent gave no answer)."""
    model = pretrained_resnet(checkpoint, head_seed=HEAD_SEED)
    before, _ = evaluate(model, images[:LOSS_IMAGES], labels[:LOSS_IMAGES])
    answer = ctx.run("fine_tune", "agent_fine_tune", str(checkpoint), images, labels)
    if not isinstance(answer, dict):
        return False
    losses = answer.get("returned")
    after = None
    try:
        model.load_state_dict(tensor_state(answer.get("state")))
    except (RuntimeError, KeyError, ValueError) as error:  # not a ResNet-18 with a 10-class head any more
        print(f"the fine-tuned model's state_dict does not fit a ResNet-18 with a 10-class head: {error}")
    else:
        after, _ = evaluate(model, images[:LOSS_IMAGES], labels[:LOSS_IMAGES])
        _, predictions = evaluate(model, test_images, torch.zeros(len(test_images), dtype=torch.long))
        ctx.save_array("held_out_predictions", predictions)
    ctx.observe(
        "fine_tune",
        {
            "returned": losses if isinstance(losses, list | tuple) else {"type": type(losses).__name__},
            "steps": answer.get("steps"),
            "loss_before": before,
            "loss_after": after,
        },
    )
    return True


def observe_unfreeze(ctx, checkpoint, images, labels):
    seen = ctx.run("unfreeze", "agent_unfreeze")
    if not isinstance(seen, dict):
        return
    if seen.get("optimizer") is not True:
        ctx.observe("unfreeze", seen)
        return
    answer = ctx.run("unfreeze.fine_tune", "agent_unfrozen_fine_tune", images, labels)
    if isinstance(answer, dict):
        before, after = tensor_state(answer.get("before")), tensor_state(answer.get("after"))
        seen["steps"] = answer.get("steps")
        parameters = [
            name for name, _ in pretrained_resnet(checkpoint, head_seed=HEAD_SEED).named_parameters()
        ]
        seen["changed"] = sorted(
            name
            for name in parameters
            if name in before
            and name in after
            and (before[name].shape != after[name].shape or not torch.equal(before[name], after[name]))
        )
    ctx.observe("unfreeze", seen)


def observe_comparison(ctx, data):
    train = slice(*COMPARE_TRAIN)
    val = slice(*COMPARE_VAL)
    started = time.perf_counter()
    answer = ctx.run(
        "compare",
        "agent_compare",
        digits_as_images(data["train_x"][train]),
        torch.as_tensor(data["train_y"][train], dtype=torch.long),
        digits_as_images(data["train_x"][val]),
        torch.as_tensor(data["train_y"][val], dtype=torch.long),
        NUM_CLASSES,
        COMPARE_EPOCHS,
    )
    seconds = time.perf_counter() - started
    if isinstance(answer, dict):
        ctx.observe(
            "compare",
            {"table": answer.get("table"), "seconds": seconds, "updated_sizes": answer.get("updated_sizes")},
        )
