"""Driver for trial 5.2, lightning. The student's code runs in the agent; this process drives it.

A Trainer, a LightningModule and loaders are live objects, so the agent builds the loaders from the
driver's spec (the public training split, split into a train and a validation part, shuffled by the
run's seed) and calls the student's `train(train_loader, val_loader, max_epochs)` once per seed
(`agent_train`, the trial's routine in the student's process). While it runs, the routine watches what
Lightning does with the student's module:

- `Trainer.fit` is wrapped, so it knows fit ran and with which module; inside it the module's
  `training_step`, `validation_step`, `configure_optimizers` and `log` are wrapped on the instance
  (with functools.wraps, so Lightning still sees the student's own hooks as overridden);
- a global optimizer-step hook counts the optimizer steps taken while fit runs;
- the trainable parameters (requires_grad) are copied when fit starts and sent back beside their values
  after it, by name, with the names no optimizer of the Trainer held (an optimizer built before a layer
  was added never trains that layer).

All of that is *observed*: hooks in the student's process, which only explain. The driver compares the
parameters before and after fit itself. The returned module stays in the agent; the driver then sends it
the held-out inputs (staged for this job, in an order drawn from the job's secret seed) and takes the
logits back as data: the accuracy, scored outside against labels that never enter the sandbox, is
*verified*.
"""

import functools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook
from torch.utils.data import DataLoader, TensorDataset

from exercises.kit.digits import load_public
from exercises.kit.probe import FAILED

SEEDS = [0, 1]  # Submit trains once per seed; Run only with the first
MAX_EPOCHS = 6
VALIDATION_SIZE = 300  # the last samples of the public training split
BATCH_SIZE = 64
VALIDATION_BATCH_SIZE = 100
HOOKS = ("training_step", "validation_step", "configure_optimizers")
MAX_NAMES = 20  # parameter names listed per finding
MAX_SENT_ELEMENTS = 8_000_000  # trainable values sent back twice (before and after fit), at most
MAX_SENT_TENSORS = 400  # and parameter tensors (a frame holds at most 1024)
_equal = torch.equal  # taken before the student's module is imported


class FitWatch:
    """What happened inside the student's Trainer.fit calls during one train() call."""

    def __init__(self):
        self.in_fit = False
        self.record = self.empty()
        self.fit_models = []

    @staticmethod
    def empty():
        return {
            "fit_calls": 0,
            "fit_model_type": None,
            "fit_model_is_lightning": None,
            "overridden": {},
            "configure_optimizers_calls": 0,
            "training_steps": 0,
            "training_epochs": [],
            "training_returns": {},
            "validation_steps": 0,
            "validation_in_train_mode": 0,
            "validation_with_grad": 0,
            "logs": {},
            "optimizer_steps": 0,
            "parameters": None,
        }

    def reset(self):
        self.record = self.empty()
        self.fit_models = []

    def optimizer_stepped(self, optimizer, args, kwargs):
        if self.in_fit:
            self.record["optimizer_steps"] += 1


def return_kind(value):
    if value is None:
        return "none"
    if isinstance(value, torch.Tensor):
        return "tensor-with-grad" if value.requires_grad else "tensor-without-grad"
    if isinstance(value, dict):
        loss = value.get("loss")
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            return "dict-with-loss"
        return "dict-without-loss"
    if isinstance(value, float | int):
        return "number"
    return "other"


def stage_of(module):
    try:
        stage = module.trainer.state.stage
    except Exception:
        return "unknown"
    return getattr(stage, "value", str(stage))


def instrument(watch, module):
    """Wrap the hooks and `log` of `module` on the instance; returns the names to remove afterwards."""
    record = watch.record
    patched = []

    def wrap(name, make):
        original = getattr(module, name, None)
        if original is None:
            return
        wrapper = functools.wraps(original)(make(original))
        object.__setattr__(module, name, wrapper)
        patched.append(name)

    def training_step(original):
        def step(*args, **kwargs):
            result = original(*args, **kwargs)
            record["training_steps"] += 1
            epoch = int(getattr(module, "current_epoch", -1))
            if epoch not in record["training_epochs"]:
                record["training_epochs"].append(epoch)
            kind = return_kind(result)
            record["training_returns"][kind] = record["training_returns"].get(kind, 0) + 1
            return result

        return step

    def validation_step(original):
        def step(*args, **kwargs):
            record["validation_steps"] += 1
            record["validation_in_train_mode"] += int(module.training)
            record["validation_with_grad"] += int(torch.is_grad_enabled())
            return original(*args, **kwargs)

        return step

    def configure_optimizers(original):
        def configure(*args, **kwargs):
            record["configure_optimizers_calls"] += 1
            return original(*args, **kwargs)

        return configure

    def log(original):
        def logged(name, *args, **kwargs):
            key = f"{stage_of(module)}:{name}"
            if len(record["logs"]) < 50 or key in record["logs"]:
                record["logs"][key] = record["logs"].get(key, 0) + 1
            return original(name, *args, **kwargs)

        return logged

    wrap("training_step", training_step)
    wrap("validation_step", validation_step)
    wrap("configure_optimizers", configure_optimizers)
    wrap("log", log)
    return patched


def install_fit_watch(watch):
    import pytorch_lightning as pl
    from pytorch_lightning.utilities.model_helpers import is_overridden

    original_fit = pl.Trainer.fit

    @functools.wraps(original_fit)
    def fit(trainer, model, *args, **kwargs):
        record = watch.record
        record["fit_calls"] += 1
        watch.fit_models.append(model)
        record["fit_model_type"] = type(model).__qualname__
        record["fit_model_is_lightning"] = isinstance(model, pl.LightningModule)
        patched = []
        before = None
        if isinstance(model, pl.LightningModule):
            record["overridden"] = {name: bool(is_overridden(name, model)) for name in HOOKS}
            before = {name: p.detach().cpu().clone() for name, p in model.named_parameters()}
            patched = instrument(watch, model)
        watch.in_fit = True
        try:
            return original_fit(trainer, model, *args, **kwargs)
        finally:
            watch.in_fit = False
            for name in patched:
                model.__dict__.pop(name, None)
            if before is not None:
                record["parameters"] = trained_parameters(trainer, model, before)

    pl.Trainer.fit = fit
    register_optimizer_step_post_hook(watch.optimizer_stepped)


def trained_parameters(trainer, model, before):
    """The trainable parameters before and after fit (for the driver to compare), and the names no
    optimizer of the Trainer held. Past MAX_SENT_ELEMENTS, only the names that did not change."""
    try:
        optimizers = list(trainer.optimizers or [])
    except Exception:
        optimizers = []
    optimized = set()
    for optimizer in optimizers:
        for group in getattr(optimizer, "param_groups", []):
            optimized.update(id(parameter) for parameter in group.get("params", []))
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad and name in before]
    found = {
        "names": [name for name, _ in trainable],
        "not_optimized": [name for name, p in trainable if id(p) not in optimized][:MAX_NAMES],
    }
    if len(trainable) <= MAX_SENT_TENSORS and sum(p.numel() for _, p in trainable) <= MAX_SENT_ELEMENTS:
        found["before"] = [before[name] for name, _ in trainable]
        found["after"] = [p.detach().cpu().clone() for _, p in trainable]
    else:
        found["unchanged"] = [
            name
            for name, p in trainable
            if before[name].shape == p.shape and _equal(p.detach().cpu(), before[name])
        ]
    return found


def loaders(public, seed):
    data = load_public(public)
    x = torch.from_numpy(data["train_x"])
    y = torch.from_numpy(data["train_y"])
    train = TensorDataset(x[:-VALIDATION_SIZE], y[:-VALIDATION_SIZE])
    validation = TensorDataset(x[-VALIDATION_SIZE:], y[-VALIDATION_SIZE:])
    generator = torch.Generator().manual_seed(seed)
    return (
        DataLoader(train, batch_size=BATCH_SIZE, shuffle=True, generator=generator),
        DataLoader(validation, batch_size=VALIDATION_BATCH_SIZE),
    )


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process)

_AGENT = {"watch": None, "models": {}}  # the fit watch (installed once) and each run's returned module


def agent_train(solution, run, seed):
    """train() on loaders built from the spec (the public split, shuffled by `seed`); what the watch saw.
    The returned module stays here for `agent_predict`."""
    # Lightning's advice to use DataLoader workers is noise here: the loaders are in-memory tensors.
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    import pytorch_lightning as pl
    from pytorch_lightning.utilities.model_helpers import is_overridden

    if _AGENT["watch"] is None:
        _AGENT["watch"] = FitWatch()
        install_fit_watch(_AGENT["watch"])
    watch = _AGENT["watch"]
    watch.reset()
    _AGENT["models"].pop(run, None)
    train_loader, val_loader = loaders(Path(solution.__file__).parent / "public", seed)
    torch.manual_seed(seed)
    np.random.seed(seed)
    returned = solution.train(train_loader, val_loader, MAX_EPOCHS)
    record = watch.record
    is_lightning = isinstance(returned, pl.LightningModule)
    if isinstance(returned, torch.nn.Module):
        _AGENT["models"][run] = returned
    return {
        **record,
        "train_batches": len(train_loader),
        "validation_batches": len(val_loader),
        "returned_type": type(returned).__qualname__,
        "returned_is_lightning": is_lightning,
        "returned_is_module": isinstance(returned, torch.nn.Module),
        "returned_overrides": {name: bool(is_overridden(name, returned)) for name in HOOKS}
        if is_lightning
        else {},
        "returned_was_fitted": any(returned is model for model in watch.fit_models),
    }


def agent_predict(solution, run, test_x):
    """The logits of the module run `run` returned, for the driver's inputs."""
    module = _AGENT["models"][run]
    parameter = next(iter(module.parameters()), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    module.eval()
    with torch.no_grad():
        return module(test_x.to(device))


# ---------------------------------------------------------------------------------------------------
# In the driver

MAX_RECORD_BYTES = 64 * 1024  # what one run's record may add to the observations (capped at 1 MiB)


def plain(value, depth=0):
    """The agent's record reduced to JSON numbers, strings, bools, lists and dicts of bounded size: it
    only explains, and it must never push the observations past their cap (an internal error)."""
    if depth > 4:
        return None
    if value is None or isinstance(value, bool):
        return value
    if type(value) is int:
        return value if abs(value) < 2**53 else None
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is str:
        return value[:80]
    if type(value) in (list, tuple):
        return [plain(item, depth + 1) for item in value[:100]]
    if type(value) is dict:
        return {str(key)[:80]: plain(item, depth + 1) for key, item in list(value.items())[:60]}
    return None


def bounded(record):
    record = plain(record)
    return record if len(json.dumps(record)) <= MAX_RECORD_BYTES else {"record": "too large"}


def compared_parameters(found):
    """What the driver concludes from the parameters the agent sent: which trainable ones fit left
    unchanged (compared here, value by value), how many there are, and those in no optimizer."""
    if not isinstance(found, dict) or not isinstance(found.get("names"), list):
        return {"parameters_changed": None, "trainable_parameters": 0}
    names = [name[:80] if type(name) is str else "?" for name in found["names"]]
    before, after = found.get("before"), found.get("after")
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after) == len(names):
        unchanged = [
            name
            for name, old, new in zip(names, before, after, strict=True)
            if isinstance(old, torch.Tensor)
            and isinstance(new, torch.Tensor)
            and old.shape == new.shape
            and old.dtype == new.dtype
            and _equal(old, new)
        ]
        compared = "driver"
    else:
        listed = found.get("unchanged") if isinstance(found.get("unchanged"), list) else []
        listed = {name[:80] for name in listed if type(name) is str}
        unchanged = [name for name in names if name in listed]
        compared = "agent"
    not_optimized = found.get("not_optimized") if isinstance(found.get("not_optimized"), list) else []
    not_optimized = [name[:80] if type(name) is str else "?" for name in not_optimized[:MAX_NAMES]]
    return {
        "parameters_changed": len(unchanged) < len(names),
        "trainable_parameters": len(names),
        "unchanged_trainable": unchanged[:MAX_NAMES],
        "unchanged_count": len(unchanged),
        "not_optimized": not_optimized[:MAX_NAMES],
        "compared_by": compared,
    }


def driver(ctx):
    # Read before the student's module exists: the agent may rewrite the files under /work afterwards.
    test_x = torch.from_numpy(load_public(ctx.public)["test_x"])
    ctx.load_solution()
    order = torch.from_numpy(np.random.default_rng(ctx.seed).permutation(len(test_x)))
    seeds = SEEDS if ctx.mode == "submit" else SEEDS[:1]
    for run, seed in enumerate(seeds):
        record = ctx.run(f"run{run}.train", "agent_train", run, seed)
        if record is FAILED:
            continue
        if not isinstance(record, dict):
            ctx.observe(f"run{run}.fit", {"returned_type": str(ctx.describe_tensor(record).get("type"))[:80]})
            continue
        record = {**bounded(record), **compared_parameters(record.get("parameters"))}
        record.pop("parameters", None)
        ctx.observe(f"run{run}.fit", record)
        if record.get("returned_is_module") is not True:
            continue
        logits = ctx.run(f"run{run}.predict", "agent_predict", run, test_x[order])
        if logits is FAILED:
            continue
        ctx.observe(f"run{run}.predict", plain(ctx.describe_tensor(logits)))
        if (
            isinstance(logits, torch.Tensor)
            and logits.ndim == 2
            and logits.shape[0] == len(test_x)
            and logits.shape[1] > 0
        ):
            predictions = torch.empty(len(test_x), dtype=torch.int64)
            predictions[order] = logits.to(torch.float64).argmax(dim=1)
            ctx.save_array(f"run{run}_predictions", predictions)
