"""The driver: a trial's `driver(ctx)` in its own process, calling the student's code across a boundary.

A trial whose probe.py defines `driver(ctx)` (instead of `probe(ctx)`) is graded this way. The harness
calls `run_boundary`, which, before any student code exists:

1. makes this process not dumpable (the student's process, same uid, cannot open its /proc files, its
   memory or its descriptors; ptrace and process_vm_readv/writev are killed by the sandbox's seccomp);
2. opens one socketpair and a pipe for the student's live metrics, and forks the **agent**
   (`exercises.kit.agent`): its own session, the pipe as its fd 3, a seccomp filter that keeps every
   signal, pidfd and rlimit call away from this process, then it serves calls;
3. keeps fd 3 — the grader's event pipe — for itself alone: it relays the student's metric lines and
   the agent's instruments summary (parsed and re-encoded, never copied) and, at the end, sends the
   grader the **result manifest**,
   `{"kind": "boundary-result", "files": {path: sha256}}`, naming every file it wrote to out/.

The driver draws the job's secret seed (`ctx.seed`) after the fork, so no copy of it was ever in the
agent's memory; it reaches the check through the observations (`job.seed`).

Only the driver writes the observations, and only after the agent is gone (arrays and artifacts are
kept in memory until then). The student's process can still write /work/out — it is the same uid — but
the grader copies out only the files whose sha256 matches the manifest, and a missing manifest means
no observations at all: whatever the student's code writes, forks or leaves behind cannot change what
the check reads. Verdict inputs come from what the driver saw: a GPU out-of-memory claim counts only on
a GPU grader, and the student's process can never produce a probe (internal) error.

`ctx` API for trial authors (`DriverContext`), besides `observe`, `save_array`, `save_artifact`,
`report`, `mode`, `device`, `public` as in `exercises.kit.probe`:

- `ctx.load_solution()` / `ctx.reload_solution(key)`: import solution.py in the agent (again);
- `ctx.call(key, name, *args, **kwargs)`: the student's `name(...)`, its result rebuilt here (tensors
  from safetensors, with the agent's facts in `ctx.facts(tensor)`), or `FAILED` with the observation
  `{"error": ...}` — a raise, a dead or silent process, or an unreadable answer alike;
- `ctx.run(key, routine, *args, **kwargs)`: the probe's own `agent_<name>(solution, ...)` run in the
  agent, for what only that process can see (memory sharing, hooks); its results are *observed*;
- `ctx.keep_file(name, data)`: a file the student's code wrote, as the driver read it, kept as
  out/files/<name> for the trial's verify step (which receives only the files the manifest names);
- `ctx.patch_cuda_available(value)`: a simulated CUDA world in the agent; `ctx.last_call` holds the
  facts of the last call (`cuda_requested`) and `ctx.facts(t)["on_cuda"]` the simulated placement;
- `ctx.seed`: this job's secret seed (an int below 2**63).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import json
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from exercises.kit import boundary
from exercises.kit import instruments as _instruments
from exercises.kit import report as _report
from exercises.kit.messages import both
from exercises.kit.observations import (
    ARRAY_KEY,
    ARRAYS_DIR,
    ARTIFACT_NAME,
    ARTIFACTS_DIR,
    ERROR_FILE,
    FILE_NAME,
    FILES_DIR,
    GPU_OOM,
    MAX_ARRAY_BYTES,
    MAX_FILE_BYTES,
    MAX_OBSERVATIONS_BYTES,
    OBSERVATIONS_FILE,
    PROBE_ERROR,
    SOLUTION_ERROR,
)
from exercises.kit.probe import (
    _NPY_HEADER_ROOM,
    FAILED,
    MAX_TRACEBACK_CHARS,
    ProbeContext,
    SolutionFailed,
    _as_numpy,
    _check_key,
    _prepare_out,
    _write_atomically,
    describe_tensor,
    jsonable,
)

RESULT_KIND = "boundary-result"
SEED_KEY = "job.seed"
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
EXIT_GRACE_SECONDS = 0.5
# The agent's deaths the driver passes on as its own exit status 128 + signal, which the runner reads as
# on the in-process path: a seccomp kill (sandbox violation), the CPU rlimit (time limit), a crash.
PASSED_ON_SIGNALS = (
    signal.SIGSYS,
    signal.SIGXCPU,
    signal.SIGSEGV,
    signal.SIGBUS,
    signal.SIGABRT,
    signal.SIGILL,
    signal.SIGFPE,
)


def _prctl(option: int, value: int) -> None:
    if ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value})")


def _set_dumpable(value: int) -> None:
    _prctl(PR_SET_DUMPABLE, value)


def _children(parent: int) -> list[int]:
    """The pids whose parent is `parent`, from /proc (the comm field may hold spaces and parentheses)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == parent:
            found.append(int(entry))
    return found


def _only(known: set[int]) -> bool:
    """Whether every process this /proc shows is in `known` (in the sandbox's PID namespace: nothing of
    the student's is left that was not killed already)."""
    return all(int(entry) in known for entry in os.listdir("/proc") if entry.isdigit())


def end_descendants(seconds: float = 2.0) -> None:
    """Kill every process the agent left behind. The driver is their child subreaper, so whatever the
    agent forked, in any session or process group, is reparented here once its parent is gone; the loop
    ends when no child is left unkilled and nothing else is running beside init and this process."""
    me = os.getpid()
    killed: set[int] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        children = _children(me)
        fresh = [pid for pid in children if pid not in killed]
        for pid in fresh:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        killed.update(fresh)
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        if not children or (not fresh and _only({1, me, *killed})):
            return
        time.sleep(0.005)


def _unwrap(value: Any) -> Any:
    """Observations keep an agent's opaque value as the kit's tagged form {"$type", "repr"}."""
    if isinstance(value, boundary.Opaque):
        return {"$type": value.type_name, "repr": value.text}
    if isinstance(value, list | tuple):
        return [_unwrap(item) for item in value]
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items()}
    return value


class AgentGone(Exception):
    """The agent closed the socket or died; every later call fails at once."""


class DriverContext(ProbeContext):
    """What a boundary trial's `driver(ctx)` works with (see the module doc)."""

    def __init__(
        self, *, work: Path, out: Path, mode: str, device: str, sock: socket.socket, agent: int
    ) -> None:
        super().__init__(work=work, out=out, mode=mode, device=device)
        self.sock = sock
        self.agent = agent
        self.seed = int.from_bytes(os.urandom(8), "little") >> 1
        self.last_call: dict[str, Any] = {}
        self._facts: dict[int, dict[str, Any]] = {}
        self._keep: list[Any] = []
        self._gone: str | None = None
        self.agent_signal: int | None = None  # the signal that ended the agent, before we stopped it
        self._loaded = False
        self._files: dict[str, bytes] = {}

    # -- the wire -----------------------------------------------------------------------------------

    def _exchange(self, header: dict[str, Any], body: bytes = b"") -> tuple[dict[str, Any], bytes]:
        if self._gone is not None:
            raise AgentGone(self._gone)
        try:
            boundary.send_frame(self.sock, header, body)
            self._wait_readable()
            return boundary.receive_frame(self.sock)
        except (boundary.Closed, OSError) as error:
            self._gone = self._why_gone(error)
            raise AgentGone(self._gone) from None

    def _wait_readable(self) -> None:
        """Block until the agent's answer starts to arrive, or raise Closed once the agent is dead: a
        process it forked may hold its end of the socket open, so EOF alone would never come."""
        while not select.select([self.sock], [], [], 0.2)[0]:
            gone = self.agent < 0 or self._reap(wait=0) is not None
            if gone and not select.select([self.sock], [], [], 0)[0]:
                raise boundary.Closed("the agent is gone")

    def _reap(self, *, wait: float) -> int | None:
        """The agent's exit code (negative: the signal) if it ended within `wait` seconds."""
        deadline = time.monotonic() + wait
        while True:
            try:
                pid, raw = os.waitpid(self.agent, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid:
                status = os.waitstatus_to_exitcode(raw)
                if status < 0:
                    self.agent_signal = -status
                self.agent = -1  # reaped: never signal a pid that may be reused
                return status
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)

    def _why_gone(self, error: BaseException) -> str:
        status = self._reap(wait=EXIT_GRACE_SECONDS)
        if status is None:
            return both("ended") + "\n"
        if status >= 0:
            return both("ended_status", status=status) + "\n"
        return both("ended_signal", signal=-status) + "\n"

    def _answer(self, key: str, header: dict[str, Any], body: bytes = b"") -> Any:
        """Send one request; the decoded value, or FAILED with observation `key` explaining why."""
        self.last_call = {}
        try:
            reply, reply_body = self._exchange(header, body)
        except AgentGone as gone:
            return self._fail(key, str(gone))
        except boundary.Malformed as error:
            return self._fail(key, both("unreadable_answer", error=error) + "\n")
        if reply.get("ok") is not True:
            text = reply.get("traceback")
            text = text[-MAX_TRACEBACK_CHARS:] if isinstance(text, str) else both("raised") + "\n"
            if reply.get("gpu_oom") is True and self.device == "gpu":
                self._record_error(GPU_OOM, text)
            return self._fail(key, text)
        try:
            value, decoder = boundary.decode(reply.get("value"), reply_body)
        except boundary.Malformed as error:
            return self._fail(key, both("unreadable_answer", error=error) + "\n")
        facts = reply.get("facts")
        self.last_call = boundary._facts(facts)
        self._facts.update(decoder.facts)
        self._keep.extend(decoder.keep)
        return value

    def _fail(self, key: str, text: str) -> Any:
        self.observations[key] = {"error": text}
        return FAILED

    # -- the student's module -----------------------------------------------------------------------

    def load_solution(self) -> Any:
        """Import solution.py in the agent (once). On a raise (or a process that ended) the error goes
        to error.json as the student's and `SolutionFailed` stops the driver, as in the in-process kit."""
        if self._loaded:
            return True
        if self._answer("solution.import", {"op": "load"}) is FAILED:
            text = self.observations.pop("solution.import")["error"]
            kind = GPU_OOM if self.error is not None and self.error["kind"] == GPU_OOM else SOLUTION_ERROR
            self._record_error(kind, text)
            raise SolutionFailed(text)
        self._loaded = True
        return True

    def reload_solution(self, key: str) -> Any:
        _check_key(key)
        return self._answer(key, {"op": "reload"})

    def call(self, key: str, fn: Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> Any:
        _check_key(key)
        if not isinstance(fn, str):
            raise TypeError("across the boundary, ctx.call takes the student's function by name")
        self.load_solution()
        return self._request(key, {"op": "call", "function": fn}, args, kwargs)

    def run(self, key: str, routine: str, /, *args: Any, **kwargs: Any) -> Any:
        """Run the probe's `agent_<name>(solution, *args, **kwargs)` inside the agent (what it reports is
        observed; tensors it returns are data). Before `load_solution`, `solution` is None: a routine
        can prepare the student's process before their module is imported."""
        _check_key(key)
        if not routine.startswith("agent_"):
            raise ValueError("agent routines are named agent_<name>")
        return self._request(key, {"op": "run", "routine": routine}, args, kwargs)

    def _request(self, key: str, header: dict[str, Any], args: Any, kwargs: Any) -> Any:
        encoder = boundary.Encoder()
        header = {**header, "args": encoder.encode(list(args)), "kwargs": encoder.encode(dict(kwargs))}
        return self._answer(key, header, encoder.body())

    @contextlib.contextmanager
    def patch_cuda_available(self, value: bool) -> Iterator[Any]:
        """A simulated CUDA world in the agent while the block runs (see `exercises.kit.devices`)."""
        with contextlib.suppress(AgentGone, boundary.Malformed):
            self._exchange({"op": "world", "cuda": bool(value)})
        try:
            yield self
        finally:
            with contextlib.suppress(AgentGone, boundary.Malformed):
                self._exchange({"op": "world", "cuda": None})

    # -- what the agent said about values -------------------------------------------------------------

    def facts(self, value: Any) -> dict[str, Any]:
        """The agent's facts about a tensor it returned (device, requires_grad, grad_fn, type, on_cuda);
        strings and bools it chose, so only ever *observed*."""
        if isinstance(value, boundary.Opaque):
            return dict(value.facts)
        return dict(self._facts.get(id(value), {}))

    def describe_tensor(self, value: object) -> dict[str, Any]:
        """The in-process kit's summary: shape and dtype of the data that arrived here, device and grad
        as the agent reported them."""
        if isinstance(value, boundary.Opaque):
            return {"type": value.type_name, "repr": value.text}
        torch = sys.modules.get("torch")
        if torch is None or not isinstance(value, torch.Tensor):
            return describe_tensor(value)
        facts = self.facts(value)
        return {
            "type": str(facts.get("type", "torch.Tensor")),
            "shape": [int(size) for size in value.shape],
            "dtype": str(value.dtype),
            "device": str(facts.get("device", "cpu")),
            "requires_grad": facts.get("requires_grad") is True,
        }

    # -- observations, kept here until the agent is gone -----------------------------------------------

    def observe(self, key: str, value: Any) -> None:
        _check_key(key)
        self.observations[key] = jsonable(_unwrap(value))

    def save_array(self, key: str, value: Any) -> bool:
        if not ARRAY_KEY.match(key):
            raise ValueError(f"array key {key!r} must match {ARRAY_KEY.pattern}")
        import numpy

        array = _as_numpy(value)
        if array is None or array.nbytes > MAX_ARRAY_BYTES - _NPY_HEADER_ROOM:
            return False
        buffer = io.BytesIO()
        numpy.save(buffer, array, allow_pickle=False)
        self._files[f"{ARRAYS_DIR}/{key}.npy"] = buffer.getvalue()
        return True

    def save_artifact(self, name: str, png: bytes) -> bool:
        if not ARTIFACT_NAME.match(f"{name}.png") or not isinstance(png, bytes | bytearray):
            raise ValueError(f"artifact name {name!r} must be a short slug and png must be bytes")
        if not bytes(png).startswith(b"\x89PNG\r\n\x1a\n") or len(png) > 512 * 1024:
            return False
        self._files[f"{ARTIFACTS_DIR}/{name}.png"] = bytes(png)
        return True

    def keep_file(self, name: str, data: bytes) -> bool:
        """Keep `data` — a file the student's code produced, which the driver read back (an exported
        model) — as out/files/<name>, named in the manifest like everything the driver writes, for the
        trial's verify step. Its content is still the student's: the manifest vouches only that it is
        what the driver read. False (nothing kept) when it is over `MAX_FILE_BYTES`."""
        if not FILE_NAME.match(name) or not isinstance(data, bytes | bytearray):
            raise ValueError(f"file name {name!r} must match {FILE_NAME.pattern} and data must be bytes")
        if len(data) > MAX_FILE_BYTES:
            return False
        self._files[f"{FILES_DIR}/{name}"] = bytes(data)
        return True

    # -- the end --------------------------------------------------------------------------------------

    def stop_agent(self) -> None:
        """Ask the agent to leave, then kill its process group whatever it answered."""
        with contextlib.suppress(OSError, boundary.Malformed):
            boundary.send_frame(self.sock, {"op": "exit"})
        with contextlib.suppress(OSError):
            self.sock.close()
        agent = self.agent
        if agent > 0:
            self._reap(wait=0)  # already ended by itself? Its status tells a crash from our kill
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(agent, signal.SIGKILL)  # the group outlives a reaped leader
            if self.agent > 0:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(agent, signal.SIGKILL)

    def _finish(self) -> None:
        """Write out/ (replacing whatever is there) and send the manifest of what was written."""
        if self.observations:  # with nothing observed (solution.py raised at import) there is no seed to use
            self.observations[SEED_KEY] = self.seed
        try:
            data = json.dumps(self.observations, ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError) as error:
            self._record_error(PROBE_ERROR, f"observations are not JSON: {error}")
            data = b"{}"
        if len(data) > MAX_OBSERVATIONS_BYTES:
            self._record_error(PROBE_ERROR, f"observations take {len(data)} bytes, over the 1 MiB cap")
            data = b"{}"
        files = {OBSERVATIONS_FILE: data, **self._files}
        if self.error is not None:
            files[ERROR_FILE] = json.dumps(self.error, ensure_ascii=False).encode()
        written: dict[str, str] = {}
        for name, content in files.items():
            path = self.out / name
            try:
                if "/" in name:
                    folder = path.parent
                    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                        folder.unlink()
                    folder.mkdir(exist_ok=True)
                _write_atomically(path, content)
            except OSError as error:
                print(f"could not write out/{name}: {error}", file=sys.stderr, flush=True)
                continue
            written[name] = hashlib.sha256(content).hexdigest()
        _send_result({"kind": RESULT_KIND, "files": written})


def _send_result(event: dict[str, Any]) -> None:
    """The manifest on fd 3, blocking until the grader took it (the relay has stopped by now)."""
    line = (json.dumps(event) + "\n").encode()
    try:
        os.set_blocking(_report.EVENTS_FD, True)
        view = memoryview(line)
        while view:
            view = view[os.write(_report.EVENTS_FD, view) :]
    except OSError as error:
        print(f"the result manifest could not be sent: {error}", file=sys.stderr, flush=True)


class _Relay(threading.Thread):
    """The student's `report()` lines, from the agent's pipe to the grader's: each parsed and rebuilt
    by the kit (metric names and numbers checked), anything else dropped. The instruments' summaries
    (`exercises.kit.instruments`) are rebuilt by `instruments.clean`; only the latest counts, so at most
    one goes on every `INSTRUMENTS_EVERY_SECONDS`, and the last one when the relay ends."""

    INSTRUMENTS_EVERY_SECONDS = 0.5

    def __init__(self, fd: int) -> None:
        super().__init__(name="metrics-relay", daemon=True)
        self.fd = fd
        self.wake_read, self.wake_write = os.pipe()
        self.instruments: dict[str, Any] | None = None
        self.instruments_sent = 0.0

    def run(self) -> None:
        pending = b""
        try:
            while True:
                ready, _, _ = select.select([self.fd, self.wake_read], [], [])
                chunk = os.read(self.fd, 65536) if self.fd in ready else b""
                pending += chunk
                *lines, pending = pending.split(b"\n")
                pending = pending[-_report.MAX_LINE_BYTES :]
                for line in lines:
                    summary = _relay_line(line)
                    if summary is not None:
                        self.instruments = summary
                if not chunk or self.wake_read in ready:
                    return  # the pipe closed, or stopped: what was already waiting went out
                self._send_instruments(final=False)
        except OSError:
            return
        finally:
            self._send_instruments(final=True)

    def _send_instruments(self, *, final: bool) -> None:
        now = time.monotonic()
        if self.instruments is None or (
            not final and now - self.instruments_sent < self.INSTRUMENTS_EVERY_SECONDS
        ):
            return
        line = _instruments.summary_line(self.instruments)
        self.instruments, self.instruments_sent = None, now
        _report._channel.send(line, always=True)

    def stop(self) -> None:
        os.write(self.wake_write, b"x")
        self.join(timeout=1.0)
        for fd in (self.fd, self.wake_read, self.wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)


def _relay_line(line: bytes) -> dict[str, Any] | None:
    """Relay one line of the agent's; an instruments summary is returned (cleaned) instead, for the
    relay to send when its turn comes."""
    if len(line) > _report.MAX_LINE_BYTES:
        return None
    try:
        event = json.loads(line, parse_constant=boundary._refuse_constant)
        if isinstance(event, dict) and isinstance(event.get("metrics"), dict):
            metrics = {str(name): value for name, value in event["metrics"].items()}
            if all(isinstance(value, int | float | str) for value in metrics.values()):
                metrics = {
                    name: float(value) if isinstance(value, str) else value for name, value in metrics.items()
                }
                _report._channel.send(_report.event_line(event.get("step"), **metrics))
        elif isinstance(event, dict) and isinstance(event.get("resources"), dict):
            peak = event["resources"].get("peak_gpu_memory_mb")
            if isinstance(peak, int | float):
                _report.send_resources(peak_gpu_memory_mb=peak)
        elif isinstance(event, dict) and _instruments.SUMMARY_KEY in event:
            return _instruments.clean(event[_instruments.SUMMARY_KEY])
    except Exception:  # RecursionError, a bad name or number: the student's line, dropped
        return None
    return None


def is_boundary_probe(module: ModuleType) -> bool:
    return callable(getattr(module, "driver", None))


def run_boundary(work: Path, out: Path, mode: str, device: str, module: ModuleType) -> int:
    """Fork the agent, run the trial's `driver(ctx)`, write out/ and send the manifest (module doc).
    Returns 0, or 1 when the driver itself failed (an internal error, never the student's), or 128 +
    the signal that ended the agent when the runner reads that signal as a verdict (`PASSED_ON_SIGNALS`)."""
    from exercises.kit.agent import guard_driver, run_agent

    _prepare_out(out)
    _set_dumpable(0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        os.fstat(_report.EVENTS_FD)
    except OSError:  # no event pipe (a test, a laptop): hold fd 3 so that no socket below lands there
        os.dup2(os.open(os.devnull, os.O_WRONLY), _report.EVENTS_FD)
    driver_end, agent_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    relay_read, relay_write = os.pipe()
    driver_pid = os.getpid()
    agent = os.fork()
    if agent == 0:
        try:
            os.setsid()
            driver_end.close()
            os.close(relay_read)
            os.dup2(relay_write, _report.EVENTS_FD)
            os.close(relay_write)
            _set_dumpable(1)
            guard_driver(driver_pid)
        except BaseException as error:
            os.write(2, f"the agent could not start: {error!r}\n".encode())
            os._exit(70)
        run_agent(agent_end, work)
    agent_end.close()
    os.close(relay_write)
    relay = _Relay(relay_read)
    relay.start()
    context = DriverContext(work=work, out=out, mode=mode, device=device, sock=driver_end, agent=agent)
    status = 0
    try:
        module.driver(context)
    except SolutionFailed:
        pass
    except (Exception, SystemExit) as error:
        text = "".join(traceback.format_exception(error))[-MAX_TRACEBACK_CHARS:]
        context._record_error(PROBE_ERROR, text)
        print(f"internal error in the trial's driver:\n{text}", file=sys.stderr, end="", flush=True)
        status = 1
    finally:
        context.stop_agent()
        end_descendants()
        relay.stop()
        context._finish()
    if context.agent_signal in PASSED_ON_SIGNALS:
        return 128 + int(context.agent_signal)
    return status
