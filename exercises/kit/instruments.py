"""Instruments in the student's process (the agent): what a training run did, measured while it ran.

Installed by the agent before the student's module is imported, they watch every training loop without
the trial's help, and only ever explain (the platform turns the summary into advice; nothing here is
scored):

- **gradient norms per layer**: a global optimizer step pre-hook takes the L2 norm of each parameter's
  gradient (the first 16 steps, then every 4th, from the 1024th every 16th), adds them up per layer (a module's
  parameters; names learned from the first forward pass of the model, by a global forward pre-hook), and
  keeps per layer the first, last, largest and smallest norm, plus the first step whose norm was not
  finite or above `EXPLODING_NORM`, naming the layer;
- **data wait against the loop**: the time spent inside a DataLoader iterator's `__next__` against each
  iterator's span (first batch asked for to the last one handed over), with the loader's `num_workers`
  and batch size;
- **largest tensors at the memory peak**: at an optimizer step, when the process's peak memory grew
  markedly since the first step or the last look (`getrusage`, or CUDA's allocator peak), the few
  largest tensors alive (shape, dtype, device, size), at most `MAX_SCANS` times.

The summary goes out on fd 3 as `{"instruments": {...}}` (at most once a second while training, and
before each reply to the driver), at most `MAX_SUMMARY_BYTES`. Everything the student's process sends is
the student's to forge: `clean` rebuilds a summary from scratch (known keys, numbers where numbers belong,
short strings, bounded lists) or refuses it, and the driver's relay and the grader both pass it through
`clean`. A hook that fails is quiet: the student's code never sees an exception of ours.
"""

from __future__ import annotations

import gc
import heapq
import json
import math
import re
import resource
import time
import weakref
from typing import Any

from exercises.kit import report as _report

SUMMARY_KEY = "instruments"
MAX_SUMMARY_BYTES = 3800  # within one pipe write (PIPE_BUF), as every line on fd 3
MAX_LAYERS = 12  # in a summary: the first and the last six
MAX_KEPT_LAYERS = 512  # tracked in the process; further layers share the last name
MAX_TENSORS = 5
MAX_SCANS = 3
MAX_NAME = 48
EXPLODING_NORM = 1e4
SEND_EVERY_SECONDS = 1.0
MARKED_GROWTH = 1.25  # a peak this many times the last one seen (and MARKED_GROWTH_BYTES more) is looked at
MARKED_GROWTH_BYTES = 64 * 1024 * 1024
MAX_ITERATORS = 16  # open iterator spans kept; older ones are folded into the totals

_NON_FINITE = ("nan", "inf", "-inf")
_DTYPE = re.compile(r"^torch\.[a-z0-9_]{1,24}$")
_DEVICE = re.compile(r"^[a-z]{2,8}(:\d{1,3})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _sample(step: int) -> bool:
    """Whether the optimizer's `step` (0-based) is measured: all of the first 16, then fewer."""
    stride = 1 if step < 16 else 4 if step < 1024 else 16
    return step % stride == 0


def _norm_value(value: float) -> float | str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(f"{value:.4g}")


def _bigger(a: float, b: float) -> float:
    """max() where NaN wins (a NaN norm is the news), as for `_smaller`."""
    return a if math.isnan(a) or a > b else b


def _smaller(a: float, b: float) -> float:
    return a if math.isnan(a) or a < b else b


class Instruments:
    """The hooks of one process and what they saw. `install()` once; `flush()` sends the summary."""

    def __init__(self) -> None:
        self.installed = False
        self.handles: list[Any] = []
        self.changed = False
        self.last_sent = 0.0
        # gradients
        self.names: Any = {}  # parameter -> name, by identity (torch's WeakIdKeyDictionary once installed)
        self.named_modules: weakref.WeakSet[Any] = weakref.WeakSet()
        self.optimizer_steps: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self.steps = 0
        self.sampled = 0
        self.layers: dict[str, list[float]] = {}  # name -> [first, last, max, min]
        self.exploding: dict[str, Any] | None = None
        # data
        # id -> [start, end, wait, batches, workers, batch size, weak reference to the iterator]
        self.iterators: dict[int, list[Any]] = {}
        self.folded = {"wait": 0.0, "loop": 0.0, "batches": 0}
        self.loaders: dict[tuple[int, int | None], float] = {}  # (workers, batch size) -> wait
        # memory
        self.peak_seen = 0
        self.peak_scanned = 0
        self.scans = 0
        self.tensors: list[dict[str, Any]] = []
        self.peak_mb = 0.0

    # -- installing ------------------------------------------------------------------------------------

    def install(self) -> Instruments:
        """Hook into torch (already imported by the probe, so this costs nothing to load)."""
        import torch
        from torch.nn.modules.module import register_module_forward_pre_hook
        from torch.optim.optimizer import register_optimizer_step_pre_hook
        from torch.utils.data import dataloader
        from torch.utils.weak import WeakIdKeyDictionary

        if self.installed:
            return self
        self.torch = torch
        # By identity: a plain weak dictionary compares tensors with ==, which is elementwise.
        self.names = WeakIdKeyDictionary()
        self.handles.append(register_optimizer_step_pre_hook(self._on_step))
        self.handles.append(register_module_forward_pre_hook(self._on_forward))
        iterator_class = dataloader._BaseDataLoaderIter
        original = iterator_class.__next__
        instruments = self

        def __next__(iterator: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(iterator)
            finally:
                instruments._on_batch(iterator, started, time.perf_counter())

        __next__.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(iterator_class, "__next__", __next__)  # noqa: B010  (patched on the class, for every loader)
        self._restore_next = (iterator_class, original)
        self.installed = True
        return self

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()
        if self.installed:
            iterator_class, original = self._restore_next
            setattr(iterator_class, "__next__", original)  # noqa: B010
        self.installed = False

    # -- names -----------------------------------------------------------------------------------------

    def _on_forward(self, module: Any, _args: Any) -> None:
        """The outermost module called first names every parameter under it (its pre-hook runs before
        its children's); every module it holds is then known and costs one set lookup per call."""
        try:
            if module in self.named_modules:
                return
            for name, parameter in module.named_parameters():
                if parameter not in self.names:
                    self.names[parameter] = name
            for child in module.modules():
                self.named_modules.add(child)
        except Exception:  # noqa: S110  (a module of the student's that cannot be walked: no names)
            pass

    def _layer_of(self, parameter: Any, index: int) -> str:
        name = self.names.get(parameter)
        return f"#{index}" if name is None else name.rsplit(".", 1)[0]

    # -- optimizer steps -------------------------------------------------------------------------------

    def _on_step(self, optimizer: Any, _args: Any, _kwargs: Any) -> None:
        try:
            step = self.optimizer_steps.get(optimizer, 0)
            self.optimizer_steps[optimizer] = step + 1
            self.steps += 1
            self.changed = True
            if _sample(step):
                self._measure_gradients(optimizer, step)
            self._check_memory()
            now = time.monotonic()
            if now - self.last_sent >= SEND_EVERY_SECONDS:
                self.flush()
        except Exception:  # noqa: S110  (advice only: never the student's exception)
            pass

    def _measure_gradients(self, optimizer: Any, step: int) -> None:
        torch = self.torch
        parameters = [
            parameter
            for group in optimizer.param_groups
            for parameter in group["params"]
            if parameter.grad is not None and not parameter.grad.is_sparse
        ]
        if not parameters:
            return
        with torch.no_grad():
            grads = [parameter.grad for parameter in parameters]
            try:
                norms = torch.stack([norm.float() for norm in torch._foreach_norm(grads)]).cpu().tolist()
            except Exception:  # mixed devices or dtypes the fused kernel refuses
                norms = [float(torch.linalg.vector_norm(grad.float())) for grad in grads]
        squares: dict[str, float] = {}
        for index, (parameter, norm) in enumerate(zip(parameters, norms, strict=True)):
            layer = self._layer_of(parameter, index)
            if layer not in self.layers and len(self.layers) >= MAX_KEPT_LAYERS:
                layer = next(reversed(self.layers))
            squares[layer] = (squares.get(layer, 0.0) + norm * norm) if math.isfinite(norm) else norm
        self.sampled += 1
        for layer, square in squares.items():
            norm = math.sqrt(square) if square >= 0 else square  # NaN stays NaN, inf stays inf
            kept = self.layers.get(layer)
            if kept is None:
                self.layers[layer] = [norm, norm, norm, norm]
            else:
                kept[1] = norm
                kept[2] = _bigger(norm, kept[2])
                kept[3] = _smaller(norm, kept[3])
            if self.exploding is None and (not math.isfinite(norm) or norm > EXPLODING_NORM):
                self.exploding = {"step": step, "layer": layer, "norm": _norm_value(norm)}
                self.flush()

    # -- memory ----------------------------------------------------------------------------------------

    def _peak_bytes(self) -> int:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        torch = getattr(self, "torch", None)
        if torch is not None and torch.cuda.is_initialized():
            peak = max(peak, int(torch.cuda.max_memory_allocated()))
        return peak

    def _check_memory(self) -> None:
        peak = self._peak_bytes()
        if not self.peak_seen:  # the first step: the model and data are in place, the loop begins
            self.peak_seen = self.peak_scanned = peak
            return
        self.peak_seen = max(self.peak_seen, peak)
        grew = peak >= self.peak_scanned * MARKED_GROWTH and peak - self.peak_scanned >= MARKED_GROWTH_BYTES
        if grew and self.scans < MAX_SCANS:
            self.scans += 1
            self.peak_scanned = peak
            self.peak_mb = round(peak / 2**20, 1)
            self.tensors = self.largest_tensors()
            self.flush()

    def largest_tensors(self, count: int = MAX_TENSORS) -> list[dict[str, Any]]:
        """The `count` largest tensors alive (by the memory under them, each storage once)."""
        tensor_type = self.torch.Tensor
        seen: set[tuple[str, int]] = set()
        found: list[tuple[int, int, Any]] = []
        for item in gc.get_objects():
            if not issubclass(type(item), tensor_type):  # type(): never a student's __class__
                continue
            try:
                storage = item.untyped_storage()
                key = (str(item.device), storage.data_ptr())
                if key in seen or not key[1]:
                    continue
                seen.add(key)
                found.append((storage.nbytes(), len(found), item))
            except Exception:  # noqa: S112  (meta, sparse or a subclass without storage)
                continue
        largest = heapq.nlargest(count, found, key=lambda entry: entry[0])
        described = []
        for size, _order, tensor in largest:
            described.append(
                {
                    "shape": [int(dimension) for dimension in tensor.shape][:8],
                    "dtype": str(tensor.dtype),
                    "device": str(tensor.device),
                    "mb": round(size / 2**20, 2),
                    "name": self.names.get(tensor),
                }
            )
        return described

    # -- data ------------------------------------------------------------------------------------------

    def _on_batch(self, iterator: Any, started: float, ended: float) -> None:
        try:
            key = id(iterator)
            span = self.iterators.get(key)
            if span is None or span[6]() is not iterator:
                if span is not None:  # an ended iterator's id, reused by a new one
                    self._fold(key)
                if len(self.iterators) >= MAX_ITERATORS:
                    self._fold(next(iter(self.iterators)))
                sampler = getattr(iterator, "_index_sampler", None)
                size = getattr(sampler, "batch_size", None)
                workers = getattr(iterator, "_num_workers", 0)
                span = [
                    started, ended, 0.0, 0,
                    int(workers) if isinstance(workers, int) else 0,
                    int(size) if isinstance(size, int) else None,
                    weakref.ref(iterator),  # never keep an iterator (and its worker processes) alive
                ]  # fmt: skip
                self.iterators[key] = span
            span[1] = ended
            span[2] += ended - started
            span[3] += 1
            self.changed = True
        except Exception:  # noqa: S110
            pass

    def _fold(self, key: int) -> None:
        start, end, wait, batches, workers, size, _iterator = self.iterators.pop(key)
        self.folded["wait"] += wait
        self.folded["loop"] += end - start
        self.folded["batches"] += batches
        self.loaders[(workers, size)] = self.loaders.get((workers, size), 0.0) + wait

    # -- the summary -----------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {}
        if self.steps:
            names = list(self.layers)
            if len(names) > MAX_LAYERS:
                names = names[: MAX_LAYERS // 2] + names[-(MAX_LAYERS // 2) :]
            summary["grad"] = {
                "steps": self.steps,
                "sampled": self.sampled,
                "layers": [[name[:MAX_NAME], *map(_norm_value, self.layers[name])] for name in names],
                "exploding": self.exploding,
            }
        wait, loop, batches = self.folded["wait"], self.folded["loop"], self.folded["batches"]
        loaders = dict(self.loaders)
        for start, end, span_wait, span_batches, workers, size, _iterator in self.iterators.values():
            wait, loop, batches = wait + span_wait, loop + end - start, batches + span_batches
            loaders[(workers, size)] = loaders.get((workers, size), 0.0) + span_wait
        if batches:
            (workers, size), _most = max(loaders.items(), key=lambda item: item[1])
            summary["data"] = {
                "wait_s": round(wait, 4),
                "loop_s": round(max(loop, wait), 4),
                "batches": batches,
                "num_workers": workers,
                "batch_size": size,
            }
        if self.tensors:
            summary["memory"] = {"peak_mb": self.peak_mb, "tensors": self.tensors}
        return summary

    def flush(self) -> bool:
        """Send the summary if anything changed since the last one (before a reply to the driver)."""
        if not self.changed:
            return False
        try:
            self.changed = False
            self.last_sent = time.monotonic()
            cleaned = clean(self.summary())
            if not cleaned:
                return False
            return _report._channel.send(summary_line(cleaned), always=True)
        except Exception:
            return False


def summary_line(cleaned: dict[str, Any]) -> bytes:
    """The line on fd 3 that carries a summary `clean` returned (the agent's and the driver's relay's)."""
    return (json.dumps({SUMMARY_KEY: cleaned}, allow_nan=False) + "\n").encode()


# ---------------------------------------------------------------------------------------------------
# Validation: what the driver's relay and the grader accept of a summary (the student's to forge)


class _Refused(ValueError):
    pass


def _integer(value: Any, largest: int = 2**53) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= largest:
        raise _Refused("not a count")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1e6:
        raise _Refused("not a duration")
    return round(float(value), 4)


def _norm(value: Any) -> float | str:
    if isinstance(value, str) and value in _NON_FINITE:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Refused("not a norm")
    return float(f"{float(value):.4g}")


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Refused("not a name")
    return _CONTROL.sub("?", value[:MAX_NAME])


def _list(value: Any, longest: int) -> list[Any]:
    if not isinstance(value, list) or len(value) > longest:
        raise _Refused("not a short list")
    return value


def _clean_grad(grad: Any) -> dict[str, Any]:
    if not isinstance(grad, dict):
        raise _Refused("grad")
    layers = []
    for layer in _list(grad.get("layers"), MAX_LAYERS):
        if len(_list(layer, 5)) != 5:
            raise _Refused("layer")
        layers.append([_name(layer[0]), *(_norm(value) for value in layer[1:])])
    exploding = grad.get("exploding")
    if exploding is not None:
        if not isinstance(exploding, dict):
            raise _Refused("exploding")
        exploding = {
            "step": _integer(exploding.get("step")),
            "layer": _name(exploding.get("layer")),
            "norm": _norm(exploding.get("norm")),
        }
    return {
        "steps": _integer(grad.get("steps")),
        "sampled": _integer(grad.get("sampled")),
        "layers": layers,
        "exploding": exploding,
    }


def _clean_data(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _Refused("data")
    size = data.get("batch_size")
    return {
        "wait_s": _seconds(data.get("wait_s")),
        "loop_s": _seconds(data.get("loop_s")),
        "batches": _integer(data.get("batches")),
        "num_workers": _integer(data.get("num_workers"), 4096),
        "batch_size": None if size is None else _integer(size),
    }


def _clean_memory(memory: Any) -> dict[str, Any]:
    if not isinstance(memory, dict):
        raise _Refused("memory")
    tensors = []
    for tensor in _list(memory.get("tensors"), MAX_TENSORS):
        if not isinstance(tensor, dict):
            raise _Refused("tensor")
        dtype, device, name = tensor.get("dtype"), tensor.get("device"), tensor.get("name")
        if not isinstance(dtype, str) or not _DTYPE.match(dtype):
            raise _Refused("dtype")
        if not isinstance(device, str) or not _DEVICE.match(device):
            raise _Refused("device")
        tensors.append(
            {
                "shape": [_integer(size) for size in _list(tensor.get("shape"), 8)],
                "dtype": dtype,
                "device": device,
                "mb": _seconds(tensor.get("mb")),  # a size in MB has a duration's bounds
                "name": None if name is None else _name(name),
            }
        )
    return {"peak_mb": _seconds(memory.get("peak_mb")), "tensors": tensors}


def clean(summary: Any) -> dict[str, Any] | None:
    """A summary rebuilt from known keys and checked values, or None when anything in it is malformed,
    empty or over `MAX_SUMMARY_BYTES` encoded."""
    if not isinstance(summary, dict):
        return None
    try:
        cleaned: dict[str, Any] = {}
        for key, check in (("grad", _clean_grad), ("data", _clean_data), ("memory", _clean_memory)):
            if key in summary:
                cleaned[key] = check(summary[key])
        if not cleaned or len(json.dumps(cleaned, allow_nan=False)) > MAX_SUMMARY_BYTES:
            return None
        return cleaned
    except (_Refused, TypeError, ValueError, RecursionError):
        return None
