"""The warm sandbox pool, host side: a zygote per grader slot that already imported torch, and warm runs.

A zygote is started by the cold launch chain (its own cgroups, prlimit, setpriv to huashen-sandbox, an
empty environment, bwrap) with the job policy's mounts and environment, plus CAP_SYS_ADMIN,
CAP_NET_ADMIN and CAP_SETPCAP inside its own user namespace and no seccomp filter (it needs them to
give each run its own namespaces; `zygote.py` explains the inside). It runs no student code itself.
Its sandbox and configuration are `policy.zygote_policy`; what each run applies to itself is
`policy.warm_run_spec` of the job's own policy, the one a cold run renders to bwrap's arguments.

A warm run (`WarmPool.run`), inside the same `run_confined` as a cold run (the job's cgroups, usage,
the kill of the whole tree), charged for what `import torch` took in the zygote (the zygote's pages are
the pool cgroup's; a cold job pays for its own import), so one program gets the same memory verdict on
both paths:

1. the run's stdout, stderr and event pipes and a run socket go to the zygote (SCM_RIGHTS), which hands
   them to its spare run, forked ahead: C in new mount/PID/network/IPC/UTS namespaces, G its pid 1 and
   H (the job, pid 2), which says "ready";
2. the kernel tells us H's host pid (SCM_CREDENTIALS); we check it descends from the zygote and is the
   sandbox account's, put it in the job's cgroups (H runs the job, so all of it is there), and mount the job's work dir (the host tmpfs, `nosuid,nodev,
   noexec`) at /work in C's mount namespace (open_tree + setns + move_mount, from a forked helper);
3. "go": H confines itself (fresh /tmp and /dev/shm, rlimits, all capabilities dropped, no_new_privs,
   the cold path's seccomp filter, the clean environment, reseeded RNGs) and runs the harness; the
   runner's `watch` reads the output as for a cold run. C reports G's wait status.

Anything wrong before "go" (a dead zygote, a pid that is not what it should be, a cgroup or mount that
fails) raises `WarmUnavailable`: nothing of the student's ran, the zygote is replaced, and the grader
runs the job cold. A zygote that exits or misbehaves is replaced; every zygote is recycled after
`RECYCLE_AFTER` runs.
"""

import array
import atexit
import contextlib
import ctypes
import dataclasses
import json
import logging
import os
import shutil
import signal
import socket
import struct
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from workers import env
from workers.protocol import Limits
from workers.sandbox import cgroups
from workers.sandbox.policy import (
    SANDBOX_USER,
    WORK,
    ZYGOTE_CAPS,
    ZYGOTE_DIR,
    ZYGOTE_LIMITS,
    CgroupLimits,
    SandboxPolicy,
    warm_run_spec,
    zygote_policy,
)
from workers.sandbox.runner import (
    EVENTS_FD,
    JOIN_CGROUPS,
    SandboxOutcome,
    is_root,
    job_name,
    launch_chain,
    launcher_env,
    run_confined,
    sandbox_account,
    watch,
)
from workers.sandbox.seccomp import write_filter
from workers.sandbox.warm.linux import (
    AT_FDCWD,
    CLONE_NEWNS,
    MOVE_MOUNT_F_EMPTY_PATH,
    OPEN_TREE_CLOEXEC,
    OPEN_TREE_CLONE,
    SYS_MOVE_MOUNT,
    SYS_OPEN_TREE,
    libc,
)

logger = logging.getLogger(__name__)

ENV_FLAG = "HUASHEN_WARM_POOL"
CONTROL_FD = 4
ZYGOTE_CONFIG = "policy.json"  # in ZYGOTE_DIR: `policy.zygote_config`, read by zygote.py
START_TIMEOUT_SECONDS = 90.0
READY_TIMEOUT_SECONDS = 10.0
RECYCLE_AFTER = 200
# A warm run's memory limit is the trial's less what the zygote preloaded (a cold job pays for its own
# `import torch`); below this much room left for the job itself, the job runs cold instead.
MIN_WARM_JOB_MEMORY_MB = 64
REGISTRY_PREFIX = "huashen-zygotes-"  # $TMPDIR/huashen-zygotes-<grader pid>.json: the zygotes' host pids
DIR_PREFIX = "huashen-zygote-p"  # $TMPDIR/huashen-zygote-p<grader pid>-*: a zygote's files
POOL_CGROUP_MARK = "/job-zygote-"  # in a process's cgroup path: the pool's own (zygote, spare runs)

# Resolved now, not in the forked helper of `_mount_work` (a symbol lookup there could wait forever on a
# loader lock another thread of the grader held at fork time).
_setns, _syscall = libc.setns, libc.syscall


class WarmUnavailable(RuntimeError):
    """The warm path cannot take this run; nothing of the job ran. The caller runs it cold."""


def warm_requested() -> bool:
    """The grader setting: HUASHEN_WARM_POOL=0 turns the warm path off (default on)."""
    return env.warm_pool_requested()


def warm_possible() -> str | None:
    """None when this process can run a warm pool; otherwise why not."""
    if not is_root():
        return "the warm pool needs a root grader (it confines runs with cgroups and mounts work dirs)"
    if sandbox_account() is None:
        return f"the {SANDBOX_USER} account is missing"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed"
    return cgroups.available()


@dataclasses.dataclass(frozen=True)
class PoolSetup:
    """What every run of the pool shares with the cold path's policy (a job's `inherited` must match)."""

    lib_dir: Path
    torch_home: Path | None
    devices: tuple[str, ...]
    threads: int


class Zygote:
    """One zygote process tree: bwrap (as huashen-sandbox) → bwrap's init → python zygote.py."""

    def __init__(self, setup: PoolSetup) -> None:
        self.setup = setup
        self.name = job_name("zygote")
        self.dir = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-"))
        confine = CgroupLimits.for_limits(ZYGOTE_LIMITS)
        self.cgroup = cgroups.JobCgroup(self.name, memory_bytes=confine.memory_bytes, pids=confine.pids)
        self.control: socket.socket | None = None
        self.chain_pid = 0
        self.pid = 0  # the zygote's python, a host pid
        self.pids: list[int] = []
        self.runs = 0
        self.preloaded_bytes = 0  # what `import torch` took in the zygote: charged to each run
        self.policy, self.config = zygote_policy(
            lib_dir=setup.lib_dir, torch_home=setup.torch_home, devices=setup.devices, threads=setup.threads,
            files=self.dir,
        )  # fmt: skip
        self.broken = False
        self.lock = threading.Lock()

    # --- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        for name in ("zygote.py", "linux.py"):  # the zygote imports the Linux constants from beside it
            shutil.copy(Path(__file__).with_name(name), self.dir / name)
        with (self.dir / "seccomp.bpf").open("wb") as target:
            write_filter(target)  # the very filter the cold path hands to bwrap
        for path in (self.dir, *self.dir.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)
        # Its environment goes in this file, not on bwrap's command line (`zygote_policy`).
        (self.dir / ZYGOTE_CONFIG).write_text(json.dumps(self.config))
        (self.dir / ZYGOTE_CONFIG).chmod(0o644)
        argv = launch_chain(self.policy, ZYGOTE_LIMITS, drop_to=SANDBOX_USER)
        self.cgroup.__enter__()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        env = launcher_env(self.cgroup)
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, 2, 2),
            (os.POSIX_SPAWN_DUP2, theirs.fileno(), CONTROL_FD),
        ]
        try:
            self.chain_pid = os.posix_spawnp(
                "sh", ["sh", "-c", JOIN_CGROUPS, "sh", *argv], env, file_actions=actions, setsid=True
            )
        finally:
            theirs.close()
        self.control = ours
        ready, pid = _receive_json(ours, timeout=START_TIMEOUT_SECONDS)
        if ready.get("zygote") != "ready" or not pid:
            raise WarmUnavailable(f"the zygote did not start: {ready!r}")
        preloaded = ready.get("preloaded")
        if not isinstance(preloaded, int) or not 0 < preloaded < ZYGOTE_LIMITS.memory_mb * 2**20:
            raise WarmUnavailable(f"the zygote did not say what it preloaded: {ready!r}")
        self.preloaded_bytes = preloaded
        self.pid = pid
        self.pids = _ancestry(pid, self.chain_pid)  # bwrap, bwrap's init, the zygote
        if not self.pids or _uid_of(self.pid) != _sandbox_uid():
            raise WarmUnavailable("the zygote is not the sandbox account's child of its launch chain")
        _register(self)

    def alive(self) -> bool:
        if self.broken or not self.chain_pid:
            return False
        with contextlib.suppress(ChildProcessError):
            waited, _status = os.waitpid(self.chain_pid, os.WNOHANG)
            if not waited:
                return True
        return False

    def stop(self) -> None:
        self.broken = True
        if self.control is not None:
            self.control.close()  # the zygote exits on EOF
        self.cgroup.kill_all(timeout=5)
        if self.chain_pid:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.chain_pid, 0)
        self.cgroup.remove()
        _unregister(self)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- one run -------------------------------------------------------------------------------------
    def launch(
        self,
        policy: SandboxPolicy,
        limits: Limits,
        cgroup: cgroups.JobCgroup | None,
        on_output: Callable[[str, str], None],
        on_event: Callable[[dict[str, object]], None],
    ) -> SandboxOutcome:
        """Start one run in `cgroup` and watch it. Raises WarmUnavailable before anything ran."""
        if cgroup is None:
            raise WarmUnavailable("a warm run is always confined by cgroups")
        if self.control is None or not self.alive():
            raise WarmUnavailable("the zygote is not running")
        if policy.work_dir is None:
            raise WarmUnavailable("a warm run needs a work dir")
        request = warm_run_spec(policy, limits)  # the job's own policy, as its run applies it (zygote.py)
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        events_r, events_w = os.pipe()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        child = 0
        started = False
        try:
            fds = [stdout_w, stderr_w, events_w, theirs.fileno()]
            try:
                self.control.sendmsg(
                    [json.dumps(request).encode()],
                    [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())],
                )
            except OSError as error:
                raise WarmUnavailable(f"the zygote does not take requests: {error}") from error
            finally:
                for fd in (stdout_w, stderr_w, events_w):
                    os.close(fd)
                theirs.close()
            message, child = _receive_json(ours, timeout=READY_TIMEOUT_SECONDS)
            if message.get("ready") is not True or not child:
                raise WarmUnavailable(f"the run did not start: {message!r}")
            # H (the job) → G (its init) → C (the run's keeper) → the zygote, all the sandbox account's.
            if _parent_of(_parent_of(_parent_of(child))) != self.pid or _uid_of(child) != _sandbox_uid():
                raise WarmUnavailable(f"pid {child} is not a run of this zygote")
            for procs in cgroup.procs_files():
                Path(procs).write_text(str(child))
            _mount_work(child, policy.work_dir, WORK)
            ours.send(b'{"go": true}')
            started = True
            self.runs += 1
            return watch(_WarmProcess(ours, child), stdout_r, stderr_r, events_r, limits, on_output,
                         on_event, cgroup)  # fmt: skip
        except WarmUnavailable:
            self.broken = True  # whatever went wrong, this zygote is not trusted with another run
            raise
        except OSError as error:
            self.broken = True
            if started:
                raise
            raise WarmUnavailable(f"the warm run could not be set up: {error}") from error
        finally:
            if not started:
                if child:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)
                for fd in (stdout_r, stderr_r, events_r):
                    with contextlib.suppress(OSError):
                        os.close(fd)
            ours.close()


class _WarmProcess:
    """A warm run as `watch` sees it: C reports its run's wait status on the run socket; H is `pid`."""

    def __init__(self, run_socket: socket.socket, pid: int) -> None:
        self.socket = run_socket
        self.pid = pid
        self.status: int | None = None

    def poll(self) -> int | None:
        if self.status is None:
            try:
                message = self.socket.recv(4096, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return None
            except OSError:
                message = b""
            self.status = _status_from(message)
        return self.status

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        if self.status is None:
            self.socket.settimeout(10)
            try:
                message = self.socket.recv(4096)
            except OSError:
                message = b""
            self.status = _status_from(message)
        return self.status


def _status_from(message: bytes) -> int:
    """C's report of its run's wait status; no report (C was killed) reads as killed by SIGKILL."""
    try:
        status = json.loads(message).get("exit") if message else None
    except ValueError:
        status = None
    return status if isinstance(status, int) and 0 <= status < 65536 else signal.SIGKILL


def _receive_json(sock: socket.socket, *, timeout: float) -> tuple[dict, int]:
    """One message and the sender's host pid (from SCM_CREDENTIALS, which the kernel fills in)."""
    sock.settimeout(timeout)
    try:
        data, ancillary, _flags, _address = sock.recvmsg(65536, socket.CMSG_SPACE(12))
    except (OSError, TimeoutError) as error:
        raise WarmUnavailable(f"no answer from the zygote: {error}") from error
    finally:
        sock.settimeout(None)
    pid = 0
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(payload) >= 12:
            pid = struct.unpack("iII", payload[:12])[0]
    try:
        message = json.loads(data) if data else {}
    except ValueError:
        message = {}
    return (message if isinstance(message, dict) else {}), pid


def _mount_work(pid: int, work: Path, target: str) -> None:
    """Mount the host's `work` at `target` in process `pid`'s mount namespace, from a forked helper
    (setns needs a single-threaded process): a clone of the host mount, so its nosuid,nodev,noexec stay."""
    target_path = target.encode()
    tree = _syscall(SYS_OPEN_TREE, AT_FDCWD, str(work).encode(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)
    if tree < 0:
        raise WarmUnavailable(f"open_tree {work}: {os.strerror(ctypes.get_errno())}")
    try:
        namespace = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as error:
        os.close(tree)
        raise WarmUnavailable(f"the run's mount namespace: {error}") from error
    helper = os.fork()
    if helper == 0:
        code = 1
        try:
            if _setns(namespace, CLONE_NEWNS) == 0 and (
                _syscall(SYS_MOVE_MOUNT, tree, b"", AT_FDCWD, target_path, MOVE_MOUNT_F_EMPTY_PATH) == 0
            ):
                code = 0
        finally:
            os._exit(code)
    os.close(tree)
    os.close(namespace)
    _pid, status = os.waitpid(helper, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise WarmUnavailable("cannot mount the work dir in the run's namespace")


def _status_fields(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {key: value.strip() for key, _, value in (line.partition(":") for line in text.splitlines())}


def _parent_of(pid: int) -> int:
    value = _status_fields(pid).get("PPid", "0")
    return int(value) if value.isdigit() else 0


def _uid_of(pid: int) -> int:
    fields = _status_fields(pid).get("Uid", "").split()
    return int(fields[0]) if fields and fields[0].isdigit() else -1


def _sandbox_uid() -> int:
    account = sandbox_account()
    return account.pw_uid if account else -2


def _ancestry(pid: int, root: int) -> list[int]:
    """[root, ..., pid] when `pid` descends from `root`, else []."""
    chain = [pid]
    while chain[-1] != root:
        parent = _parent_of(chain[-1])
        if parent <= 1 or len(chain) > 8:
            return []
        chain.append(parent)
    return chain[::-1]


_REGISTRY_LOCK = threading.Lock()
_REGISTERED: dict[str, list[int]] = {}


def registry_path() -> Path:
    return Path(tempfile.gettempdir()) / f"{REGISTRY_PREFIX}{os.getpid()}.json"


def _write_registry() -> None:
    path = registry_path()
    pids = sorted({pid for pids in _REGISTERED.values() for pid in pids})
    if pids:
        path.write_text(json.dumps(pids))
    else:
        path.unlink(missing_ok=True)


def _register(zygote: Zygote) -> None:
    """Publish the zygotes' host pids (operators and the security suite tell them from jobs by it)."""
    with _REGISTRY_LOCK:
        if not _LIVE:
            atexit.register(_stop_all)
        _LIVE[zygote.name] = zygote
        _REGISTERED[zygote.name] = zygote.pids
        _write_registry()


_LIVE: dict[str, Zygote] = {}


def _stop_all() -> None:
    """At exit: this process's zygotes go with it (a process killed outright leaves its cgroups, files
    and registry to `reclaim_stale_zygotes`, which the worker runs at start)."""
    for zygote in list(_LIVE.values()):
        with contextlib.suppress(Exception):
            zygote.stop()


def reclaim_stale_zygotes() -> list[str]:
    """Remove the zygote files and registries of grader processes that died (their cgroups are named
    like jobs and reclaimed with them). Returns what was removed."""
    removed = []
    base = Path(tempfile.gettempdir())
    for path in [*base.glob(f"{REGISTRY_PREFIX}*.json"), *base.glob(f"{DIR_PREFIX}*")]:
        digits = path.name.removeprefix(REGISTRY_PREFIX).removeprefix(DIR_PREFIX).split("-")[0].split(".")[0]
        if digits.isdigit() and not Path(f"/proc/{digits}").exists():
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def _unregister(zygote: Zygote) -> None:
    with _REGISTRY_LOCK:
        _LIVE.pop(zygote.name, None)
        _REGISTERED.pop(zygote.name, None)
        _write_registry()


class WarmPool:
    """A grader slot's warm pool: one zygote, replaced in the background when it dies or is recycled.

    `launcher()` returns the zygote to run with, or None while there is none ready (the caller runs
    cold). The first zygote must pass the warm self-test before any job runs warm.
    """

    def __init__(
        self, setup: PoolSetup, *, self_test: Callable[["WarmPool"], list[str]] | None = None
    ) -> None:
        self.setup = setup
        self.zygote: Zygote | None = None
        self.problems: list[str] = []
        self.verified = self_test is None
        self._self_test = self_test
        self._wanted = threading.Condition()
        self._pending = 0  # replacements asked for and not yet done
        self._done = 0
        self._thread: threading.Thread | None = None
        self.replaced = 0

    def start(self, *, wait: bool = False) -> None:
        """Ask for a (new) zygote. They are spawned by one long-lived thread: bwrap's --die-with-parent
        follows the *thread* that started it, so a short-lived starter thread would take the zygote
        down with it."""
        with self._wanted:
            if self._thread is None:
                self._thread = threading.Thread(target=self._keeper, name="warm-pool", daemon=True)
                self._thread.start()
            if self._pending == 0:
                self._pending = 1
                self._wanted.notify_all()
            target = self._done + 1
            if wait:
                self._wanted.wait_for(lambda: self._done >= target, timeout=START_TIMEOUT_SECONDS * 2)

    def _keeper(self) -> None:
        while True:
            with self._wanted:
                self._wanted.wait_for(lambda: self._pending > 0)
            try:
                self._replace()
            except Exception:
                logger.exception("the warm pool could not replace its zygote")
            with self._wanted:
                self._pending = 0
                self._done += 1
                self._wanted.notify_all()

    def _replace(self) -> None:
        old, self.zygote = self.zygote, None
        if old is not None:
            old.stop()
            self.replaced += 1
        zygote = Zygote(self.setup)
        try:
            zygote.start()
        except (WarmUnavailable, OSError, cgroups.CgroupError) as error:
            logger.error("the warm sandbox did not start; grading runs cold: %s", error)
            self.problems = [str(error)]
            zygote.stop()
            return
        self.zygote = zygote
        if not self.verified and self._self_test is not None:
            problems = self._self_test(self)
            if problems:
                logger.error("the warm sandbox failed its self-test; grading runs cold: %s", problems)
                self.problems = problems
                self.zygote = None
                zygote.stop()
                self._self_test = None  # fail closed for good: this pool never runs warm
                return
            self.verified = True
            logger.info("the warm sandbox passed its self-test")

    def ready(self) -> Zygote | None:
        """The zygote to run with now, or None (starting one in the background when needed)."""
        zygote = self.zygote
        if zygote is not None and zygote.alive() and zygote.runs < RECYCLE_AFTER and self.verified:
            return zygote
        if self.verified or self._self_test is not None:
            self.start()
        return None

    def run(
        self,
        policy: SandboxPolicy,
        limits: Limits,
        *,
        job_name: str,
        on_output: Callable[[str, str], None],
        on_event: Callable[[dict[str, object]], None],
        zygote: Zygote | None = None,
    ) -> SandboxOutcome:
        """One warm run, confined like a cold one. Raises WarmUnavailable when it could not start (the
        caller runs the job cold); a zygote that failed is replaced in the background."""
        zygote = zygote or self.ready()
        if zygote is None:
            raise WarmUnavailable("no warm zygote is ready")
        if policy.inherited() != zygote.policy.inherited():
            raise WarmUnavailable("this job's mounts differ from the pool's")
        if limits.memory_mb * 2**20 - zygote.preloaded_bytes < MIN_WARM_JOB_MEMORY_MB * 2**20:
            raise WarmUnavailable(
                f"a {limits.memory_mb} MB limit leaves no room beside the preloaded "
                f"{zygote.preloaded_bytes >> 20} MB of torch"
            )
        with zygote.lock:
            try:
                # Charged like a cold job that imported torch itself: the limit means the same.
                return run_confined(
                    limits,
                    job_name=job_name,
                    require_cgroups=True,
                    launch=lambda cgroup: zygote.launch(policy, limits, cgroup, on_output, on_event),
                    preloaded_bytes=zygote.preloaded_bytes,
                )
            finally:
                if zygote.broken or not zygote.alive():
                    logger.warning("replacing the warm sandbox %s", zygote.name)
                    zygote.broken = True
                    self.start()

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.stop()
            self.zygote = None


__all__ = [
    "EVENTS_FD",
    "ZYGOTE_CAPS",
    "ZYGOTE_DIR",
    "PoolSetup",
    "WarmPool",
    "WarmUnavailable",
    "Zygote",
    "warm_possible",
    "warm_requested",
]
