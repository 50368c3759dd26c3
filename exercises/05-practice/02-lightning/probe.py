"""Probe for trial 5.2, lightning. Runs inside the sandbox; observes, never judges.

The probe builds the digits loaders itself (a train and a validation part of the public training split)
and calls the student's `train(train_loader, val_loader, max_epochs)` once per seed. While it runs, the
probe watches what Lightning does with the student's module:

- `Trainer.fit` is wrapped, so the probe knows it ran and with which module; inside it the module's
  `training_step`, `validation_step`, `configure_optimizers` and `log` are wrapped on the instance
  (with functools.wraps, so Lightning still sees the student's own hooks as overridden);
- a global optimizer-step hook counts the optimizer steps taken while fit runs;
- the parameters are compared before and after fit, by name: which trainable ones (requires_grad) never
  changed, and which are in none of the optimizers the Trainer used (an optimizer built before a layer
  was added never trains that layer).

Then the returned module predicts the held-out inputs (labels stay outside; check.py scores them).
"""

import functools
import warnings

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
_equal = torch.equal  # taken before the student's module is imported


class FitWatch:
    """What happened inside the student's Trainer.fit calls during one train() call."""

    def __init__(self):
        self.in_fit = False
        self.record = self.empty()

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
            "parameters_changed": None,
            "trainable_parameters": None,
            "unchanged_trainable": [],
            "unchanged_count": 0,
            "not_optimized": [],
            "fit_models": [],
        }

    def reset(self):
        self.record = self.empty()

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
        record["fit_models"].append(model)
        record["fit_model_type"] = type(model).__qualname__
        record["fit_model_is_lightning"] = isinstance(model, pl.LightningModule)
        patched = []
        before = None
        if isinstance(model, pl.LightningModule):
            record["overridden"] = {name: bool(is_overridden(name, model)) for name in HOOKS}
            before = [parameter.detach().clone() for parameter in model.parameters()]
            named_before = {name: p.detach().clone() for name, p in model.named_parameters()}
            patched = instrument(watch, model)
        watch.in_fit = True
        try:
            return original_fit(trainer, model, *args, **kwargs)
        finally:
            watch.in_fit = False
            for name in patched:
                model.__dict__.pop(name, None)
            if before is not None:
                after = [parameter.detach().cpu() for parameter in model.parameters()]
                record["parameters_changed"] = len(after) == len(before) and any(
                    a.shape != b.shape or not _equal(a, b.cpu()) for a, b in zip(after, before, strict=True)
                )
                record.update(trained_parameters(trainer, model, named_before))

    pl.Trainer.fit = fit
    register_optimizer_step_post_hook(watch.optimizer_stepped)


def trained_parameters(trainer, model, before):
    """Which trainable parameters fit left unchanged, and which no optimizer of the Trainer held."""
    try:
        optimizers = list(trainer.optimizers or [])
    except Exception:
        optimizers = []
    optimized = set()
    for optimizer in optimizers:
        for group in getattr(optimizer, "param_groups", []):
            optimized.update(id(parameter) for parameter in group.get("params", []))
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    unchanged = [
        name
        for name, p in trainable
        if name in before and before[name].shape == p.shape and _equal(p.detach().cpu(), before[name].cpu())
    ]
    return {
        "trainable_parameters": len(trainable),
        "unchanged_trainable": unchanged[:MAX_NAMES],
        "unchanged_count": len(unchanged),
        "not_optimized": [name for name, p in trainable if id(p) not in optimized][:MAX_NAMES],
    }


def loaders(ctx, seed):
    data = load_public(ctx.public)
    x = torch.from_numpy(data["train_x"])
    y = torch.from_numpy(data["train_y"])
    train = TensorDataset(x[:-VALIDATION_SIZE], y[:-VALIDATION_SIZE])
    validation = TensorDataset(x[-VALIDATION_SIZE:], y[-VALIDATION_SIZE:])
    generator = torch.Generator().manual_seed(seed)
    return (
        DataLoader(train, batch_size=BATCH_SIZE, shuffle=True, generator=generator),
        DataLoader(validation, batch_size=VALIDATION_BATCH_SIZE),
    )


def predictions(module, test_x):
    parameter = next(iter(module.parameters()), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    module.eval()
    with torch.no_grad():
        logits = module(test_x.to(device))
    return logits


def probe(ctx):
    # Lightning's advice to use DataLoader workers is noise here: the probe's loaders are in-memory tensors.
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    ctx.load_solution()
    watch = FitWatch()
    install_fit_watch(watch)
    test_x = torch.from_numpy(load_public(ctx.public)["test_x"])
    seeds = SEEDS if ctx.mode == "submit" else SEEDS[:1]
    for run, seed in enumerate(seeds):
        watch.reset()
        train_loader, val_loader = loaders(ctx, seed)
        torch.manual_seed(seed)
        np.random.seed(seed)
        returned = ctx.call(f"run{run}.train", "train", train_loader, val_loader, MAX_EPOCHS)
        record = watch.record
        fit_models = record.pop("fit_models")
        if returned is FAILED:
            ctx.observe(f"run{run}.fit", record)
            continue
        import pytorch_lightning as pl
        from pytorch_lightning.utilities.model_helpers import is_overridden

        is_lightning = isinstance(returned, pl.LightningModule)
        ctx.observe(
            f"run{run}.fit",
            {
                **record,
                "train_batches": len(train_loader),
                "validation_batches": len(val_loader),
                "returned_type": type(returned).__qualname__,
                "returned_is_lightning": is_lightning,
                "returned_overrides": {name: bool(is_overridden(name, returned)) for name in HOOKS}
                if is_lightning
                else {},
                "returned_was_fitted": any(returned is model for model in fit_models),
            },
        )
        if not isinstance(returned, torch.nn.Module):
            continue
        logits = ctx.call(f"run{run}.predict", predictions, returned, test_x)
        if logits is FAILED:
            continue
        ctx.observe(f"run{run}.predict", ctx.describe_tensor(logits))
        if isinstance(logits, torch.Tensor) and logits.ndim == 2 and logits.shape[0] == len(test_x):
            ctx.save_array(f"run{run}_predictions", logits.argmax(dim=1).to(torch.int64))
