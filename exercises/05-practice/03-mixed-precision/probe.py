"""Driver for trial 5.3, mixed-precision. The student's code runs in the agent; this process drives it.

The student's `train_mixed_precision(model, loader, optimizer, epochs)` runs twice in the agent, on a
model, loader and optimizer that the trial's routine `agent_train` builds there from the driver's spec
(the model's seed and the loader's shuffling seed, both drawn from the job's secret seed): once in a
world without CUDA and once with CUDA available (simulated by the kit on a machine without a GPU; real
on a GPU grader). What comes back as data: the weights the training left in the parameters the routine
built (read from those parameter objects, not from whatever `state_dict()` the student's code leaves on
the model) and the value the function returned.

*Verified* here, outside the student's process: the driver builds the same model from the same spec,
measures its float32 loss on the training data before training and, with the returned weights loaded,
after it; it replays the reference training (`reference_train`, the trial's reference solution) from
the same spec in the same world and records its losses; the returned losses are typed and counted as
they arrived, and their first value compared with the reference's first batch. The parameters' dtype is
that of the returned weights. check.py compares all of this within stated tolerances.

*Observed* (only the student's process sees it; recorded there by `AmpWatch`, which the student's code
could replace): which autocast class was entered with what device type, dtype and enabled flag (the
deprecated `torch.cuda.amp.autocast` / `torch.cpu.amp.autocast` are subclasses, so the class tells the
API), the GradScaler's construction and its scale/step/update calls, where each optimizer step happened,
the dtype the Linear layers produced while training, and whether CUDA was asked for.
"""

import contextlib
import functools
import threading
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from exercises.kit.digits import load_public
from exercises.kit.probe import FAILED

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


def warm_up():
    """A process's first optimizer and GradScaler step initialises about a second of torch (torch.optim
    imports torch._dynamo). The harness imports this module before it forks the agent, so doing it here
    lets the driver and the agent inherit it instead of each paying for it."""
    layer = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        loss = F.cross_entropy(layer(torch.zeros(3, 4)), torch.zeros(3, dtype=torch.long))
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


with contextlib.suppress(Exception):  # only a cost saved: the run itself reports whatever is wrong
    warm_up()


def class_name(instance):
    kind = type(instance)
    return f"{kind.__module__}.{kind.__qualname__}"


class AmpWatch:
    """What the student's code did with autocast, GradScaler and the optimizer during one training run."""

    def __init__(self):
        self.in_scaler_step = 0
        self.live_scalers = []  # the enabled GradScalers of the current run, for their final scale
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
            if self.is_enabled() and len(watch.live_scalers) < MAX_RECORDS:
                watch.live_scalers.append(self)
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


# ---------------------------------------------------------------------------------------------------
# Both sides: the run's objects from the driver's spec


def spec_from(seed):
    """The model's and the loader's seeds for this job, from the job's secret seed."""
    return {"model_seed": seed % 2**31, "order_seed": (seed >> 31) % 2**31}


def build(public, spec):
    """The model, loader and optimizer of one run, identical in every world and on both sides."""
    data = load_public(Path(public))
    torch.manual_seed(spec["model_seed"])
    model = nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
    )  # fmt: skip
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"])
    loader = DataLoader(
        TensorDataset(x, y),
        batch_size=BATCH_SIZE,
        shuffle=True,
        generator=torch.Generator().manual_seed(spec["order_seed"]),
    )
    return model, loader, optimizer, (x, y)


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process)

WATCH = []  # the one AmpWatch, installed on first use
BF16_SUPPORTED = []  # torch.cuda.is_bf16_supported while a simulated GPU answers for it


def agent_simulated_gpu(solution, simulated):
    """On a simulated GPU, torch.cuda.is_bf16_supported() would ask the missing driver; answer for it
    (from before the student's module is imported in that world until the world ends)."""
    if simulated and not BF16_SUPPORTED:
        BF16_SUPPORTED.append(torch.cuda.is_bf16_supported)
        torch.cuda.is_bf16_supported = lambda *args, **kwargs: True
    elif not simulated and BF16_SUPPORTED:
        torch.cuda.is_bf16_supported = BF16_SUPPORTED.pop()


def final_scale(scaler):
    try:
        return float(scaler.get_scale())
    except Exception:  # a scaler the student's code broke explains nothing; it fails nothing either
        return None


def agent_train(solution, public, spec):
    """Build the run from `spec`, train with the student's function; the outcomes and what the watch saw."""
    if not WATCH:
        WATCH.append(AmpWatch())
        WATCH[0].install()
    watch = WATCH[0]
    model, loader, optimizer, _data = build(public, spec)
    for layer in model:
        if isinstance(layer, nn.Linear):
            layer.register_forward_hook(watch.linear_output)
    optimizer.register_step_pre_hook(watch.optimizer_stepped)
    parameters = list(model.named_parameters())  # the objects the optimizer updates, held from here
    watch.reset()
    watch.live_scalers = []
    returned = solution.train_mixed_precision(model, loader, optimizer, EPOCHS)
    record = dict(watch.record)
    record["final_scales"] = [final_scale(scaler) for scaler in watch.live_scalers]
    weights = {name: torch.Tensor.detach(parameter) for name, parameter in parameters}
    return {"returned": returned, "weights": weights, "record": record, "batches": len(loader)}


# ---------------------------------------------------------------------------------------------------
# In the driver


def reference_train(model, loader, optimizer, epochs, device_type, amp_dtype):
    """reference/solution.py's train_mixed_precision with its device type and dtype given: float16 with a
    GradScaler on CUDA, bfloat16 on the CPU; amp_dtype None is plain float32 (no autocast, no scaler)."""
    enabled = amp_dtype is not None
    scaler = torch.amp.GradScaler(device_type, enabled=amp_dtype == torch.float16)
    model.to(device_type)
    model.train()
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device_type), y.to(device_type)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device_type, dtype=amp_dtype or torch.bfloat16, enabled=enabled):
                loss = F.cross_entropy(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss.item())
    return losses


def float32_loss(model, data):
    """The model's plain float32 loss on the training data, on the CPU."""
    x, y = data
    model = model.to("cpu", torch.float32)
    with torch.no_grad():
        return float(F.cross_entropy(model(x).float(), y))


def replay(public, spec, world, really):
    """The reference trained from `spec` as it trains in `world`. With a simulated GPU that is plain
    float32: CUDA autocast leaves CPU tensors alone, and scaling the loss by a power of two and the
    gradients back is exact (no overflow at these sizes), so the simulation would only cost time."""
    model, loader, optimizer, data = build(public, spec)
    if world == "cpu":
        losses = reference_train(model, loader, optimizer, EPOCHS, "cpu", torch.bfloat16)
    elif really:
        losses = reference_train(model, loader, optimizer, EPOCHS, "cuda", torch.float16)
    else:
        losses = reference_train(model, loader, optimizer, EPOCHS, "cpu", None)
    return {"loss_after": float32_loss(model, data), "first_loss": losses[0], "steps": len(losses)}


def weights_loss(public, spec, weights):
    """(float32 loss with `weights` loaded into the spec's model, the weights' dtypes), or (None, dtypes)
    when they do not fit the model (names, shapes) or are not tensors."""
    model, _loader, _optimizer, data = build(public, spec)
    if not isinstance(weights, dict) or not all(
        isinstance(value, torch.Tensor) for value in weights.values()
    ):
        return None, []
    dtypes = sorted({str(value.dtype) for value in weights.values()})
    expected = dict(model.named_parameters())
    if set(weights) != set(expected) or any(weights[name].shape != p.shape for name, p in expected.items()):
        return None, dtypes
    with torch.no_grad():
        for name, parameter in expected.items():
            parameter.copy_(weights[name].to(torch.float32))
    return float32_loss(model, data), dtypes


def returned_summary(value):
    """The returned losses as they arrived: their type, count, item types, finiteness and first value."""
    if not isinstance(value, list | tuple):
        return {"type": value.type_name if hasattr(value, "type_name") else type(value).__qualname__}
    kinds = sorted({type(item).__qualname__ for item in value})
    floats = [item for item in value if type(item) is float]
    return {
        "type": type(value).__qualname__,
        "length": len(value),
        "item_types": kinds[:5],
        "all_finite": bool(floats) and len(floats) == len(value) and bool(np.all(np.isfinite(floats))),
        "first": floats[0] if floats and len(floats) == len(value) else None,
    }


class Replay(threading.Thread):
    """The reference's replay for one world, run here while the agent trains (the driver only waits for
    the agent's answer meanwhile). The main thread touches no global random state until `result()`."""

    def __init__(self, public, spec, world, really):
        super().__init__(name=f"replay-{world}", daemon=True)
        self.arguments = (public, spec, world, really)
        self.outcome = None
        self.error = None

    def run(self):
        torch.set_num_threads(1)
        try:
            self.outcome = replay(*self.arguments)
        except BaseException as error:  # ours: raised again in the driver, an internal error
            self.error = error

    def result(self):
        self.join()
        if self.error is not None:
            raise self.error
        return self.outcome


def driver(ctx):
    torch.set_num_threads(1)  # small matmuls; two graders may share a machine: steadier on one thread
    really = bool(torch.cuda.is_available())
    ctx.observe("real_cuda", really)
    spec = spec_from(ctx.seed)
    public = str(ctx.public)
    model, loader, _optimizer, data = build(public, spec)
    before = float32_loss(model, data)
    steps = len(loader) * EPOCHS
    for world, available in WORLDS:
        reference = None
        if world == "cpu" or ctx.mode == "submit":
            reference = Replay(public, spec, world, really)
            reference.start()
        with ctx.patch_cuda_available(available):
            simulated = available and not really
            ctx.run(f"{world}.prepare", "agent_simulated_gpu", simulated)
            imported = ctx.reload_solution(f"{world}.import")
            answer = FAILED if imported is FAILED else ctx.run(f"{world}.train", "agent_train", public, spec)
            cuda_requested = ctx.last_call.get("cuda_requested") is True
            ctx.run(f"{world}.restore", "agent_simulated_gpu", False)
        expected = reference.result() if reference is not None else None
        if imported is FAILED:
            continue
        if not isinstance(answer, dict):
            if answer is not FAILED:
                ctx.observe(f"{world}.amp", {"unreadable": True})
            continue
        record = answer.get("record") if isinstance(answer.get("record"), dict) else {}
        after, dtypes = weights_loss(public, spec, answer.get("weights"))
        ctx.observe(
            f"{world}.amp",
            {
                **record,
                "batches": answer.get("batches"),
                "steps": steps,
                "epochs": EPOCHS,
                "cuda_requested": cuda_requested,
                "parameter_dtypes": dtypes,
                "loss_before": before,
                "loss_after": after,
                "returned": returned_summary(answer.get("returned")),
                "reference": expected,
            },
        )
