"""Probe for trial 3.5, batch-size-study. Runs inside the sandbox; observes, never judges.

It gives the student's run_study() the public digits (the last VAL_SIZE training rows as validation)
and watches every optimizer while it runs, through torch's global optimizer step hooks: when each
step happened, with which learning rate, and a fingerprint of the weights before the first and after
the last step. From that the check can tell how many batches an epoch really had, whether the reported
learning rate is the one used, whether each reported epoch time contains its epoch's steps, and whether
each batch size started from fresh weights. Then it measures each returned model's validation loss
itself and saves its logits on the held-out digits (labels stay in hidden/). On Submit a second, smaller
study with other settings follows. The results are also printed as a table, reported to the live charts
and drawn as a picture. check.py reads the constants below as literals.
"""

import io
import math
import os
import time

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

from exercises.kit.digits import load_public
from exercises.kit.probe import FAILED

VAL_SIZE = 300
STUDY = {"batch_sizes": [32, 64, 128], "base_lr": 0.05, "base_batch_size": 32, "epochs": 5}
OTHER_STUDY = {"batch_sizes": [16, 48], "base_lr": 0.03, "base_batch_size": 16, "epochs": 3}


def fingerprint(optimizer):
    with torch.no_grad():
        return float(
            sum(p.detach().double().abs().sum() for group in optimizer.param_groups for p in group["params"])
        )


class StepLog:
    """Every optimizer.step() while a study runs, grouped by optimizer in order of first use."""

    def __init__(self):
        self.runs = []
        self._by_id = {}
        self.start = time.perf_counter()
        self.handles = [
            register_optimizer_step_pre_hook(self.pre),
            register_optimizer_step_post_hook(self.post),
        ]

    def pre(self, optimizer, args, kwargs):
        run = self._by_id.get(id(optimizer))
        if run is None:
            run = {
                "optimizer": optimizer,  # kept alive, so that no later optimizer reuses its id()
                "kind": type(optimizer).__name__,
                "times": [],
                "lrs": [],
                "first_fingerprint": fingerprint(optimizer),
                "last_fingerprint": None,
                "params": {id(p) for group in optimizer.param_groups for p in group["params"]},
            }
            self._by_id[id(optimizer)] = run
            self.runs.append(run)
        run["times"].append(time.perf_counter() - self.start)
        run["lrs"].append(float(optimizer.param_groups[0]["lr"]))

    def post(self, optimizer, args, kwargs):
        run = self._by_id.get(id(optimizer))
        if run is not None:
            run["last_fingerprint"] = fingerprint(optimizer)

    def close(self):
        for handle in self.handles:
            handle.remove()

    def summary(self):
        summaries = []
        for index, run in enumerate(self.runs):
            earlier = self.runs[:index]
            summaries.append(
                {
                    "kind": run["kind"],
                    "steps": len(run["times"]),
                    "times": run["times"],
                    "lr_first": run["lrs"][0],
                    "lr_max": max(run["lrs"]),
                    "first_fingerprint": run["first_fingerprint"],
                    "last_fingerprint": run["last_fingerprint"],
                    "shares_params_with": [
                        i for i, other in enumerate(earlier) if other["params"] & run["params"]
                    ],
                }
            )
        return summaries


def load_data(public):
    arrays = load_public(public)
    x = torch.from_numpy(arrays["train_x"])
    y = torch.from_numpy(arrays["train_y"])
    data = {
        "train_x": x[:-VAL_SIZE],
        "train_y": y[:-VAL_SIZE],
        "val_x": x[-VAL_SIZE:],
        "val_y": y[-VAL_SIZE:],
    }
    return data, torch.from_numpy(arrays["test_x"])


def number_list(value):
    if not isinstance(value, list | tuple):
        return None
    out = []
    for item in value:
        try:
            out.append(float(item))
        except (TypeError, ValueError, RuntimeError):
            return None
    return out


def describe_result(entry):
    if not isinstance(entry, dict):
        return {"dict": False, "type": type(entry).__name__}
    info = {"dict": True, "keys": sorted(str(key) for key in entry)}
    for key in ("batch_size", "lr"):
        value = entry.get(key)
        try:
            info[key] = float(value) if key == "lr" else int(value)
        except (TypeError, ValueError, RuntimeError):
            info[key] = None
    info["epoch_times"] = number_list(entry.get("epoch_times"))
    info["val_losses"] = number_list(entry.get("val_losses"))
    info["model"] = isinstance(entry.get("model"), torch.nn.Module)
    return info


def remeasure(model, data, test_x):
    """(validation loss as the probe measures it, held-out logits), in eval mode without gradients."""
    model.eval()
    with torch.no_grad():
        val = torch.nn.functional.cross_entropy(model(data["val_x"]), data["val_y"]).item()
        logits = model(test_x).double()
    return val, logits


def run(ctx, key, data, test_x, settings):
    log = StepLog()
    started = time.perf_counter()
    try:
        results = ctx.call(key, "run_study", data, **settings)
    finally:
        wall = time.perf_counter() - started
        log.close()
    if results is FAILED:
        return None
    observed = {
        "wall": wall,
        "runs": log.summary(),
        "type": type(results).__name__,
        "results": [describe_result(entry) for entry in results]
        if isinstance(results, list | tuple)
        else None,
    }
    if observed["results"] is not None:
        for index, (entry, info) in enumerate(zip(results, observed["results"], strict=True)):
            if not info.get("model"):
                continue
            try:
                info["remeasured_val_loss"], logits = remeasure(entry["model"], data, test_x)
            except Exception as error:  # the student's model raised on the probe's own batch
                info["remeasure_error"] = f"{type(error).__name__}: {error}"[:500]
                continue
            if logits.shape == (len(test_x), 10):
                ctx.save_array(f"{key.replace('.', '_')}_logits_{index}", logits)
    ctx.observe(key, observed)
    return observed


def show(ctx, observed):
    """The results as a table in the log, points on the live charts, and a picture."""
    rows = [info for info in observed["results"] or [] if info.get("dict")]
    usable = [r for r in rows if r.get("epoch_times") and r.get("val_losses") and r.get("batch_size")]
    if not usable:
        return
    print("\n| batch size | learning rate | mean epoch time (s) | final val loss |", flush=True)
    print("|---:|---:|---:|---:|", flush=True)
    for r in usable:
        mean_time = sum(r["epoch_times"]) / len(r["epoch_times"])
        print(
            f"| {r['batch_size']} | {r['lr']:.4g} | {mean_time:.4f} | {r['val_losses'][-1]:.4f} |", flush=True
        )
    for epoch in range(max(len(r["val_losses"]) for r in usable)):
        metrics = {}
        for r in usable:
            if epoch < len(r["val_losses"]) and math.isfinite(r["val_losses"][epoch]):
                metrics[f"val_loss/bs{r['batch_size']}"] = r["val_losses"][epoch]
            if epoch < len(r["epoch_times"]) and math.isfinite(r["epoch_times"][epoch]):
                metrics[f"epoch_time/bs{r['batch_size']}"] = r["epoch_times"][epoch]
        if metrics:
            ctx.report(step=epoch + 1, **metrics)
    try:
        chart(ctx, usable)
    except Exception as error:  # a picture is a courtesy; never fail the run over it
        print(f"(no chart: {error!r})", flush=True)


def quiet_font_manager():
    """Import matplotlib's font manager with stderr silenced: building its font list runs fc-list, which
    complains on stderr that the sandbox has no fontconfig file; that is noise in the student's log."""
    saved, silent = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(silent, 2)
        import matplotlib.font_manager  # noqa: F401 - imported for its side effect
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(silent)


def chart(ctx, rows):
    import matplotlib

    matplotlib.use("Agg")
    quiet_font_manager()
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.2), dpi=100)
    losses, times = figure.subplots(1, 2)
    for r in rows:
        epochs = range(1, len(r["val_losses"]) + 1)
        losses.plot(epochs, r["val_losses"], marker="o", label=f"batch {r['batch_size']} (lr {r['lr']:.3g})")
    losses.set_xlabel("epoch")
    losses.set_ylabel("validation loss")
    losses.legend(fontsize=8)
    labels = [str(r["batch_size"]) for r in rows]
    times.bar(labels, [1000 * sum(r["epoch_times"]) / len(r["epoch_times"]) for r in rows], color="#4a7bb7")
    times.set_xlabel("batch size")
    times.set_ylabel("mean epoch time (ms)")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    ctx.save_artifact("batch-size-study", buffer.getvalue())


def probe(ctx):
    torch.set_num_threads(1)  # steadier epoch times, and faster for a model this small
    ctx.load_solution()
    data, test_x = load_data(ctx.public)
    observed = run(ctx, "study", data, test_x, STUDY)
    if observed is not None:
        show(ctx, observed)
    if ctx.mode == "submit":
        run(ctx, "study.other", data, test_x, OTHER_STUDY)
