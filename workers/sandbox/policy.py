"""What the sandbox looks like from inside: mounts, environment, devices. Pure data, no side effects.

Inside, the job sees a read-only system (/usr and the links into it, ld.so.cache), a read-only Python
environment, the harness and grading kit read-only under /opt/huashen, a private /proc, a minimal,
read-only /dev, size-capped tmpfs /tmp and /dev/shm, its work dir at /work, and nothing else: no /home, no /root, no
/etc beyond what the loader needs, no /sys, no host sockets. Dataset files that ship inside packages are
masked by empty read-only directories, so answers cannot be looked up.
"""

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_USER = "huashen-sandbox"
INSIDE_UID = 65534
WORK = "/work"
LIB = "/opt/huashen/lib"  # the harness and the grading kit
TORCH_HOME = "/opt/huashen/torch"

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
    # The warm pool's zygote only (pool.py): capabilities kept inside the sandbox's own user namespace,
    # and extra read-only binds (host path, sandbox path). A job's policy has neither.
    caps: tuple[str, ...] = ()
    extra_binds: tuple[tuple[Path, str], ...] = ()

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
        "--hostname", "sandbox",
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
    argv += ["--size", str(policy.tmp_bytes), "--tmpfs", "/tmp"]
    argv += ["--size", str(policy.shm_bytes), "--tmpfs", "/dev/shm"]
    for device in policy.devices:
        argv += ["--dev-bind", device, device]
    # /dev itself is a tmpfs that bwrap fills with device nodes; nothing in it may be written after that
    # (its own submounts, the nodes and /dev/shm, stay as they are). On the warm path every run of a
    # zygote shares the zygote's /dev: writable, it would be a channel between students' jobs and memory
    # outside every job's limit.
    argv += ["--remount-ro", "/dev"]
    if policy.work_dir is None:
        argv += ["--dir", WORK, "--chdir", WORK]
    else:
        argv += ["--bind", str(policy.work_dir), WORK, "--chdir", WORK]
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
