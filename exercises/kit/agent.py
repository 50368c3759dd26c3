"""The agent: the student's process on a boundary trial. It answers the driver's calls and nothing else.

`exercises.kit.driver.run_boundary` forks this process before any student code exists. Here, in order:
its own session; fd 3 becomes a pipe to the driver (the student's `report()` lines are relayed from
there); a seccomp filter of its own on top of the sandbox's, so that neither this process nor anything
it forks can signal, re-limit or take a pidfd of the driver; then it serves frames from the driver
(`exercises.kit.boundary`) until told to stop:

    {"op": "load"}                                   import /work/solution.py as `solution`
    {"op": "reload"}                                 run it again (e.g. inside a simulated CUDA world)
    {"op": "call", "function": name, "args", "kwargs"}   solution.<name>(*args, **kwargs)
    {"op": "run", "routine": name, "args", "kwargs"}     probe.<name>(solution, *args, **kwargs): an
                                                     agent-side routine of the trial (names start
                                                     with `agent_`), for what only this process can see
    {"op": "world", "cuda": true | false | null}     enter (or leave, null) a simulated CUDA world
    {"op": "exit"}

Before its first frame it installs the kit's instruments (`exercises.kit.instruments`: gradient norms
per layer, data wait against the loop, the largest tensors at a memory peak), whose summary goes out on
fd 3 before each reply; they only ever explain.

Replies: `{"ok": true, "value": tree, "facts": {...}}` or `{"ok": false, "traceback": text,
"gpu_oom": bool}`. Everything this process sends is the student's to forge, and the driver treats it
so: a reply is only ever "what the student's process answered", never a verdict.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import os
import socket
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from exercises.kit import boundary
from exercises.kit.messages import both
from exercises.kit.probe import SOLUTION_MODULE, SolutionFailed, _is_gpu_oom, trim_traceback

AGENT_ROUTINE_PREFIX = "agent_"
# Calls that could reach the driver process by pid. The driver's pid is the agent's parent's.
_SIGNAL_CALLS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "prlimit64")


def guard_driver(driver: int) -> None:
    """A seccomp filter for this process and its descendants: no signal, no pidfd and no rlimit change
    can reach `driver` (nor its process group, nor every process at once with kill(-1)). The sandbox's
    own filter already kills ptrace and process_vm_readv/writev; the driver is not dumpable, so /proc
    gives nothing of it either."""
    import pyseccomp as seccomp

    policy = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    denied = seccomp.ERRNO(errno.EPERM)
    low = 0xFFFFFFFF  # pid_t is 32 bits: compare only the low half of the register

    def pid_is(value: int) -> Any:
        return seccomp.Arg(0, seccomp.MASKED_EQ, low, value & low)

    for call in _SIGNAL_CALLS:
        policy.add_rule(denied, call, pid_is(driver))
    for target in (-driver, -1):  # its process group; everyone this uid may signal
        for call in ("kill", "rt_sigqueueinfo"):
            policy.add_rule(denied, call, pid_is(target))
    policy.add_rule(denied, "tkill")  # by thread id: the driver's threads have ids we cannot list
    policy.load()


class Agent:
    def __init__(self, sock: socket.socket, work: Path) -> None:
        self.sock = sock
        self.work = work
        self.solution_path = str(work / "solution.py")
        self.solution: ModuleType | None = None
        self.probe: ModuleType | None = None
        self.world: contextlib.ExitStack | None = None
        self.recorder: Any = None
        self.instruments: Any = None

    # -- the student's module -----------------------------------------------------------------------

    def _execute(self) -> ModuleType:
        spec = importlib.util.spec_from_file_location(SOLUTION_MODULE, self.solution_path)
        if spec is None or spec.loader is None:
            raise SolutionFailed(both("cannot_load"))
        module = importlib.util.module_from_spec(spec)
        previous = sys.modules.get(SOLUTION_MODULE)
        sys.modules[SOLUTION_MODULE] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            if previous is None:
                sys.modules.pop(SOLUTION_MODULE, None)
            else:
                sys.modules[SOLUTION_MODULE] = previous
            raise
        return module

    def _probe_module(self) -> ModuleType:
        if self.probe is None:
            self.probe = sys.modules["huashen_probe"]
        return self.probe

    # -- facts the driver cannot see for itself -------------------------------------------------------

    def tensor_facts(self, tensor: Any) -> dict[str, Any]:
        if self.recorder is None:
            return {}
        return {"on_cuda": bool(self.recorder.on_cuda(tensor))}

    # -- serving --------------------------------------------------------------------------------------

    def reply(self, header: dict[str, Any], body: bytes = b"") -> None:
        if self.instruments is not None:  # before the answer: the driver may stop this process after it
            self.instruments.flush()
        boundary.send_frame(self.sock, header, body)

    def failure(self, error: BaseException) -> None:
        text = trim_traceback(error, self.solution_path)
        print(text, file=sys.stderr, end="", flush=True)
        self.reply({"ok": False, "traceback": text, "gpu_oom": _is_gpu_oom(error)})

    def serve(self) -> None:
        while True:
            try:
                header, body = boundary.receive_frame(self.sock)
            except (boundary.Closed, OSError):
                return
            op = header.get("op")
            if op == "exit":
                return
            try:
                self.handle(op, header, body)
            except (boundary.Malformed, OSError):
                return

    def handle(self, op: Any, header: dict[str, Any], body: bytes) -> None:
        if op in ("load", "reload"):
            if op == "load" and self.solution is not None:
                self.reply({"ok": True, "value": None})
                return
            try:
                self.solution = self._execute()
            except (Exception, SystemExit) as error:
                self.failure(error)
                return
            self.reply({"ok": True, "value": None})
        elif op == "world":
            if self.world is not None:
                self.world.close()
                self.world, self.recorder = None, None
            if header.get("cuda") is not None:
                from exercises.kit.devices import simulate_cuda

                self.world = contextlib.ExitStack()
                self.recorder = self.world.enter_context(simulate_cuda(bool(header["cuda"])))
            self.reply({"ok": True, "value": None})
        elif op in ("call", "run"):
            arguments, _decoder = boundary.decode(header.get("args", []), body)
            kwargs, _decoder = boundary.decode(header.get("kwargs", {}), body)
            name = header.get("function") if op == "call" else header.get("routine")
            if not isinstance(name, str) or not isinstance(arguments, list) or not isinstance(kwargs, dict):
                raise boundary.Malformed("bad call")
            if op == "call":
                target = getattr(self.solution, name, None) if self.solution is not None else None
                if not callable(target):
                    message = both("no_function", name=name) + "\n"
                    print(message, file=sys.stderr, end="", flush=True)
                    self.reply({"ok": False, "traceback": message, "gpu_oom": False})
                    return
                call_args = arguments
            else:
                if not name.startswith(AGENT_ROUTINE_PREFIX):
                    raise boundary.Malformed("not an agent routine")
                target = getattr(self._probe_module(), name)
                call_args = [self.solution, *arguments]
            before = len(self.recorder.requests) if self.recorder is not None else 0
            try:
                result = target(*call_args, **kwargs)
            except (Exception, SystemExit) as error:
                self.failure(error)
                return
            facts: dict[str, Any] = {}
            if self.recorder is not None:
                facts["cuda_requested"] = bool(self.recorder.cuda_requested(before))
            tree, out_body = boundary.encode(result, self.tensor_facts)
            self.reply({"ok": True, "value": tree, "facts": facts}, out_body)
        else:
            raise boundary.Malformed(f"unknown operation {op!r}")


def run_agent(sock: socket.socket, work: Path) -> None:
    """The agent's whole life (after the fork). Never returns."""
    status = 0
    try:
        agent = Agent(sock, work)
        if "torch" in sys.modules:  # the probe imported it; a trial without torch has nothing to measure
            from exercises.kit.instruments import Instruments

            with contextlib.suppress(Exception):
                agent.instruments = Instruments().install()
        agent.serve()
    except BaseException as error:  # ours, not the student's: the driver sees the socket close
        print(f"the agent stopped: {error!r}", file=sys.stderr, flush=True)
        status = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    os._exit(status)
