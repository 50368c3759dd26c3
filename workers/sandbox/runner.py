"""Run one command in the sandbox and report what happened, with the whole process tree dead after.

Privilege model (DESIGN.md): a root runner creates the job's cgroups and its work dir (a size-capped
`nosuid,nodev,noexec` tmpfs on the host, read back after the tree is dead), then the launch chain drops
to the unprivileged `huashen-sandbox` account and execs bwrap from an empty environment:

    sh (joins the job's cgroups) → prlimit (CPU, file size, open files, no core) →
    setpriv (huashen-sandbox, no groups, no capabilities, no_new_privs) → env -i → bwrap → python

bwrap is never launched as host root: with `--unshare-user --uid 65534` a root launcher maps the sandbox
to host uid 0 (ENVIRONMENT.md). A non-root runner (a developer's machine) skips the cgroups and setpriv;
isolation is the same, limits are rlimit-only, and it says so loudly.

Output is read as it comes (stdout, stderr, and the harness's event pipe on fd 3), capped, and passed to
callbacks; at the cap or the wall-clock limit the job is killed.
"""

import codecs
import dataclasses
import json
import logging
import os
import pwd
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from workers import env
from workers.protocol import Limits
from workers.sandbox import cgroups
from workers.sandbox.policy import (
    SANDBOX_USER,
    CgroupLimits,
    Rlimits,
    SandboxPolicy,
    bwrap_argv,
    prlimit_args,
)
from workers.sandbox.seccomp import write_filter

logger = logging.getLogger(__name__)

EVENTS_FD = 3  # inside the sandbox: the harness's metric/event pipe
SECCOMP_FD = 10
EVENT_BYTES_CAP = 4 * 1024 * 1024
# Signals a process gets from its own fault (a native crash), never from the runner or a limit.
CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE)
JOIN_CGROUPS = 'for f in $HUASHEN_CGROUP_PROCS; do echo $$ > "$f" || exit 125; done; exec "$@"'


@dataclass
class SandboxOutcome:
    exit_code: int | None  # the command's exit status, None when killed by the runner
    wall_seconds: float
    cpu_seconds: float
    peak_memory_mb: float
    timed_out: bool = False  # wall clock
    cpu_exceeded: bool = False
    memory_exceeded: bool = False
    output_exceeded: bool = False
    violation: bool = False  # killed by the seccomp filter
    pids_exceeded: bool = False  # a fork or thread was refused at the pids limit
    crash_signal: str = ""  # killed by a fault of its own (SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE)
    tree_dead: bool = True
    confined: bool = False  # cgroups were in force
    launch_error: str = ""  # the sandbox itself failed to start (ours, not the student's)

    @property
    def signal(self) -> int | None:
        code = self.exit_code
        return code - 128 if code is not None and code > 128 else None


def is_root() -> bool:
    return os.geteuid() == 0


def sandbox_account() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(SANDBOX_USER)
    except KeyError:
        return None


def jobs_base() -> Path:
    if is_root():
        return env.jobs_dir()
    return Path(tempfile.gettempdir()) / f"huashen-jobs-{os.getuid()}"


def job_name(label: str) -> str:
    """A unique job name that records the grader process owning it, so leftovers can be reclaimed."""
    return f"job-{label}-p{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _owner_alive(name: str) -> bool:
    match = re.search(r"-p(\d+)-[0-9a-f]{8}$", name)
    if match is None:
        return True  # not ours to judge
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reclaim_stale_jobs() -> list[str]:
    """Remove the work dirs and cgroups of jobs whose grader process died (a killed pool process never
    reaches its cleanup). Run at worker start; returns the names reclaimed."""
    reclaimed = []
    base = jobs_base()
    if base.is_dir():
        for path in base.iterdir():
            if path.name.startswith("job-") and not _owner_alive(path.name):
                subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
                shutil.rmtree(path, ignore_errors=True)
                reclaimed.append(path.name)
    for name in cgroups.stale_job_groups():
        if not _owner_alive(name):
            cgroups.remove_job_group(name)
            reclaimed.append(f"cgroup {name}")
    return reclaimed


@contextmanager
def job_dir(name: str, *, size_mb: int) -> Iterator[Path]:
    """The job's work dir on the host: a size-capped tmpfs (root) or a private temp dir (non-root).

    Mounted `nosuid,nodev,noexec`: nothing the job leaves there can gain privileges or be executed when
    the host reads it back. Unmounted and removed on exit, whatever happened.
    """
    base = jobs_base()
    base.mkdir(parents=True, exist_ok=True, mode=0o711)
    path = base / name
    path.mkdir(mode=0o700)
    mounted = False
    try:
        if is_root():
            subprocess.run(
                [
                    "mount",
                    "-t",
                    "tmpfs",
                    "-o",
                    f"size={size_mb}m,nosuid,nodev,noexec,mode=1777",
                    "tmpfs",
                    str(path),
                ],
                check=True,
                capture_output=True,
            )
            mounted = True
        else:
            path.chmod(0o1777)
        yield path
    finally:
        if mounted:
            result = subprocess.run(["umount", str(path)], capture_output=True, check=False)
            if result.returncode != 0:
                subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
        shutil.rmtree(path, ignore_errors=True)


def launch_chain(policy: SandboxPolicy, limits: Limits, *, drop_to: str | None) -> list[str]:
    """The argv from the runner to bwrap: rlimits, then the privilege drop, then an empty environment."""
    chain = prlimit_args(Rlimits.for_limits(limits))
    if drop_to:
        chain += [
            "setpriv", f"--reuid={drop_to}", f"--regid={drop_to}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
        ]  # fmt: skip
    chain += ["env", "-i", *bwrap_argv(policy)]
    return chain


def launcher_env(cgroup: cgroups.JobCgroup | None) -> dict[str, str]:
    """The launch chain's own environment (never the job's: `env -i` comes before bwrap): a PATH for
    prlimit and setpriv, and the cgroups its first step joins (`JOIN_CGROUPS`)."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if cgroup is not None:
        env["HUASHEN_CGROUP_PROCS"] = " ".join(cgroup.procs_files())
    return env


def run_sandboxed(
    policy: SandboxPolicy,
    limits: Limits,
    *,
    job_name: str,
    on_output: Callable[[str, str], None],
    on_event: Callable[[dict[str, object]], None],
    require_cgroups: bool,
) -> SandboxOutcome:
    """Run `policy.command` in the sandbox. Never raises for anything the job does.

    `on_output(stream, text)` gets stdout/stderr text as it arrives; `on_event(event)` gets each JSON
    object the harness writes to fd 3. `require_cgroups` makes a runner that cannot confine the job
    refuse to run it (distributed graders); otherwise it runs rlimit-only.
    """
    root = is_root()
    account = sandbox_account()
    if root and account is None:
        return _refused(
            f"running as root without the {SANDBOX_USER} account: refusing to launch bwrap as root"
        )
    seccomp_file = tempfile.NamedTemporaryFile(prefix="huashen-seccomp-", suffix=".bpf")  # noqa: SIM115

    def launch(cgroup: cgroups.JobCgroup | None) -> SandboxOutcome:
        write_filter(seccomp_file.file)
        seccomp_file.flush()
        os.chmod(seccomp_file.name, 0o644)
        argv = launch_chain(
            dataclasses.replace(policy, seccomp_fd=SECCOMP_FD), limits, drop_to=SANDBOX_USER if root else None
        )
        return _supervise(argv, launcher_env(cgroup), seccomp_file.name, limits, on_output, on_event, cgroup)

    try:
        return run_confined(limits, job_name=job_name, require_cgroups=require_cgroups, launch=launch)
    finally:
        seccomp_file.close()


def run_confined(
    limits: Limits,
    *,
    job_name: str,
    require_cgroups: bool,
    launch: Callable[[cgroups.JobCgroup | None], SandboxOutcome],
    preloaded_bytes: int = 0,
) -> SandboxOutcome:
    """The job's cgroups around `launch(cgroup)` (the cold chain or a warm run): created before, the
    whole tree killed and the usage read after, and the outcome completed from them. Shared by both
    paths so limits, usage and verdict inputs are the same.

    `preloaded_bytes` is memory the job uses without being charged for it (a warm run's share of what
    its zygote imported, charged to the pool's cgroup): it comes off the job's memory limit and is added
    to its peak, so a limit means the same on both paths."""
    started = time.monotonic()
    confine = CgroupLimits.for_limits(limits, preloaded_bytes=preloaded_bytes)
    cgroup = cgroups.JobCgroup(job_name, memory_bytes=confine.memory_bytes, pids=confine.pids)
    try:
        cgroup.__enter__()
        confined = True
    except cgroups.CgroupError as error:
        if require_cgroups:
            return _refused(f"cannot confine the job: {error}")
        logger.warning("SANDBOX WITHOUT CGROUPS: memory and process limits are not enforced (%s)", error)
        confined = False
    try:
        outcome = launch(cgroup if confined else None)
    finally:
        if confined:
            outcome_usage = cgroup.usage()
            dead = cgroup.kill_all()
            cgroup.remove()
    outcome.wall_seconds = time.monotonic() - started
    outcome.confined = confined
    if confined:
        outcome.tree_dead = dead
        outcome.cpu_seconds = outcome_usage.cpu_seconds
        outcome.peak_memory_mb = (outcome_usage.peak_memory_bytes + preloaded_bytes) / (1024 * 1024)
        outcome.memory_exceeded = outcome.memory_exceeded or outcome_usage.oom_killed
        outcome.pids_exceeded = outcome_usage.pids_limit_hit
    if limits.cpu_seconds and outcome.cpu_seconds >= limits.cpu_seconds:
        outcome.cpu_exceeded = True
    return outcome


def _refused(reason: str) -> SandboxOutcome:
    logger.error("sandbox refused: %s", reason)
    return SandboxOutcome(
        exit_code=None, wall_seconds=0.0, cpu_seconds=0.0, peak_memory_mb=0.0, launch_error=reason
    )


def _supervise(
    argv: list[str],
    env: dict[str, str],
    seccomp_path: str,
    limits: Limits,
    on_output: Callable[[str, str], None],
    on_event: Callable[[dict[str, object]], None],
    cgroup: cgroups.JobCgroup | None,
) -> SandboxOutcome:
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    events_r, events_w = os.pipe()
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, stdout_w, 1),
        (os.POSIX_SPAWN_DUP2, stderr_w, 2),
        (os.POSIX_SPAWN_DUP2, events_w, EVENTS_FD),
        (os.POSIX_SPAWN_OPEN, SECCOMP_FD, seccomp_path, os.O_RDONLY, 0),
    ]
    try:
        pid = os.posix_spawnp(
            "sh", ["sh", "-c", JOIN_CGROUPS, "sh", *argv], env, file_actions=actions, setsid=True
        )
    except OSError as error:
        for fd in (stdout_r, stdout_w, stderr_r, stderr_w, events_r, events_w):
            os.close(fd)
        return SandboxOutcome(
            exit_code=None, wall_seconds=0.0, cpu_seconds=0.0, peak_memory_mb=0.0,
            launch_error=f"cannot start the sandbox: {error}",
        )  # fmt: skip
    for fd in (stdout_w, stderr_w, events_w):
        os.close(fd)
    return watch(_ChainProcess(pid), stdout_r, stderr_r, events_r, limits, on_output, on_event, cgroup)


class _ChainProcess:
    """The cold launch chain, a child of this process (its own session: killpg ends the chain)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        waited, raw = os.waitpid(self.pid, os.WNOHANG)
        return raw if waited else None

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        return os.waitpid(self.pid, 0)[1]


class Watched(Protocol):
    """What `watch` needs of a running job: its wait status once it ended, a kill, a final wait."""

    def poll(self) -> int | None: ...
    def kill(self) -> None: ...
    def wait(self) -> int: ...


def watch(
    job: Watched,
    stdout_r: int,
    stderr_r: int,
    events_r: int,
    limits: Limits,
    on_output: Callable[[str, str], None],
    on_event: Callable[[dict[str, object]], None],
    cgroup: cgroups.JobCgroup | None,
) -> SandboxOutcome:
    """Read the job's output and events as they come, cap them, enforce the wall clock, and report how
    it ended. Closes the three read ends. The same for the cold chain and a warm run."""
    outcome = SandboxOutcome(exit_code=None, wall_seconds=0.0, cpu_seconds=0.0, peak_memory_mb=0.0)
    deadline = time.monotonic() + limits.wall_seconds
    output_cap = limits.output_kb * 1024
    output_bytes = event_bytes = 0
    decoders = {
        stdout_r: ("stdout", codecs.getincrementaldecoder("utf-8")("replace")),
        stderr_r: ("stderr", codecs.getincrementaldecoder("utf-8")("replace")),
    }
    event_buffer = b""
    stderr_head = b""
    selector = selectors.DefaultSelector()
    for fd in (stdout_r, stderr_r, events_r):
        selector.register(fd, selectors.EVENT_READ)
    open_fds = {stdout_r, stderr_r, events_r}
    status: int | None = None
    drain_deadline: float | None = None

    def kill() -> None:
        job.kill()
        if cgroup is not None:
            cgroup.kill_all()

    try:
        while open_fds or status is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not outcome.timed_out:
                outcome.timed_out = True
                kill()
            if status is None:
                status = job.poll()
                if status is not None:
                    drain_deadline = time.monotonic() + 2.0
            elif drain_deadline is not None and time.monotonic() > drain_deadline:
                kill()  # the command is gone but something still holds its pipes: end it and stop reading
                break
            if not open_fds:
                if status is None:
                    time.sleep(0.01)
                continue
            for key, _mask in selector.select(
                timeout=max(0.0, min(0.1, remaining)) if remaining > 0 else 0.05
            ):
                fd = int(key.fd)
                chunk = os.read(fd, 65536)
                if not chunk:
                    selector.unregister(fd)
                    os.close(fd)
                    open_fds.discard(fd)
                    continue
                if fd == events_r:
                    event_bytes += len(chunk)
                    if event_bytes > EVENT_BYTES_CAP:
                        continue  # events beyond the cap are dropped, not a reason to kill
                    event_buffer += chunk
                    *lines, event_buffer = event_buffer.split(b"\n")
                    for line in lines:
                        _deliver_event(line, on_event)
                    continue
                output_bytes += len(chunk)
                if fd == stderr_r and len(stderr_head) < 4096:
                    stderr_head += chunk[:4096]
                if output_bytes > output_cap:
                    allowed = len(chunk) - (output_bytes - output_cap)
                    chunk = chunk[: max(0, allowed)]
                    if not outcome.output_exceeded:
                        outcome.output_exceeded = True
                        kill()
                if chunk:
                    stream, decoder = decoders[fd]
                    text = decoder.decode(chunk)
                    if text:
                        on_output(stream, text)
    finally:
        # Whatever happened above, no descriptor leaks and the child is reaped (no zombie per job).
        selector.close()
        for fd in open_fds:
            os.close(fd)
        if status is None:
            kill()
            status = job.wait()
    code = os.waitstatus_to_exitcode(status)
    outcome.exit_code = code if code >= 0 else 128 - code
    if outcome.exit_code == 128 + signal.SIGSYS:
        outcome.violation = True
    if outcome.exit_code == 128 + signal.SIGXCPU:
        outcome.cpu_exceeded = True
    # bwrap's init, and the warm path's, exit with 128 + the signal that killed the job.
    crash = [sig for sig in CRASH_SIGNALS if outcome.exit_code == 128 + sig]
    if crash:
        outcome.crash_signal = crash[0].name
    if outcome.exit_code == 1 and stderr_head.startswith(b"bwrap:"):
        outcome.launch_error = stderr_head.decode("utf-8", "replace").strip()
    return outcome


MAX_EVENT_LINE = 64 * 1024


def _refuse_constant(name: str) -> object:
    raise ValueError(f"non-finite number {name}")


def _deliver_event(line: bytes, on_event: Callable[[dict[str, object]], None]) -> None:
    """One JSON line from the job's event pipe. Anything malformed is dropped: the job wrote it."""
    if len(line) > MAX_EVENT_LINE:
        return
    try:
        event = json.loads(line, parse_constant=_refuse_constant)
        if isinstance(event, dict):
            on_event(event)
    except Exception:  # deep nesting, bad encodings, non-finite numbers: never the grader's problem
        logger.info("dropped a malformed event line from a job", exc_info=True)
