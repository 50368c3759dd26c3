"""Pretend CUDA is (or is not) available, to see whether code *asks for* the GPU when it should.

Graders and CI machines mostly have no GPU, yet "pick the device from `torch.cuda.is_available()`" is
something a trial must check. `simulate_cuda(True)` is a behavioural probe for exactly that, used
through `ProbeContext.patch_cuda_available`. It is deliberately small; what it does:

- `torch.cuda.is_available()` and `torch.accelerator.is_available()` return the value you chose;
  `torch.cuda.device_count()` / `torch.accelerator.device_count()` return 1 or 0, and
  `torch.accelerator.current_accelerator()` returns `device("cuda")` or None to match. With a simulated
  GPU, `torch.cuda.current_device()` is 0, `get_device_name()` names a simulated GPU and
  `synchronize()` does nothing.
- A `TorchFunctionMode` watches every torch call while the block runs — factory functions
  (`torch.rand(..., device=...)`, `zeros`, `ones`, `randn`, `randint`, `tensor`, `empty`, `full`,
  `arange`, the `*_like` and `new_*` families, …), `Tensor.to`, `Tensor.cuda` and `Tensor.cpu`, and so
  `Module.to`/`.cuda`, which call them, and the `torch.device(...)` context. The mode sees calls made
  through any name (`from torch import rand` too). Every device other than cpu/meta that the code asks
  for is appended to `recorder.requests` as a string ("cuda", "cuda:0").
- With a simulated GPU (value True and no real one), a CUDA request is carried out on the CPU instead,
  and the resulting tensor is remembered as *virtually on CUDA*: anything computed from it is virtual
  too, until `.cpu()`/`.to("cpu")` brings it back. `recorder.on_cuda(t)` answers "would t be on the GPU
  now?", which is how a probe notices a forgotten `.cpu()`. The tensor's own `.device` still says cpu.
- With value False and no real GPU, CUDA requests are recorded and then passed to torch unchanged, so
  they fail just as they would on a machine without a GPU.
- On a machine that really has a GPU nothing is rerouted: requests are recorded and really run.

Not simulated (documented limits): module parameters moved by `Module.to` keep their CPU identity for
`on_cuda` (look at `recorder.requests` instead); mixing virtual-CUDA and CPU tensors in one operation
does not raise as it would on a GPU; names bound before the block (`from torch.cuda import
is_available`) keep the real answer; CUDA-only features (pinned memory, streams, AMP kernels) are not
faked.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves

_HOST_DEVICES = ("cpu", "meta")


class DeviceRecorder:
    """What code asked for inside one `simulate_cuda` block."""

    def __init__(self, available: bool, rerouted: bool) -> None:
        self.available = available  # what is_available() answered
        self.rerouted = rerouted  # True when CUDA work is carried out on the CPU
        self.requests: list[str] = []  # every non-CPU device asked for, in order
        self._virtual: dict[int, weakref.ref[torch.Tensor]] = {}

    def on_cuda(self, value: object) -> bool:
        """True if `value` is a tensor on a real GPU, or one the simulation placed on CUDA."""
        if not isinstance(value, torch.Tensor):
            return False
        return bool(value.is_cuda) or self.is_virtual(value)

    def is_virtual(self, value: object) -> bool:
        ref = self._virtual.get(id(value))
        return ref is not None and ref() is value

    def cuda_requested(self, since: int = 0) -> bool:
        """Whether any CUDA device was requested after the first `since` requests."""
        return any(device.startswith("cuda") for device in self.requests[since:])

    def _mark(self, value: object) -> None:
        if not isinstance(value, torch.Tensor):
            return
        key = id(value)

        def forget(ref: weakref.ref[torch.Tensor], key: int = key) -> None:
            if self._virtual.get(key) is ref:
                del self._virtual[key]

        self._virtual[key] = weakref.ref(value, forget)


def _device_name(device: Any) -> str | None:
    """The accelerator device `device` names, as a string, or None for cpu/meta/unparseable/absent."""
    if device is None:
        return None
    if isinstance(device, int) and not isinstance(device, bool):
        return f"cuda:{device}"
    try:
        parsed = torch.device(device)
    except (TypeError, RuntimeError, ValueError):
        return None
    return None if parsed.type in _HOST_DEVICES else str(parsed)


def _alias(tensor: torch.Tensor) -> torch.Tensor:
    """A new tensor object sharing `tensor`'s data (a real device move would return a new object too)."""
    return tensor.view_as(tensor)


class _DeviceWatch(TorchFunctionMode):
    def __init__(self, recorder: DeviceRecorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = dict(kwargs or {})
        if func is torch.Tensor.to and args:
            return self._to(func, args, kwargs)
        if func is torch.Tensor.cuda and args:
            return self._cuda(func, args, kwargs)
        if func is torch.Tensor.cpu and args:
            result = func(*args, **kwargs)
            return _alias(result) if result is args[0] and self.recorder.is_virtual(result) else result
        requested = _device_name(kwargs.get("device"))
        reroute = requested is not None and requested.startswith("cuda") and self.recorder.rerouted
        if requested is not None:
            self.recorder.requests.append(requested)
            if reroute:
                kwargs["device"] = "cpu"
        result = func(*args, **kwargs)
        if reroute and isinstance(result, torch.Tensor) and any(result is leaf for leaf in tree_leaves(args)):
            result = _alias(result)  # torch.as_tensor(t, device="cuda") gave back t itself
        if reroute or self._touches_virtual(args, kwargs):
            for leaf in tree_leaves(result):
                self.recorder._mark(leaf)
        return result

    def _touches_virtual(self, args: Any, kwargs: Any) -> bool:
        if not self.recorder._virtual:
            return False
        return any(self.recorder.is_virtual(leaf) for leaf in tree_leaves((args, kwargs)))

    def _to(self, func: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        tensor, rest = args[0], args[1:]
        parse_kwargs = {k: v for k, v in kwargs.items() if k != "copy"}
        try:
            device, dtype, non_blocking, memory_format = torch._C._nn._parse_to(*rest, **parse_kwargs)
        except (TypeError, RuntimeError):
            return func(*args, **kwargs)  # let torch explain the bad call
        target_virtual = bool(rest) and self.recorder.is_virtual(rest[0])  # .to(other_tensor)
        requested = _device_name(device) or ("cuda" if target_virtual else None)
        if requested is not None:
            self.recorder.requests.append(requested)
        if requested is not None and requested.startswith("cuda") and self.recorder.rerouted:
            options: dict[str, Any] = {
                "device": "cpu",
                "non_blocking": non_blocking,
                "copy": kwargs.get("copy", False),
            }
            if dtype is not None:
                options["dtype"] = dtype
            if memory_format is not None:
                options["memory_format"] = memory_format
            result = func(tensor, **options)
            if result is tensor and not self.recorder.is_virtual(tensor):
                result = _alias(tensor)
            self.recorder._mark(result)
            return result
        result = func(*args, **kwargs)
        if device is not None and device.type == "cpu" and self.recorder.is_virtual(tensor):
            return _alias(result) if result is tensor else result  # back on the host
        if self.recorder.is_virtual(tensor):
            self.recorder._mark(result)  # e.g. .to(torch.float16) stays where it was
        return result

    def _cuda(self, func: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        tensor = args[0]
        device = args[1] if len(args) > 1 else kwargs.get("device")
        self.recorder.requests.append(_device_name(device) or "cuda")
        if not self.recorder.rerouted:
            return func(*args, **kwargs)
        if self.recorder.is_virtual(tensor):
            return tensor
        result = _alias(tensor)
        self.recorder._mark(result)
        return result


@contextlib.contextmanager
def simulate_cuda(available: bool) -> Iterator[DeviceRecorder]:
    """Make CUDA look available (or not) inside the block; yields the `DeviceRecorder`."""
    really = bool(torch.cuda.is_available())
    recorder = DeviceRecorder(available=available, rerouted=available and not really)
    count = 1 if available else 0
    fakes: list[tuple[Any, str, Any]] = [
        (torch.cuda, "is_available", lambda: available),
        (torch.accelerator, "is_available", lambda: available),
        (
            torch.accelerator,
            "current_accelerator",
            lambda check_available=False: torch.device("cuda") if available else None,
        ),
    ]
    if available != really:
        fakes += [
            (torch.cuda, "device_count", lambda: count),
            (torch.accelerator, "device_count", lambda: count),
        ]
    if recorder.rerouted:
        fakes += [
            (torch.cuda, "current_device", lambda: 0),
            (torch.cuda, "get_device_name", lambda device=None: "Huashen simulated GPU"),
            (torch.cuda, "synchronize", lambda device=None: None),
        ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in fakes]
    try:
        for owner, name, fake in fakes:
            setattr(owner, name, fake)
        with _DeviceWatch(recorder):
            yield recorder
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)
