"""Driver for trial 2.5, tensorboard. The student's code runs in the agent; this process drives it.

The driver makes a fresh log folder and has the agent run the experiment in it (`agent_run`); then it
reads the event files and the experiment record itself (regular files only, capped) and saves them for
the check, which parses them outside: the files are the experiment's outcome, *verified* there. What
the writers did (which were closed, how many events each was given) is *observed* in the agent.

In the agent, before the student's module is imported, the routine wraps three methods of TensorBoard's
`EventFileWriter` class (the object behind every `SummaryWriter`, however it is imported): `__init__`
(which file it writes), `add_event` (how many events it was given) and `close`. It also wraps
`SummaryWriter.add_scalar` so that every scalar the student logs is drawn on the platform's live charts
as it happens (`ctx.report`).

Then it calls `run_experiment(log_dir, epochs)` with a fresh log folder and, the moment it returns,
notes which writers were closed, copies every event file under the folder (as uint8 arrays: the check
parses them outside with exercises.kit.tbevents) and the experiment record (config.json / .yaml / .yml).
The check decides everything; nothing here is parsed for a verdict.
"""

import contextlib
import os
import stat
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from tensorboard.summary.writer import event_file_writer
from torch.utils.tensorboard import SummaryWriter

from exercises.kit.report import METRIC_NAME

EPOCHS = 3
RECORD_NAMES = ["config.json", "config.yaml", "config.yml"]
MAX_EVENT_FILES = 8
MAX_EVENT_FILE_BYTES = 4 << 20
MAX_RECORD_BYTES = 64 << 10


class WriterLog:
    """Every EventFileWriter created while the student's code ran: its file, events added, closed?"""

    def __init__(self):
        self.writers = []
        self.by_id = {}

    def install(self):
        cls = event_file_writer.EventFileWriter
        original_init, original_add, original_close = cls.__init__, cls.add_event, cls.close
        log = self

        def __init__(writer, *args, **kwargs):
            record = {"file": None, "added": 0, "closed": False}
            log.by_id[id(writer)] = record
            log.writers.append((writer, record))
            original_init(writer, *args, **kwargs)
            record["file"] = str(getattr(writer, "_file_name", "") or "")

        def add_event(writer, event):
            result = original_add(writer, event)
            if id(writer) in log.by_id:
                log.by_id[id(writer)]["added"] += 1
            return result

        def close(writer):
            if id(writer) in log.by_id:
                log.by_id[id(writer)]["closed"] = True
            return original_close(writer)

        cls.__init__, cls.add_event, cls.close = __init__, add_event, close

    def snapshot(self, log_dir):
        rows = []
        for _, record in self.writers:
            path = Path(record["file"]) if record["file"] else None
            try:
                inside = path is not None and path.resolve().parent.is_relative_to(log_dir.resolve())
            except OSError:
                inside = False
            rows.append(
                {
                    "file": str(path.relative_to(log_dir)) if inside else record["file"],
                    "name": path.name if path else "",
                    "inside_log_dir": inside,
                    "added": record["added"],
                    "closed": record["closed"],
                }
            )
        return rows


def chart_scalars(report):
    """Draw every add_scalar on the live charts (display only)."""
    original = SummaryWriter.add_scalar

    def add_scalar(writer, tag, scalar_value, global_step=None, *args, **kwargs):
        result = original(writer, tag, scalar_value, global_step, *args, **kwargs)
        with contextlib.suppress(Exception):  # a chart point is never worth breaking the student's run
            if isinstance(tag, str) and METRIC_NAME.match(tag):
                value = scalar_value.detach() if isinstance(scalar_value, torch.Tensor) else scalar_value
                report(step=None if global_step is None else int(global_step), **{tag: float(value)})
        return result

    SummaryWriter.add_scalar = add_scalar


def read_file(path, limit):
    """The bytes of a regular file (not following symlinks), or None when unreadable or over `limit`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(os.dup(fd), "rb") as stream:
            data = stream.read(limit + 1)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def event_files(log_dir):
    found = []
    for folder, directories, files in os.walk(log_dir):  # os.walk does not follow symlinked folders
        directories.sort()
        for name in sorted(files):
            if "tfevents" in name:
                found.append(Path(folder) / name)
    return found


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process)


WRITERS = []


def agent_install(solution):
    """Before solution.py is imported: wrap the writers (module-level ones are seen too) and chart
    every add_scalar."""
    from exercises.kit.report import report

    torch.set_num_threads(1)  # tiny tensors: one thread is faster and steadier on a shared grader
    writers = WriterLog()
    writers.install()
    WRITERS[:] = [writers]
    chart_scalars(report)


def agent_run(solution, log_dir, epochs):
    started = time.perf_counter()
    try:
        solution.run_experiment(log_dir, epochs)
    finally:
        elapsed = time.perf_counter() - started
        snapshot = WRITERS[0].snapshot(Path(log_dir))  # before anything else can close a writer
    return {
        "seconds": round(elapsed, 3),
        "cuda_available": bool(torch.cuda.is_available()),
        "torch": torch.__version__,
        "writers": snapshot,
    }


# ---------------------------------------------------------------------------------------------------
# In the driver


def driver(ctx):
    ctx.run("setup", "agent_install")
    ctx.load_solution()
    log_dir = Path(tempfile.mkdtemp(prefix="huashen-tb-")) / "run"
    log_dir.mkdir()
    result = ctx.run("run", "agent_run", str(log_dir), EPOCHS)
    if not isinstance(result, dict):
        return
    ctx.observe("run", {key: result.get(key) for key in ("seconds", "cuda_available", "torch")})
    ctx.observe("writers", result.get("writers"))

    files = []
    for index, path in enumerate(event_files(log_dir)[:MAX_EVENT_FILES]):
        data = read_file(path, MAX_EVENT_FILE_BYTES)
        entry = {"file": str(path.relative_to(log_dir)), "name": path.name, "array": None}
        if data is not None:
            key = f"events_{index}"
            if ctx.save_array(key, np.frombuffer(data, dtype=np.uint8)):
                entry["array"] = key
            entry["size"] = len(data)
        files.append(entry)
    ctx.observe("event_files", files)

    for name in RECORD_NAMES:
        data = read_file(log_dir / name, MAX_RECORD_BYTES)
        if data is not None:
            ctx.save_array("record", np.frombuffer(data, dtype=np.uint8))
            ctx.observe("record", {"name": name, "size": len(data)})
            break
    else:
        ctx.observe("record", {"name": None, "listing": sorted(os.listdir(log_dir))[:40]})
