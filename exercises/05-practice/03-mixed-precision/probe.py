"""Probe for trial 5.3, mixed-precision. Runs inside the sandbox; observes, never judges.

The student's `train_mixed_precision(model, loader, optimizer, epochs)` runs twice, on a model, loader
and optimizer the probe builds: once in a world without CUDA and once with CUDA available (simulated by
the kit on a machine without a GPU; real on a GPU grader). Before each run, the probe instruments:

- `torch.amp.autocast.__enter__`: every autocast region entered, with its class (the deprecated
  `torch.cuda.amp.autocast` / `torch.cpu.amp.autocast` are subclasses, so the class tells the API),
  device type, dtype and whether it is enabled;
- `torch.amp.GradScaler`: construction (class, device, enabled) and the calls to scale, step, update;
- the probe's optimizer: each step, and whether it happened inside `scaler.step`;
- forward hooks on the model's Linear layers: the dtype of their outputs while training.

Afterwards it measures the model's float32 loss on the training data (before vs after) and the dtype
of its parameters. Nothing here decides pass or fail.
"""

import contextlib
import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from exercises.kit.digits import load_public
from exercises.kit.probe import FAILED

SEED = 0
EPOCHS = 3
BATCH_SIZE = 64
WORLDS = [("cpu", False), ("cuda", True)]  # (name, CUDA available?)
DEPRECATED = {
    "torch.cuda.amp.autocast_mode.autocast": "torch.cuda.amp.autocast",
    "torch.cpu.amp.autocast_mode.autocast": "torch.cpu.amp.autocast",
    "torch.cuda.amp.grad_scaler.GradScaler": "torch.cuda.amp.GradScaler",
    "torch.cpu.amp.grad_scaler.GradScaler": "torch.cpu.amp.GradScaler",
}
MAX_RECORDS = 200


def class_name(instance):
    kind = type(instance)
    return f"{kind.__module__}.{kind.__qualname__}"


class AmpWatch:
    """What the student's code did with autocast, GradScaler and the optimizer during one training run."""

    def __init__(self):
        self.in_scaler_step = 0
        self.reset()

    def reset(self):
        self.record = {
            "autocast": [],  # distinct (class, device, dtype, enabled) entries
            "autocast_entries": 0,
            "scalers": [],
            "scale_calls": 0,
            "scale_calls_enabled": 0,
            "scaler_step_calls": 0,
            "scaler_step_calls_enabled": 0,
            "update_calls": 0,
            "update_calls_enabled": 0,
            "optimizer_steps": 0,
            "optimizer_steps_outside_scaler": 0,
            "linear_outputs": {},  # dtype -> count, while gradients are on
        }

    def add_distinct(self, name, entry):
        items = self.record[name]
        if entry not in items and len(items) < MAX_RECORDS:
            items.append(entry)

    def install(self):
        watch = self
        autocast = torch.amp.autocast
        original_enter = autocast.__enter__

        @functools.wraps(original_enter)
        def enter(self):
            watch.record["autocast_entries"] += 1
            watch.add_distinct(
                "autocast",
                {
                    "class": class_name(self),
                    "device": str(getattr(self, "device", "?")),
                    "dtype": str(getattr(self, "fast_dtype", "?")),
                    "enabled": bool(getattr(self, "_enabled", False)),
                },
            )
            return original_enter(self)

        autocast.__enter__ = enter

        scaler = torch.amp.GradScaler
        original_init = scaler.__init__

        @functools.wraps(original_init)
        def init(self, *args, **kwargs):
            original_init(self, *args, **kwargs)
            watch.add_distinct(
                "scalers",
                {
                    "class": class_name(self),
                    "device": str(getattr(self, "_device", "?")),
                    "enabled": bool(self.is_enabled()),
                },
            )

        scaler.__init__ = init

        def counted(method, name, around_step=False):
            original = getattr(scaler, method)

            @functools.wraps(original)
            def wrapper(self, *args, **kwargs):
                watch.record[name] += 1
                if self.is_enabled():
                    watch.record[name + "_enabled"] += 1
                if not around_step:
                    return original(self, *args, **kwargs)
                watch.in_scaler_step += 1
                try:
                    return original(self, *args, **kwargs)
                finally:
                    watch.in_scaler_step -= 1

            setattr(scaler, method, wrapper)

        counted("scale", "scale_calls")
        counted("step", "scaler_step_calls", around_step=True)
        counted("update", "update_calls")

    def optimizer_stepped(self, optimizer, args, kwargs):
        self.record["optimizer_steps"] += 1
        if not self.in_scaler_step:
            self.record["optimizer_steps_outside_scaler"] += 1

    def linear_output(self, module, inputs, output):
        if torch.is_grad_enabled() and isinstance(output, torch.Tensor):
            counts = self.record["linear_outputs"]
            name = str(output.dtype)
            counts[name] = counts.get(name, 0) + 1


def build(ctx, watch):
    """The model, loader and optimizer of one run, identical in every world."""
    data = load_public(ctx.public)
    torch.manual_seed(SEED)
    model = nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
    )  # fmt: skip
    for layer in model:
        if isinstance(layer, nn.Linear):
            layer.register_forward_hook(watch.linear_output)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    optimizer.register_step_pre_hook(watch.optimizer_stepped)
    x, y = torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"])
    loader = DataLoader(
        TensorDataset(x, y),
        batch_size=BATCH_SIZE,
        shuffle=True,
        generator=torch.Generator().manual_seed(SEED),
    )
    return model, loader, optimizer, (x, y)


def float32_loss(model, data):
    """The model's plain float32 loss on the training data, with the parameters where they are."""
    x, y = data
    parameter = next(model.parameters())
    with torch.no_grad():
        logits = model(x.to(parameter.device, parameter.dtype))
        return float(F.cross_entropy(logits.float(), y.to(logits.device)))


def losses_summary(value):
    if not isinstance(value, list | tuple):
        return {"type": type(value).__qualname__}
    kinds = sorted({type(item).__qualname__ for item in value})
    floats = [float(item) for item in value if type(item) is float]
    return {
        "type": type(value).__qualname__,
        "length": len(value),
        "item_types": kinds[:5],
        "all_finite": bool(floats) and len(floats) == len(value) and bool(np.all(np.isfinite(floats))),
    }


@contextlib.contextmanager
def bf16_supported_on_simulated_gpu(simulated):
    """On a simulated GPU, torch.cuda.is_bf16_supported() would ask the missing driver; answer for it."""
    if not simulated:
        yield
        return
    original = torch.cuda.is_bf16_supported
    torch.cuda.is_bf16_supported = lambda *args, **kwargs: True
    try:
        yield
    finally:
        torch.cuda.is_bf16_supported = original


def probe(ctx):
    watch = AmpWatch()
    watch.install()
    really = bool(torch.cuda.is_available())
    ctx.observe("real_cuda", really)
    for world, available in WORLDS:
        with (
            ctx.patch_cuda_available(available) as devices,
            bf16_supported_on_simulated_gpu(available and not really),
        ):
            if ctx.reload_solution(f"{world}.import") is FAILED:
                continue
            model, loader, optimizer, data = build(ctx, watch)
            before = float32_loss(model, data)
            watch.reset()
            requests = len(devices.requests)
            returned = ctx.call(f"{world}.train", "train_mixed_precision", model, loader, optimizer, EPOCHS)
            record = dict(watch.record)
            cuda_requested = devices.cuda_requested(requests)
        if returned is FAILED:
            ctx.observe(f"{world}.amp", record)
            continue
        parameter_dtypes = sorted({str(parameter.dtype) for parameter in model.parameters()})
        after = ctx.call(f"{world}.evaluate", float32_loss, model, data)
        ctx.observe(
            f"{world}.amp",
            {
                **record,
                "batches": len(loader),
                "epochs": EPOCHS,
                "cuda_requested": cuda_requested,
                "parameter_dtypes": parameter_dtypes,
                "loss_before": before,
                "loss_after": after if after is not FAILED else None,
                "returned": losses_summary(returned),
            },
        )
