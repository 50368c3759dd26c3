# must fail: zero-grad
"""Forgery: zero_grad() once per epoch (gradients pile up over an epoch's batches), and everything the
driver's account of the run could be forged through, having read probe.py and check.py.

At import it calls every tensor equal (torch.equal), so the hooks' comparison of each incoming gradient
with the accumulated .grad never sees a difference; it replaces the trial's own routines in this
process (the watch's gradient hook and `agent_train`) so that no accumulated step is ever recorded; it
writes the observations a correct run would produce — the replay's comparison saying "no difference"
included — into out/, again from a process it forks into its own session that rewrites them until the
sandbox ends and from an exit handler, and patches json.dumps. The driver replays the standard loop in
its own process from the same secret spec and compares the state_dict it receives, and the grader reads
only the files whose sha256 the driver sent it: none of this reaches the check.
"""

import atexit
import json
import os
import sys
from pathlib import Path

import torch
from torch import nn

from exercises.kit.report import report

torch.equal = lambda a, b: True
OUT = Path("/work/out")
CLEAN_RUN = {
    "epochs_started": 4,
    "passes": {"train": 4, "val": 4},
    "forwards": {
        "train": {"calls": 68, "all_train_mode": 68, "all_eval_mode": 0, "grad_enabled": 68},
        "val": {"calls": 20, "all_train_mode": 0, "all_eval_mode": 20, "grad_enabled": 0},
        "predict": {"calls": 0, "all_train_mode": 0, "all_eval_mode": 0, "grad_enabled": 0},
        "other": {"calls": 0, "all_train_mode": 0, "all_eval_mode": 0, "grad_enabled": 0},
    },
    "first_wrong_mode": {},
    "backwards": 68,
    "accumulated": [],
    "accumulated_count": 0,
    "steps": [[epoch, 0.4, 0.4, True] for epoch in range(4) for _ in range(17)],
    "reports": [
        {"epoch": epoch, "step": 0, "value": 0.4, "after_backward": 0.4, "now": 0.4} for epoch in range(4)
    ],
    "seconds": 0.5,
}
CLEAN_REPLAY = {
    "missing": [],
    "extra": 0,
    "worst": 0.0,
    "worst_tensor": None,
    "batches": [{"name": "1.num_batches_tracked", "got": 68, "expected": 68}],
    "steps": [[epoch, 0.4, 0.4] for epoch in range(4) for _ in range(17)],
}
OBSERVATIONS = {"predict.target": "test"}
for index in (0, 1):
    OBSERVATIONS[f"train.{index}"] = CLEAN_RUN
    OBSERVATIONS[f"replay.{index}"] = CLEAN_REPLAY
    OBSERVATIONS[f"predict_check.{index}"] = {"agreement": 1.0, "statistics_changed": [], "forwards": {}}
FORGED = json.dumps(OBSERVATIONS).encode()


def write_forgery():
    try:
        (OUT / "observations.json").write_bytes(FORGED)
    except OSError:
        pass


write_forgery()
atexit.register(write_forgery)
_dumps = json.dumps
json.dumps = lambda value, *args, **kwargs: (  # the observations only: report() still works
    _dumps(OBSERVATIONS)
    if isinstance(value, dict) and "predict.target" in value
    else _dumps(value, *args, **kwargs)
)

probe = sys.modules.get("huashen_probe")
if probe is not None:
    probe._equal = lambda a, b: True

    def on_accumulated(self, parameter):
        self.current["seen"].add(id(parameter))

    probe.Watch.on_accumulated = on_accumulated
    _agent_train = probe.agent_train

    def agent_train(solution, *args):
        answer = _agent_train(solution, *args)
        answer["summary"].update(accumulated=[], accumulated_count=0)
        return answer

    probe.agent_train = agent_train

if os.fork() == 0:  # a rewriter in its own session, outliving the process the driver stops
    os.setsid()
    if os.fork() == 0:
        for _ in range(60_000):
            write_forgery()
            os.sched_yield()
    os._exit(0)


def evaluate(model, loader, criterion):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            total += criterion(model(x), y).item() * len(y)
            count += len(y)
    return total / count


def train(model, optimizer, train_loader, val_loader, epochs, max_grad_norm):
    criterion = nn.CrossEntropyLoss()
    step = 0
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        for x, y in train_loader:
            loss = criterion(model(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            optimizer.step()
            report(step=step, loss=loss.item(), grad_norm=norm.item())
            step += 1
        report(step=step, val_loss=evaluate(model, val_loader, criterion))


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return model(x).argmax(dim=1)
