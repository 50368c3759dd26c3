"""What the sandbox looks like from inside: mounts, namespaces, limits, environment. Pure data, no side effects.

Inside, the job sees a read-only system (/usr and the links into it, ld.so.cache), a read-only Python
environment, the harness and grading kit read-only under /opt/huashen, a private /proc, a minimal,
read-only /dev, size-capped tmpfs /tmp and /dev/shm, its work dir at /work, and nothing else: no /home, no /root, no
/etc beyond what the loader needs, no /sys, no host sockets. Dataset files that ship inside packages are
masked by empty read-only directories, so answers cannot be looked up.

One `SandboxPolicy` (with the request's `Limits`) describes a job for both paths, and this module renders
it for each:

- cold: `bwrap_argv` (mounts, namespaces, environment, working directory) and `prlimit_args` (rlimits),
  which `runner.launch_chain` strings together;
- warm: `zygote_policy` + `zygote_config` (what a zygote's own bwrap gets, and the file it reads: the
  mounts, /dev and namespaces every run inherits), and `warm_run_spec` (what each run applies to itself:
  tmpfs sizes, rlimits, environment, working directory), sent to the zygote as JSON, never pickled;
- both: `CgroupLimits` (the job's cgroups, `runner.run_confined`).
"""

import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from workers.protocol import Limits

SANDBOX_USER = "huashen-sandbox"
INSIDE_UID = 65534
WORK = "/work"
LIB = "/opt/huashen/lib"  # the harness and the grading kit
TORCH_HOME = "/opt/huashen/torch"
HOSTNAME = "sandbox"
MAX_OPEN_FILES = 512

# Namespaces. A cold job gets every one from bwrap (`--unshare-all --unshare-user`: user, mount, IPC, PID,
# network, UTS, cgroup). A warm zygote gets the same from its own bwrap; each of its runs makes these
# afresh (zygote.py), sharing only the zygote's user and cgroup namespaces.
RUN_NAMESPACES = ("mnt", "pid", "net", "ipc", "uts")

# The warm pool's zygote: its files (zygote.py, linux.py, the seccomp filter, its configuration) are bound
# read-only here, and it keeps these capabilities inside its own user namespace (never on the host) to
# give each run its namespaces. A job's policy has neither.
ZYGOTE_DIR = "/opt/huashen/zygote"
ZYGOTE_CAPS = ("CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SETPCAP")
ZYGOTE_TMP_BYTES = 16 * 1024 * 1024
# The zygote lives long: no CPU rlimit to speak of (each run sets its own), and room in its cgroups for
# torch and the spare runs it forks ahead.
ZYGOTE_LIMITS = Limits(cpu_seconds=10**8, disk_mb=2**20, memory_mb=3072, pids=256)

# Files the dynamic loader and Python need from /etc; nothing with secrets.
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/mime.types")


def python_environment() -> tuple[Path, Path]:
    """(the venv, the base interpreter's prefix) that the grader itself runs from."""
    return Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()


def masked_dataset_dirs(site_packages: Path) -> list[Path]:
    """Data shipped inside packages that a check might score on: hidden inside the sandbox."""
    candidates = [
        site_packages / "sklearn" / "datasets" / "data",
        site_packages / "sklearn" / "datasets" / "descr",
        site_packages / "sklearn" / "datasets" / "images",
    ]
    return [path for path in candidates if path.is_dir()]


def gpu_device_nodes(visible: str, *, dev: Path = Path("/dev")) -> tuple[str, ...]:
    """The /dev nodes a GPU grader binds into its jobs (`SandboxPolicy.devices`): the reserved GPUs'
    (CUDA_VISIBLE_DEVICES) and the shared control nodes."""
    nodes = [str(dev / f"nvidia{index.strip()}") for index in visible.split(",") if index.strip().isdigit()]
    if not any(Path(node).exists() for node in nodes):
        # In a container the reserved GPU keeps its host node name (/dev/nvidia3) while CUDA
        # numbers it 0: the container holds only the nodes of its own GPUs, so take those.
        nodes = sorted(str(node) for node in dev.glob("nvidia[0-9]*"))
    shared = [str(dev / name) for name in ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")]
    return tuple(node for node in [*nodes, *shared] if Path(node).exists())


@dataclass(frozen=True)
class SandboxPolicy:
    """Everything bwrap needs to know about one run. Build with `SandboxPolicy.for_job`."""

    work_dir: Path | None  # host path bound read-write at /work (None: an empty /work, the zygote's)
    lib_dir: Path  # host path bound read-only at /opt/huashen/lib
    command: tuple[str, ...]
    env: dict[str, str]
    readonly: tuple[Path, ...] = ()
    masked: tuple[Path, ...] = ()
    tmp_bytes: int = 256 * 1024 * 1024
    shm_bytes: int = 64 * 1024 * 1024
    devices: tuple[str, ...] = ()  # extra device nodes (GPU), bound read-write
    torch_home: Path | None = None
    seccomp_fd: int | None = None
    extra_args: tuple[str, ...] = field(default=())
    # The warm pool's zygote only (`zygote_policy`): capabilities kept inside the sandbox's own user
    # namespace, and extra read-only binds (host path, sandbox path). A job's policy has neither.
    caps: tuple[str, ...] = ()
    extra_binds: tuple[tuple[Path, str], ...] = ()
    cwd: str = WORK
    hostname: str = HOSTNAME

    def scratch(self) -> tuple[tuple[str, int], ...]:
        """The size-capped tmpfs mounts, (path inside, bytes): bwrap makes them for a cold job, the
        zygote afresh for each warm run."""
        return (("/tmp", self.tmp_bytes), ("/dev/shm", self.shm_bytes))

    def threads(self) -> int:
        """The math threads the job's torch may use: what OMP_NUM_THREADS in its environment says."""
        value = self.env.get("OMP_NUM_THREADS", "1")
        return max(1, int(value)) if value.isdigit() else 1

    def inherited(self) -> tuple[object, ...]:
        """What a warm run takes from its zygote's bwrap instead of applying itself: the interpreter and
        its flags, the read-only binds and masks, the harness, the weights, the device nodes. A warm run
        is only for a job whose policy has the same (`pool.WarmPool.run` checks)."""
        return (
            self.command[:-1], self.readonly, self.masked, self.lib_dir, self.torch_home, self.devices,
            self.hostname,
        )  # fmt: skip

    @classmethod
    def for_job(
        cls,
        *,
        work_dir: Path | None,
        lib_dir: Path,
        script: str,
        env: dict[str, str],
        tmp_bytes: int,
        devices: tuple[str, ...] = (),
        torch_home: Path | None = None,
        seccomp_fd: int | None = None,
    ) -> "SandboxPolicy":
        venv, base = python_environment()
        site_packages = (
            venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        )
        readonly = [venv]
        if not str(base).startswith("/usr"):
            readonly.append(base)  # an interpreter outside /usr (not Debian's) must be visible too
        clean_env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": WORK,
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp",
            "MPLCONFIGDIR": "/tmp/matplotlib",
            "XDG_CACHE_HOME": "/tmp/cache",
            "PYTHONDONTWRITEBYTECODE": "1",
            **({"TORCH_HOME": TORCH_HOME} if torch_home else {}),
            **env,
        }
        return cls(
            work_dir=work_dir,
            lib_dir=lib_dir,
            command=(str(venv / "bin" / "python"), "-I", "-B", "-u", script),
            env=clean_env,
            readonly=tuple(readonly),
            masked=tuple(masked_dataset_dirs(site_packages)),
            tmp_bytes=tmp_bytes,
            shm_bytes=min(tmp_bytes, 256 * 1024 * 1024),
            devices=devices,
            torch_home=torch_home,
            seccomp_fd=seccomp_fd,
        )


def bwrap_argv(policy: SandboxPolicy, bwrap: str = "bwrap") -> list[str]:
    """The bwrap command line for `policy`. Every isolation flag is unconditional."""
    argv = [
        bwrap,
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup namespaces: no network at all
        "--unshare-user",
        "--uid", str(INSIDE_UID),
        "--gid", str(INSIDE_UID),
        "--disable-userns",  # no nested user namespaces inside
        "--die-with-parent",
        "--new-session",  # no TIOCSTI into the launcher's terminal
        "--hostname", policy.hostname,
        "--clearenv",
    ]  # fmt: skip
    for cap in policy.caps:
        argv += ["--cap-add", cap]
    for name, value in sorted(policy.env.items()):
        argv += ["--setenv", name, value]
    argv += ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = f"/{link}"
        if os.path.islink(target):
            argv += ["--symlink", os.readlink(target), target]
        elif os.path.isdir(target):
            argv += ["--ro-bind", target, target]
    for etc_file in ETC_FILES:
        if os.path.exists(etc_file):
            argv += ["--ro-bind", etc_file, etc_file]
    argv += _identity_files()
    for path in policy.readonly:
        argv += ["--ro-bind", str(path), str(path)]
    for path in policy.masked:
        argv += ["--tmpfs", str(path), "--remount-ro", str(path)]
    argv += ["--ro-bind", str(policy.lib_dir), LIB]
    if policy.torch_home:
        argv += ["--ro-bind", str(policy.torch_home), TORCH_HOME]
    for source, target in policy.extra_binds:
        argv += ["--ro-bind", str(source), target]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    for target, size in policy.scratch():
        argv += ["--size", str(size), "--tmpfs", target]
    for device in policy.devices:
        argv += ["--dev-bind", device, device]
    # /dev itself is a tmpfs that bwrap fills with device nodes; nothing in it may be written after that
    # (its own submounts, the nodes and /dev/shm, stay as they are). On the warm path every run of a
    # zygote shares the zygote's /dev: writable, it would be a channel between students' jobs and memory
    # outside every job's limit.
    argv += ["--remount-ro", "/dev"]
    if policy.work_dir is None:
        argv += ["--dir", WORK, "--chdir", policy.cwd]
    else:
        argv += ["--bind", str(policy.work_dir), WORK, "--chdir", policy.cwd]
    if policy.seccomp_fd is not None:
        argv += ["--seccomp", str(policy.seccomp_fd)]
    argv += ["--remount-ro", "/"]
    argv += list(policy.extra_args)
    argv += ["--", *policy.command]
    return argv


def _identity_files() -> list[str]:
    """A passwd and group that name only the sandbox identity (the host's list of accounts stays out)."""
    return [
        "--symlink", "/opt/huashen/lib/etc/passwd", "/etc/passwd",
        "--symlink", "/opt/huashen/lib/etc/group", "/etc/group",
    ]  # fmt: skip


def thread_env(threads: int) -> dict[str, str]:
    """One slot is one job: more math threads than its share of cores only fight each other."""
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


@dataclass(frozen=True)
class Rlimits:
    """A job's rlimits as (soft, hard): `prlimit` sets them on the cold path, the warm run on itself."""

    cpu: tuple[int, int]
    fsize: tuple[int, int]
    nofile: tuple[int, int] = (MAX_OPEN_FILES, MAX_OPEN_FILES)
    core: tuple[int, int] = (0, 0)

    @classmethod
    def for_limits(cls, limits: Limits) -> "Rlimits":
        disk_bytes = limits.disk_mb * 1024 * 1024
        # The soft CPU limit sends SIGXCPU (a time-limit verdict); the hard one a second later kills.
        return cls(cpu=(limits.cpu_seconds, limits.cpu_seconds + 1), fsize=(disk_bytes, disk_bytes))

    def as_data(self) -> dict[str, list[int]]:
        return {
            "cpu": list(self.cpu),
            "fsize": list(self.fsize),
            "nofile": list(self.nofile),
            "core": list(self.core),
        }


def prlimit_args(rlimits: Rlimits) -> list[str]:
    """The cold path's rlimits: `prlimit --cpu=S:H ... --`."""
    args = ["prlimit"]
    for name, (soft, hard) in rlimits.as_data().items():
        args.append(f"--{name}={soft}" if soft == hard else f"--{name}={soft}:{hard}")
    return [*args, "--"]


@dataclass(frozen=True)
class CgroupLimits:
    """A job's cgroup limits, the same on both paths (`runner.run_confined`)."""

    memory_bytes: int
    pids: int

    @classmethod
    def for_limits(cls, limits: Limits, *, preloaded_bytes: int = 0) -> "CgroupLimits":
        """`preloaded_bytes`: memory the job uses without being charged for it (a warm run's share of
        what its zygote imported, charged to the pool's cgroup); it comes off the limit."""
        return cls(memory_bytes=limits.memory_mb * 1024 * 1024 - preloaded_bytes, pids=limits.pids)


def warm_run_spec(policy: SandboxPolicy, limits: Limits) -> dict[str, object]:
    """What a warm run applies to itself (zygote.py `_job`, `_harness`), as JSON data: the scratch tmpfs
    sizes, rlimits, working directory, environment and script of the same policy that `bwrap_argv` and
    `prlimit_args` render for a cold run. Its work dir is mounted at /work by the host (pool.py); the
    rest of its mounts are its zygote's (`inherited`)."""
    return {
        "env": dict(policy.env),
        "script": policy.command[-1],
        "cwd": policy.cwd,
        "tmpfs": [[target, size] for target, size in policy.scratch()],
        "rlimits": Rlimits.for_limits(limits).as_data(),
        "threads": policy.threads(),
    }


def zygote_policy(
    *, lib_dir: Path, torch_home: Path | None, devices: tuple[str, ...], threads: int, files: Path
) -> tuple[SandboxPolicy, dict[str, object]]:
    """A warm zygote's sandbox: a job's policy (the same mounts, /dev, device nodes and namespaces) with
    an empty /work, its `files` read-only at ZYGOTE_DIR and ZYGOTE_CAPS inside its own user namespace;
    and its configuration (`zygote_config`), which it reads from a file in `files`. Its environment is
    in that file, not on bwrap's command line, so its exec-time environment (what /proc/PID/environ
    shows of it and of every run forked from it) stays empty."""
    job = SandboxPolicy.for_job(
        work_dir=None, lib_dir=lib_dir, script=f"{ZYGOTE_DIR}/zygote.py", env=thread_env(threads),
        tmp_bytes=ZYGOTE_TMP_BYTES, devices=devices, torch_home=torch_home,
    )  # fmt: skip
    zygote = replace(job, env={}, caps=ZYGOTE_CAPS, extra_binds=((files, ZYGOTE_DIR),))
    return zygote, zygote_config(job)


def zygote_config(policy: SandboxPolicy) -> dict[str, object]:
    """What a zygote reads at start (zygote.py `serve`): its environment, and what each run makes
    afresh before its request comes (`RUN_NAMESPACES`, the hostname)."""
    return {"env": dict(policy.env), "namespaces": list(RUN_NAMESPACES), "hostname": policy.hostname}
