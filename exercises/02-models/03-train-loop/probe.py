"""Driver for trial 2.3, train-loop. The student's code runs in the agent; this process drives it.

Each training run is built from a spec drawn from this job's secret seed (`ctx.seed`) and sent with
the call: the model's initial weights, its dropout masks and the order of the training batches. In the
agent (the student's process), `agent_train` builds the model (with BatchNorm and a dropout whose masks
come from its own seeded generator, so a `torch.manual_seed` in the student's code changes nothing),
the SGD optimizer and two DataLoaders over the training split this process sends, and calls the
student's `train(model, optimizer, train_loader, val_loader, epochs, max_grad_norm)`; `agent_predict`
then switches the kept model back to train mode and calls `predict(model, x)` on the inputs this process
sends (the job's transformed held-out digits; the validation inputs in Run mode).

*Verified* here, outside the student's process: this process replays the standard loop (`replay`) from
the same spec and compares the final state_dict the agent returns (every weight, BatchNorm's running
statistics and its count of training batches) within a stated tolerance; it records the replay's
gradient norm at every step (before and after clipping), against which the check compares the reported
norms; it loads the returned weights into its own model and computes the eval-mode predictions that
`predict` must return, and compares BatchNorm's statistics before and after `predict`. The accuracy is
scored outside against labels that never enter the sandbox.

*Observed*, by hooks in the student's process (`Watch`), only to explain a failure: which loader was
iterated, the modules' training flags and `torch.is_grad_enabled()` in every forward pass, whether a
backward added onto an uncleared `.grad`, the gradient norm at every `optimizer.step()`, every
`report(...)` carrying `grad_norm` (the kit's `report` is wrapped before the student's module is
imported). Whether validation and `predict` ran without recording gradients is visible only there.

check.py reads the literals below.
"""

import json
import math
import threading
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import exercises.kit.report as report_module
from exercises.kit.data import seed_from
from exercises.kit.digits import load_public
from exercises.kit.probe import FAILED

VAL_SIZE = 270  # the first 270 samples of the public training split validate, the rest train
BATCH_SIZE = 64
EPOCHS = 4
MAX_GRAD_NORM = 0.5
LEARNING_RATE = 0.05
MOMENTUM = 0.9
DROPOUT = 0.2
RUNS = {"run": 1, "submit": 2}  # training runs, each from its own spec
PHASES = ("train", "val", "predict", "other")
MAX_LISTED = 2000  # steps and reports kept per run
MAX_SUMMARY_BYTES = 300_000  # the hooks' account of one run, as JSON

# Taken before the student's module is imported: the hooks below use these, not what the student's
# code may later put in their place (they only explain a failure; the verdict is decided here anyway).
_equal = torch.equal
_is_grad_enabled = torch.is_grad_enabled
_detach = torch.Tensor.detach
_double = torch.Tensor.double
_pow = torch.Tensor.pow
_sum = torch.Tensor.sum
_item = torch.Tensor.item
_register_hook = torch.Tensor.register_hook
_register_post_accumulate_grad_hook = torch.Tensor.register_post_accumulate_grad_hook
_register_forward_pre_hook = nn.Module.register_forward_pre_hook
_register_step_pre_hook = torch.optim.Optimizer.register_step_pre_hook


# ---------------------------------------------------------------------------------------------------
# The spec: the same objects on both sides of the boundary


class Dropout(nn.Dropout):
    """nn.Dropout whose masks come from its own generator: the same masks, in the same order, for every
    training forward pass, whatever else the student's code draws from torch's global generator."""

    def __init__(self, p, seed):
        super().__init__(p)
        self.generator = torch.Generator().manual_seed(seed)

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape, generator=self.generator, dtype=x.dtype) >= self.p
        return x * keep / (1 - self.p)


def run_seeds(job_seed, index):
    """(weights, dropout, batch order) seeds of training run `index`, from the job's secret seed."""
    return tuple(seed_from("train-loop", index, part, job_seed) for part in ("weights", "dropout", "order"))


def make_model(seeds):
    weights, dropout, _ = seeds
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(weights)
        return nn.Sequential(
            nn.Linear(64, 128),
            nn.BatchNorm1d(128),
            nn.ReLU(),
            Dropout(DROPOUT, dropout),
            nn.Linear(128, 10),
        )


def make_optimizer(model):
    return torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)


def make_loaders(seeds, inputs, labels, loader=DataLoader, **options):
    order = seeds[2]
    return {
        phase: loader(
            dataset,
            batch_size=BATCH_SIZE,
            shuffle=phase == "train",
            generator=torch.Generator().manual_seed(order),
            **({"phase": phase, **options} if options else {}),
        )
        for phase, dataset in (
            ("train", TensorDataset(inputs[VAL_SIZE:], labels[VAL_SIZE:])),
            ("val", TensorDataset(inputs[:VAL_SIZE], labels[:VAL_SIZE])),
        )
    }


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process): hooks that explain, and the kept models


def squares_of(tensor):
    """The sum of squares of `tensor`, in float64, with the functions taken above."""
    return _item(_sum(_pow(_double(_detach(tensor)), 2)))


class Watch:
    """What one training run did, gathered by hooks. `summary()` is the observation."""

    def __init__(self, model):
        self.model = model
        self.parameters = list(model.parameters())
        self.phase = None
        self.epoch = -1  # index of the training pass in progress
        self.passes = {"train": 0, "val": 0}  # passes over each loader that ran to the end
        self.forwards = {
            phase: {"calls": 0, "all_train_mode": 0, "all_eval_mode": 0, "grad_enabled": 0}
            for phase in PHASES
        }
        self.first_wrong_mode = {}
        self.incoming = {}
        self.current = {"seen": set(), "squares": 0.0, "accumulated": False}
        self.backwards = 0
        self.accumulated = []  # epochs of the backward passes that added onto an uncleared .grad
        self.last_backward_norm = None
        self.steps = []  # [epoch, grad norm at step, norm after the latest backward, fresh backward?]
        self.backwards_at_last_step = 0
        self.reports = []
        self.handles = []

    # -- phases (set by the loaders) --------------------------------------------------------------

    def started(self, phase):
        if phase == "train":
            self.epoch += 1

    def finished(self, phase):
        self.passes[phase] += 1

    # -- forward passes -------------------------------------------------------------------------------

    def on_forward(self, module, args):
        phase = self.phase or "other"
        modes = [m.training for m in module.modules()]
        record = self.forwards[phase]
        record["calls"] += 1
        record["all_train_mode"] += all(modes)
        record["all_eval_mode"] += not any(modes)
        grad_enabled = bool(_is_grad_enabled())
        record["grad_enabled"] += grad_enabled
        wrong = (phase == "train" and not (all(modes) and grad_enabled)) or (
            phase in ("val", "predict") and (any(modes) or grad_enabled)
        )
        if wrong and phase not in self.first_wrong_mode:
            self.first_wrong_mode[phase] = {
                "epoch": self.epoch,
                "training": sorted({type(m).__name__ for m in module.modules() if m.training}),
                "evaluating": sorted({type(m).__name__ for m in module.modules() if not m.training}),
                "grad_enabled": grad_enabled,
            }

    # -- backward passes and steps -------------------------------------------------------------------

    def on_incoming_grad(self, parameter):
        def hook(grad):
            self.incoming[id(parameter)] = grad

        return hook

    def on_accumulated(self, parameter):
        if id(parameter) in self.current["seen"]:
            self.finish_backward()  # a second backward before any step or report
        self.current["seen"].add(id(parameter))
        incoming = self.incoming.pop(id(parameter), None)
        grad = parameter.grad
        if grad is None:
            return
        if incoming is not None and not _equal(grad, incoming):
            self.current["accumulated"] = True
        self.current["squares"] += squares_of(grad)

    def finish_backward(self):
        if not self.current["seen"]:
            return
        self.backwards += 1
        self.last_backward_norm = math.sqrt(self.current["squares"])
        if self.current["accumulated"]:
            self.accumulated.append(self.epoch)
        self.current = {"seen": set(), "squares": 0.0, "accumulated": False}

    def grad_norm_now(self):
        squares = 0.0
        for parameter in self.parameters:
            if parameter.grad is not None:
                squares += squares_of(parameter.grad)
        return math.sqrt(squares)

    def on_step(self, optimizer, args, kwargs):
        self.finish_backward()
        fresh = self.backwards > self.backwards_at_last_step
        self.backwards_at_last_step = self.backwards
        self.steps.append([self.epoch, self.grad_norm_now(), self.last_backward_norm, fresh])

    def on_report(self, step, metrics):
        if "grad_norm" not in metrics:
            return
        self.finish_backward()
        try:
            value = float(metrics["grad_norm"])
        except (TypeError, ValueError, RuntimeError):
            value = None
        self.reports.append(
            {
                "epoch": self.epoch,
                "step": step if isinstance(step, int) else None,
                "value": value,
                "after_backward": self.last_backward_norm,
                "now": self.grad_norm_now(),
            }
        )

    # -- wiring ---------------------------------------------------------------------------------------

    def attach(self, optimizer):
        self.handles.append(_register_forward_pre_hook(self.model, self.on_forward))
        self.handles.append(_register_step_pre_hook(optimizer, self.on_step))
        for parameter in self.parameters:
            self.handles.append(_register_hook(parameter, self.on_incoming_grad(parameter)))
            self.handles.append(_register_post_accumulate_grad_hook(parameter, self.on_accumulated))

    def detach(self):
        for handle in self.handles:
            handle.remove()

    def summary(self):
        return {
            "epochs_started": self.epoch + 1,
            "passes": self.passes,
            "forwards": self.forwards,
            "first_wrong_mode": self.first_wrong_mode,
            "backwards": self.backwards,
            "accumulated": self.accumulated[:50],
            "accumulated_count": len(self.accumulated),
            "steps": self.steps[:2000],
            "reports": self.reports[:2000],
        }


class PhaseLoader(DataLoader):
    """A DataLoader that tells the watch which phase the student's code is in while it iterates."""

    def __init__(self, dataset, *, phase, watch, **options):
        super().__init__(dataset, **options)
        self.phase = phase
        self.watch = watch

    def __iter__(self):
        return self._batches(super().__iter__())

    def _batches(self, batches):
        self.watch.started(self.phase)
        completed = False
        try:
            for batch in batches:
                self.watch.phase = self.phase
                yield batch
            completed = True
        finally:
            self.watch.phase = None
            if completed:
                self.watch.finished(self.phase)


WATCHING = []  # the watch of the run in progress, for the report wrapper
_original_report = report_module.report


def watched_report(step=None, **metrics):
    if WATCHING:
        WATCHING[-1].on_report(step, metrics)
    return _original_report(step, **metrics)


MODELS = {}


def tensors_of(state):
    return {
        str(name): value.detach().clone() for name, value in state.items() if isinstance(value, torch.Tensor)
    }


def agent_prepare(solution):
    """Before the student's module is imported: one thread, and the kit's report wrapped."""
    torch.set_num_threads(1)  # tiny tensors: one thread is faster and steadier on a shared grader
    report_module.report = watched_report


def agent_train(solution, index, seeds, inputs, labels):
    model = make_model(seeds)
    optimizer = make_optimizer(model)
    watch = Watch(model)
    loaders = make_loaders(seeds, inputs, labels, loader=PhaseLoader, watch=watch)
    watch.attach(optimizer)
    MODELS[index] = (model, watch)
    WATCHING.append(watch)
    try:
        solution.train(model, optimizer, loaders["train"], loaders["val"], EPOCHS, MAX_GRAD_NORM)
    finally:
        WATCHING.pop()
    return {"summary": watch.summary(), "state": tensors_of(model.state_dict())}


def agent_predict(solution, index, inputs):
    model, watch = MODELS[index]
    model.train()  # predict must switch to eval mode itself
    watch.phase = "predict"
    try:
        predictions = solution.predict(model, inputs)
    finally:
        watch.phase = None
        watch.detach()
    return {
        "predictions": predictions,
        "forwards": watch.forwards["predict"],
        "first_wrong_mode": watch.first_wrong_mode.get("predict"),
        "state": tensors_of(model.state_dict()),
    }


# ---------------------------------------------------------------------------------------------------
# In the driver


def replay(seeds, inputs, labels):
    """The standard loop from the same spec: its final state_dict and, per step, the epoch and the
    gradient norm before and after clipping."""
    model = make_model(seeds)
    optimizer = make_optimizer(model)
    loaders = make_loaders(seeds, inputs, labels)
    criterion = nn.CrossEntropyLoss()
    steps = []
    for epoch in range(EPOCHS):
        model.train()
        for x, y in loaders["train"]:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            norm = float(nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM))
            after = math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in model.parameters()))
            optimizer.step()
            steps.append([epoch, norm, after])
        model.eval()
        with torch.no_grad():
            for x, _ in loaders["val"]:
                model(x)
    return {name: value.detach().clone() for name, value in model.state_dict().items()}, steps


def tensor_state(value):
    """The tensors of a state_dict that came back as data (anything else dropped)."""
    if not isinstance(value, dict):
        return {}
    return {str(name): tensor for name, tensor in value.items() if isinstance(tensor, torch.Tensor)}


def compare_states(state, expected):
    """How far the agent's state_dict is from the replay's: the worst tensor's difference as a share of
    its size (`‖got − expected‖ / ‖expected‖`), the tensors missing or of another shape, and BatchNorm's
    count of training batches on both sides."""
    missing = sorted(
        name for name in expected if name not in state or state[name].shape != expected[name].shape
    )
    worst, worst_name = 0.0, None
    for name, value in expected.items():
        if name in missing or not value.is_floating_point():
            continue
        got = state[name].double()
        if not bool(torch.isfinite(got).all()):
            worst, worst_name = math.inf, name
            break
        reference = value.double()
        difference = float((got - reference).norm()) / max(float(reference.norm()), 1e-6)
        if difference > worst:
            worst, worst_name = difference, name
    counts = [name for name, value in expected.items() if not value.is_floating_point()]
    return {
        "missing": missing[:20],
        "extra": len([name for name in state if name not in expected]),
        "worst": worst if math.isfinite(worst) else "inf",
        "worst_tensor": worst_name,
        "batches": [
            {
                "name": name,
                "got": int(state[name].reshape(-1)[0])
                if name not in missing and state[name].numel() == 1
                else None,
                "expected": int(expected[name].reshape(-1)[0]),
            }
            for name in counts
        ],
    }


class Replay(threading.Thread):
    """`replay(...)` in a thread of the driver, while the agent trains (torch leaves the GIL during its
    operations): the driver's process only waits on the socket meanwhile."""

    def __init__(self, *args):
        super().__init__(name="replay", daemon=True)
        self.args = args
        self.result = None
        self.error = None

    def run(self):
        torch.set_num_threads(1)
        try:
            self.result = replay(*self.args)
        except BaseException as error:  # re-raised in the driver: our failure, an internal error
            self.error = error

    def outcome(self):
        self.join()
        if self.error is not None:
            raise self.error
        return self.result


def plain(value, depth=0):
    """The agent's summary reduced to JSON numbers, strings, bools, lists and dicts of bounded size: it
    is only an explanation, and it must never fill the observations past their cap."""
    if depth > 6:
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
        return [plain(item, depth + 1) for item in value[:MAX_LISTED]]
    if type(value) is dict:
        return {str(key)[:40]: plain(item, depth + 1) for key, item in list(value.items())[:50]}
    return None


def bounded(value, budget=MAX_SUMMARY_BYTES):
    """`plain(value)` with its lists cut shorter until its JSON fits `budget` bytes (a huge summary from
    the agent must not push the observations past their cap: that would be an internal error)."""
    for limit in (MAX_LISTED, 200, 20, 0):
        trimmed = plain(value)
        if isinstance(trimmed, dict):
            trimmed = {key: item[:limit] if isinstance(item, list) else item for key, item in trimmed.items()}
        if len(json.dumps(trimmed)) <= budget:
            return trimmed
    return None


def predictions_of(model, inputs):
    model.eval()
    with torch.no_grad():
        return model(inputs).argmax(dim=1)


def driver(ctx):
    torch.set_num_threads(1)
    ctx.run("prepare", "agent_prepare")  # before the student's module is imported
    ctx.load_solution()
    data = load_public(ctx.public)
    inputs, labels = torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"])
    target = "val" if ctx.mode == "run" else "test"
    held_out = inputs[:VAL_SIZE] if target == "val" else torch.from_numpy(data["test_x"])
    ctx.observe("predict.target", target)

    for index in range(RUNS.get(ctx.mode, RUNS["submit"])):
        seeds = run_seeds(ctx.seed, index)
        replayed = Replay(seeds, inputs, labels)
        replayed.start()
        started = time.perf_counter()
        answer = ctx.run(f"train.{index}", "agent_train", index, list(seeds), inputs, labels)
        seconds = time.perf_counter() - started
        expected, steps = replayed.outcome()
        if answer is FAILED:
            continue
        answer = answer if isinstance(answer, dict) else {}
        summary = bounded(answer.get("summary"))
        state = tensor_state(answer.get("state"))
        ctx.observe(
            f"train.{index}", {**(summary if isinstance(summary, dict) else {}), "seconds": round(seconds, 3)}
        )
        ctx.observe(f"replay.{index}", {**compare_states(state, expected), "steps": steps})
        observe_predict(ctx, index, state, held_out)


def observe_predict(ctx, index, state, held_out):
    answer = ctx.run(f"predict.{index}", "agent_predict", index, held_out.clone())
    if answer is FAILED:
        return
    answer = answer if isinstance(answer, dict) else {}
    predictions = answer.get("predictions")
    ctx.observe(f"predict.{index}", ctx.describe_tensor(predictions))
    seen = {
        "forwards": bounded(answer.get("forwards"), 4000),
        "first_wrong_mode": bounded(answer.get("first_wrong_mode"), 4000),
        "agreement": None,
        "statistics_changed": None,
    }
    if isinstance(predictions, torch.Tensor):
        ctx.save_array(f"predictions_{index}", predictions)
    model = make_model((0, 0, 0))
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError) as error:  # not the model it was given any more
        print(f"the trained model's state_dict does not fit the trial's model: {error}")
    else:
        expected = predictions_of(model, held_out)
        if isinstance(predictions, torch.Tensor):
            got = predictions.argmax(dim=1) if predictions.dim() == 2 else predictions
            if got.shape == expected.shape:
                seen["agreement"] = float((got.long() == expected).double().mean())
        after = tensor_state(answer.get("state"))
        seen["statistics_changed"] = sorted(
            name
            for name in ("1.running_mean", "1.running_var", "1.num_batches_tracked")
            if name not in after
            or after[name].shape != state[name].shape
            or not _equal(after[name], state[name])
        )
    ctx.observe(f"predict_check.{index}", seen)
