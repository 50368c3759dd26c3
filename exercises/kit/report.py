"""Live metrics for the training charts: `report(step=..., **metrics)`.

Student code imports it like this (the grader puts the kit on the sandbox's PYTHONPATH)::

    from exercises.kit.report import report

    for step in range(100):
        ...
        report(step=step, loss=loss.item(), accuracy=acc)

Each call writes one JSON line `{"step": 3, "metrics": {"loss": 0.52}}` to file descriptor 3, a pipe the
grader opens and streams to the browser. Anywhere else (a laptop, a test, fd 3 closed or not a pipe)
reports are dropped silently, so the same code runs unchanged.

Rules, so that a chart never stalls or corrupts a run:
- metric names are 1-64 characters of letters, digits and `_ . - /`; values are numbers (Python,
  numpy, or one-element tensors); NaN and infinities are sent as the strings "nan", "inf", "-inf";
- one line is at most 4096 bytes (PIPE_BUF, so concurrent lines never interleave);
- the pipe is written without blocking: if the grader falls behind, reports are dropped rather than
  slowing the student's code down; after 10,000 reports further ones are dropped.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import stat
from typing import Any

EVENTS_FD = 3
MAX_LINE_BYTES = 4096
MAX_EVENTS = 10_000
METRIC_NAME = re.compile(r"^[A-Za-z0-9_./\-]{1,64}$")


class _Channel:
    """Whether fd 3 is our pipe (decided once), and how many events went out."""

    def __init__(self) -> None:
        self.usable: bool | None = None
        self.sent = 0
        self.dropped = 0

    def send(self, line: bytes, *, always: bool = False) -> bool:
        """Write one line; `always` bypasses the event cap (the kit's own final resources event)."""
        if self.usable is None:
            self.usable = _is_pipe(EVENTS_FD)
            if self.usable:
                try:
                    os.set_blocking(EVENTS_FD, False)
                except OSError:
                    self.usable = False
        if not self.usable or (self.sent >= MAX_EVENTS and not always):
            self.dropped += 1
            return False
        try:
            os.write(EVENTS_FD, line)
        except BlockingIOError:
            self.dropped += 1
            return False
        except OSError:  # the reader went away (EPIPE) or fd 3 was closed under us
            self.usable = False
            self.dropped += 1
            return False
        self.sent += 1
        return True


def _is_pipe(fd: int) -> bool:
    """Whether `fd` is the write end of a pipe: the grader's event pipe is; a read end never is ours (in a
    test process fd 3 can be the read end of someone else's pipe, and O_NONBLOCK set on it would be theirs)."""
    try:
        writable = (fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)
        return writable and stat.S_ISFIFO(os.fstat(fd).st_mode)
    except OSError:
        return False


_channel = _Channel()


def _number(name: str, value: Any) -> float | int | str:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if abs(value) < 2**63 else float(value)
    try:
        number = float(value)  # floats, numpy scalars, one-element tensors
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"report(): metric {name!r} must be a number, got {type(value).__name__}") from error
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return number


def event_line(step: Any = None, **metrics: Any) -> bytes:
    """The JSON line for one report, or raise TypeError/ValueError explaining what is wrong."""
    if step is not None:
        if isinstance(step, bool):
            raise TypeError("report(): step must be an integer")
        try:
            step = int(step.__index__())
        except (AttributeError, TypeError) as error:
            raise TypeError(f"report(): step must be an integer, got {type(step).__name__}") from error
    if not metrics:
        raise ValueError("report(): give at least one metric, e.g. report(step=1, loss=0.5)")
    values = {}
    for name, value in metrics.items():
        if not METRIC_NAME.match(name):
            raise ValueError(f"report(): metric name {name!r} must be 1-64 letters, digits or _ . - /")
        values[name] = _number(name, value)
    line = (json.dumps({"step": step, "metrics": values}, allow_nan=False) + "\n").encode()
    if len(line) > MAX_LINE_BYTES:
        raise ValueError(f"report(): one report may hold at most {MAX_LINE_BYTES} bytes of metrics")
    return line


def report(step: Any = None, **metrics: Any) -> bool:
    """Send one point per metric to the live charts; returns whether it went out.

    `step` is the x coordinate (an integer, or None to let the chart count); each keyword is a metric.
    Raises TypeError/ValueError for a malformed report (so mistakes show up), never for a full pipe.
    """
    return _channel.send(event_line(step, **metrics))


def send_resources(**resources: float) -> bool:
    """The kit's own event `{"resources": {...}}` (e.g. peak GPU memory), sent even past the event cap."""
    values = {name: float(value) for name, value in resources.items() if math.isfinite(float(value))}
    line = (json.dumps({"resources": values}) + "\n").encode()
    return len(line) <= MAX_LINE_BYTES and _channel.send(line, always=True)
