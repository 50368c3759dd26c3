"""Driver for trial 3.5, batch-size-study. The student's code runs in the agent; this process drives it.

The driver reads the public digits (the last VAL_SIZE training rows as validation; the held-out split
as staged for this job) and sends them to the agent, where run_study() runs while the trial's routine
watches every optimizer through torch's global optimizer step hooks (`agent_study`): when each step
happened, with which learning rate, and a fingerprint of the weights before the first and after the
last step. From that the check can tell how many batches an epoch really had, whether the reported
learning rate is the one used, whether each reported epoch time contains its epoch's steps, and whether
each batch size started from fresh weights; these facts are *observed*. The returned models stay in the
agent; each answers the validation rows and the held-out digits the driver sends (`agent_logits`), and
the driver computes each validation loss from the logits it receives and saves the held-out logits
(labels stay in hidden/): *verified*, as is the study's wall time, measured here around the whole
call. On Submit a second, smaller study with other settings follows. The results are also printed as
a table, reported to the live charts and drawn as a picture. check.py reads the constants below as
literals.
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


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process): the returned models live here between calls

MODELS = {}


def agent_study(solution, key, data, settings):
    """run_study(data, **settings) under the step hooks; each entry returned as data without its model
    (kept here under (key, index)), with whether it was a module, and the steps observed."""
    torch.set_num_threads(1)  # steadier epoch times, and faster for a model this small
    log = StepLog()
    try:
        results = solution.run_study(data, **settings)
    finally:
        log.close()
    entries = None
    if isinstance(results, list | tuple):
        entries = []
        for index, entry in enumerate(results):
            if not isinstance(entry, dict):
                entries.append({"dict": False, "type": type(entry).__name__})
                continue
            model = entry.get("model")
            is_model = isinstance(model, torch.nn.Module)
            if is_model:
                MODELS[(key, index)] = model
            values = {name: entry.get(name) for name in ("batch_size", "lr", "epoch_times", "val_losses")}
            entries.append(
                {"dict": True, "keys": sorted(str(name) for name in entry), "model": is_model, **values}
            )
    return {"runs": log.summary(), "type": type(results).__name__, "entries": entries}


def agent_logits(solution, key, index, val_x, test_x):
    """The model's logits for the validation rows and the held-out digits, in eval mode without
    gradients; its error as text when it raised."""
    model = MODELS[(key, index)]
    try:
        model.eval()
        with torch.no_grad():
            return {"val": model(val_x), "test": model(test_x)}
    except Exception as error:  # the student's model raised on the driver's own batch
        return {"error": f"{type(error).__name__}: {error}"[:500]}


# ---------------------------------------------------------------------------------------------------
# In the driver


def describe_entry(entry):
    """The summary the check reads, from an entry that came back as data."""
    if not isinstance(entry, dict) or entry.get("dict") is not True:
        return {"dict": False, "type": str(entry.get("type")) if isinstance(entry, dict) else "?"}
    keys = entry.get("keys")
    info = {"dict": True, "keys": [str(key) for key in keys] if isinstance(keys, list) else []}
    for key in ("batch_size", "lr"):
        value = entry.get(key)
        try:
            info[key] = float(value) if key == "lr" else int(value)
        except (TypeError, ValueError, RuntimeError):
            info[key] = None
    info["epoch_times"] = number_list(entry.get("epoch_times"))
    info["val_losses"] = number_list(entry.get("val_losses"))
    info["model"] = entry.get("model") is True
    return info


def remeasure(ctx, key, index, data, test_x):
    """(validation loss measured here from the logits received, held-out logits), or raise ValueError."""
    answer = ctx.run(f"{key}.remeasure", "agent_logits", key, index, data["val_x"], test_x)
    if not isinstance(answer, dict):
        raise ValueError("the model's logits did not come back")
    if "error" in answer:
        raise ValueError(str(answer["error"]))
    val, test = answer.get("val"), answer.get("test")
    if not isinstance(val, torch.Tensor) or not isinstance(test, torch.Tensor):
        raise ValueError("the model did not answer with tensors")
    try:
        loss = torch.nn.functional.cross_entropy(val.float(), data["val_y"]).item()
    except Exception as error:
        raise ValueError(f"{type(error).__name__}: {error}") from None
    return loss, test.double()


def run(ctx, key, data, test_x, settings):
    started = time.perf_counter()
    answer = ctx.run(key, "agent_study", key, data, settings)
    wall = time.perf_counter() - started
    if answer is FAILED or not isinstance(answer, dict):
        return None
    entries = answer.get("entries")
    runs = answer.get("runs")
    observed = {
        "wall": wall,
        "runs": runs if isinstance(runs, list) else [],
        "type": str(answer.get("type")),
        "results": [describe_entry(entry) for entry in entries] if isinstance(entries, list) else None,
    }
    if observed["results"] is not None:
        for index, info in enumerate(observed["results"]):
            if not info.get("model"):
                continue
            try:
                info["remeasured_val_loss"], logits = remeasure(ctx, key, index, data, test_x)
            except ValueError as error:
                info["remeasure_error"] = str(error)[:500]
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


def driver(ctx):
    torch.set_num_threads(1)
    ctx.load_solution()
    data, test_x = load_data(ctx.public)
    observed = run(ctx, "study", data, test_x, STUDY)
    if observed is not None:
        show(ctx, observed)
    if ctx.mode == "submit":
        run(ctx, "study.other", data, test_x, OTHER_STUDY)
