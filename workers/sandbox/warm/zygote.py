"""The warm sandbox's inside: a zygote that imported torch once and forks a fresh, confined child per run.

This file runs INSIDE a bwrap sandbox (see `pool.py` for the host side) as uid 65534 of the sandbox's
own user namespace, launched by the cold launch chain as the unprivileged host account huashen-sandbox
with one difference from a job's sandbox: it keeps CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_SETPCAP *inside
that user namespace* (never on the host) and has no seccomp filter, because it needs them to give each
run its own namespaces. It only imports only the standard library, torch, torchvision and numpy, never
runs student code itself, and holds no platform secret (it starts from an empty environment).

Per run (one request on the control socket, fd 4, carrying the run's stdout, stderr, event pipe and a
run socket), with everything forked ahead as the zygote's spare so that no fork is on the critical path:

    zygote --fork--> C: unshare(NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS), mounts private
                     C --fork--> G: pid 1 of the new PID namespace: fresh /proc, hostname, loopback up
                                 G --fork--> H (pid 2): waits for its run
                                 G drops every capability, no_new_privs, seccomp, not dumpable, then
                                   reaps and exits with H's status (its exit ends the PID namespace)
    request → zygote hands it to C → C hands it to H and keeps the run socket
    H reports its pid over the run socket (SCM_CREDENTIALS: the host sees its host pid) and waits for
      "go" (the host has put H in the job's cgroups and mounted the job's work dir at /work in the run's
      mount namespace); then H: size-capped /tmp and /dev/shm, rlimits, stdio on the run's pipes, every
      other fd closed, new session, all capabilities dropped (bounding, ambient, inheritable,
      permitted, effective), no_new_privs, the same seccomp filter as the cold path, the clean
      environment, every RNG reseeded from os.urandom, then the harness, as the cold path runs it
    C waits for G and reports its wait status on the run socket. The zygote forks the next spare.

What a zygote and its runs apply is the host's sandbox policy (workers/sandbox/policy.py), as data:
the zygote reads `policy.zygote_config` from /opt/huashen/zygote/policy.json at start (its environment;
the namespaces and hostname each spare run makes), and each request is `policy.warm_run_spec` of the
job's policy (scratch tmpfs sizes, rlimits, working directory, environment, script, threads), the same
policy a cold run renders to bwrap's and prlimit's arguments. A name in it the zygote does not know
fails the run; nothing is skipped.

Protocol (SOCK_SEQPACKET, one JSON object per message): host → zygote request `{"env", "script", "cwd",
"tmpfs", "rlimits", "threads"}` + 4 fds; H → host `{"ready": true}` (with credentials),
host → H `{"go": true}`, C → host `{"exit": status}`. The zygote says `{"zygote": "ready", "pid",
"preloaded"}` on fd 4 once its imports are done (`preloaded`: the anonymous memory `import torch` took,
in bytes).

/dev is the zygote's, read-only (the policy remounts it so): the runs share it, so nothing may be
written there; /tmp and /dev/shm are fresh per run.
"""

import array
import ctypes
import errno
import fcntl
import json
import os
import random
import resource
import signal
import socket
import struct
import sys

if __package__:  # imported on the host (a type check, a test)
    from workers.sandbox.warm import linux
else:
    # Run inside the sandbox under `python -I`, where linux.py sits beside this file (pool.py copies both)
    # but the script's folder is not on sys.path: load it by path, into neither sys.path nor sys.modules,
    # so nothing of the zygote's folder becomes importable by the runs forked from here.
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "huashen_linux", os.path.join(os.path.dirname(__file__), "linux.py")
    )
    assert _spec is not None and _spec.loader is not None
    linux = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(linux)

CONTROL_FD = 4
HARNESS = "/opt/huashen/lib/harness/run.py"
CONFIG = "/opt/huashen/zygote/policy.json"

# The policy's names for what the zygote applies (policy.RUN_NAMESPACES, policy.Rlimits).
NAMESPACES = {
    "mnt": linux.CLONE_NEWNS,
    "pid": linux.CLONE_NEWPID,
    "net": linux.CLONE_NEWNET,
    "ipc": linux.CLONE_NEWIPC,
    "uts": linux.CLONE_NEWUTS,
}
RLIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(
        linux.libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def _fresh_tmpfs(target: str, size: int) -> None:
    # Over the zygote's own (empty, and locked in place: this namespace's mounts came from a more
    # privileged user namespace): hidden below the run's fresh one.
    _mount("tmpfs", target, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, f"size={size},mode=1777")


def _loopback_up() -> None:
    """What bwrap does in a new network namespace: `lo` up, nothing else."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, linux.SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, linux.SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | linux.IFF_UP))


def _drop_capabilities() -> None:
    for cap in range(64):
        if linux.libc.prctl(linux.PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            raise OSError(ctypes.get_errno(), f"cannot drop capability {cap} from the bounding set")
    _check(
        linux.libc.prctl(linux.PR_CAP_AMBIENT, linux.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0),
        "clear ambient capabilities",
    )
    header = struct.pack("Ii", linux.LINUX_CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two all-zero {effective, permitted, inheritable} records
    _check(linux.libc.syscall(linux.SYS_CAPSET, header, data), "capset")
    with open("/proc/self/status") as handle:
        status = handle.read()
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        value = status.split(field + ":")[1].split()[0]
        if int(value, 16) != 0:
            raise OSError(errno.EPERM, f"{field} is {value} after dropping every capability")


def _load_seccomp(program: bytes) -> None:
    """The cold path's filter, the same bytes bwrap loads with --seccomp (after no_new_privs)."""
    _check(linux.libc.prctl(linux.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HxxxxxxQ", len(program) // 8, ctypes.addressof(buffer))
    _check(
        linux.libc.prctl(linux.PR_SET_SECCOMP, linux.SECCOMP_MODE_FILTER, ctypes.c_char_p(fprog), 0, 0),
        "seccomp",
    )


def _reseed() -> None:
    """A forked child shares its parent's RNG state: every generator gets fresh entropy."""
    random.seed(os.urandom(32))
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(int.from_bytes(os.urandom(4), "little"))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1))


def _set_limits(rlimits: dict[str, list[int]]) -> None:
    """The policy's rlimits, (soft, hard) by name: exactly the ones prlimit sets on the cold path."""
    if set(rlimits) != set(RLIMITS):
        raise ValueError(f"rlimits {sorted(rlimits)} are not the ones the zygote applies {sorted(RLIMITS)}")
    for name, (soft, hard) in rlimits.items():
        resource.setrlimit(RLIMITS[name], (int(soft), int(hard)))


def _namespace_flags(names: list[str]) -> int:
    """The unshare(2) flags for the policy's per-run namespaces; an unknown name is an error."""
    flags = 0
    for name in names:
        if name not in NAMESPACES:
            raise ValueError(f"the zygote cannot make a {name!r} namespace")
        flags |= NAMESPACES[name]
    return flags


def _job(handoff: socket.socket, seccomp: bytes) -> None:
    """H, pid 2 of the run's PID namespace, forked ahead: wait for the run, report, wait for "go",
    confine itself, run the harness. Never returns."""
    status = 70
    try:
        request, fds = _receive(handoff)
        handoff.close()
        if request is None or len(fds) != 4:
            os._exit(0)  # the zygote went away or handed over nothing: run nothing
        run_socket = socket.socket(fileno=fds[3])
        run_socket.send(b'{"ready": true}')  # the host reads our host pid from the credentials
        if json.loads(run_socket.recv(4096) or b"{}").get("go") is not True:
            os._exit(0)  # the host refused (could not confine us): run nothing
        # From here on we are in the job's cgroups and /work is the job's work dir.
        for target, size in request["tmpfs"]:  # /tmp and /dev/shm: the sandbox's own, fresh
            _fresh_tmpfs(str(target), int(size))
        _set_limits(request["rlimits"])
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        for target, fd in zip((1, 2, 3), fds[:3], strict=True):
            os.dup2(fd, target)
        os.closerange(4, resource.getrlimit(resource.RLIMIT_NOFILE)[0] + 64)  # the run socket too
        os.setsid()
        os.chdir(str(request["cwd"]))
        _drop_capabilities()
        _load_seccomp(seccomp)
        os.environ.clear()
        os.environ.update({str(key): str(value) for key, value in request["env"].items()})
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    except BaseException as error:
        os.write(2, f"huashen warm sandbox: cannot confine the run: {error!r}\n".encode())
        os._exit(status)
    _harness(request)


# G's program after it forked H: a small interpreter (not a copy of the zygote, so that its exit, which
# the run's status waits for, is cheap), not dumpable, reaping until the job ends.
INIT = """
import ctypes, os, sys
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
job = int(sys.argv[1])
while True:
    try:
        pid, raw = os.waitpid(-1, 0)
    except ChildProcessError:
        os._exit(70)
    except InterruptedError:
        continue
    if pid == job:
        os._exit(os.waitstatus_to_exitcode(raw) if os.WIFEXITED(raw) else 128 + os.WTERMSIG(raw))
"""


def _init(job: int, seccomp: bytes) -> None:
    """G, pid 1 of the run's PID namespace (like bwrap's init): confined like the job, then exec'd into
    INIT, which is not dumpable (the job, same uid, cannot read its memory or environment via
    /proc/1), reaps orphans and exits with the job's status; its exit ends the PID namespace, which
    kills whatever the job left behind. Never returns."""
    try:
        _check(linux.libc.prctl(linux.PR_SET_DUMPABLE, 0, 0, 0, 0), "not dumpable")
        os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0] + 64)
        _drop_capabilities()  # ambient ones too: nothing survives the exec
        _load_seccomp(seccomp)
        os.execve(sys.executable, [sys.executable, "-I", "-S", "-c", INIT, str(job)], {})  # noqa: S606
    except BaseException as error:
        os.write(2, f"huashen warm sandbox: cannot confine the run's init: {error!r}\n".encode())
    os._exit(70)


def _harness(request: dict) -> None:
    """H (pid 2, like the cold path's python): reseed, then the harness exactly as `python -I -B -u` runs
    it. Never returns."""
    status = 70
    try:
        import atexit

        # Exit handlers the zygote's imports registered are the zygote's, not this run's: at exit a
        # run calls only the ones registered while it ran (a process that imported torch itself and
        # exits cleanly would run torch's; they only tidy up a process that is about to vanish).
        atexit._clear()
        _reseed()
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(max(1, int(request.get("threads", 1))))
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as the interpreter sets it at start
    except BaseException as error:
        os.write(2, f"huashen warm sandbox: cannot start the run: {error!r}\n".encode())
        os._exit(status)
    import runpy

    sys.argv = [request.get("script", HARNESS)]
    sys.path[0] = os.path.dirname(sys.argv[0])
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
        status = 0
    except SystemExit as leaving:
        code = leaving.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
    except BaseException:
        import traceback

        traceback.print_exc()
        status = 1
    try:
        import atexit

        atexit._run_exitfuncs()  # what the interpreter does at exit
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status & 0xFF)


def _spare(handoff: socket.socket, seccomp: bytes, config: dict) -> None:
    """C, forked ahead of its request with its whole chain, so that no fork and no unshare is on a run's
    critical path: new namespaces, then G (pid 1: a fresh /proc, the hostname, loopback up) and H (the
    job, waiting for its run). C passes the run on to H, keeps the run socket, and reports G's wait
    status on it. Never returns."""
    try:
        _check(linux.libc.unshare(_namespace_flags(config["namespaces"])), "unshare")
        _mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE, None)
        to_job, job_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        init = os.fork()
        if init == 0:
            handoff.close()
            to_job.close()
            _check(linux.libc.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal")
            _mount("proc", "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC, None)
            socket.sethostname(str(config["hostname"]))
            _loopback_up()
            job = os.fork()
            if job == 0:
                _check(
                    linux.libc.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal"
                )
                _job(job_end, seccomp)
            _init(job, seccomp)
        job_end.close()
        request, fds = _receive(handoff)
        handoff.close()
        if request is None or len(fds) != 4:
            os._exit(0)  # the zygote went away or handed over nothing: run nothing (G and H follow)
        to_job.sendmsg(
            [json.dumps(request).encode()],
            [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())],
        )
        to_job.close()
        run_socket = socket.socket(fileno=fds[3])
        for fd in fds[:3]:
            os.close(fd)
        while True:
            try:
                _pid, raw = os.waitpid(init, 0)
                break
            except ChildProcessError:
                raw = 70 << 8
                break
            except InterruptedError:
                continue
        run_socket.send(json.dumps({"exit": raw}).encode())
    except BaseException as error:
        os.write(2, f"huashen warm sandbox: {error!r}\n".encode())
    os._exit(0)


def _receive(control: socket.socket) -> tuple[dict | None, list[int]]:
    fds = array.array("i")
    message, ancillary, _flags, _address = control.recvmsg(65536, socket.CMSG_SPACE(16 * fds.itemsize))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if not message:
        return None, list(fds)
    return json.loads(message), list(fds)


def serve() -> None:
    control = socket.socket(fileno=CONTROL_FD)
    with open("/opt/huashen/zygote/seccomp.bpf", "rb") as handle:
        seccomp = handle.read()
    with open(CONFIG) as handle:
        config = json.load(handle)
    _namespace_flags(config["namespaces"])  # a name the zygote does not know: it never says ready
    os.environ.update({str(key): str(value) for key, value in config["env"].items()})
    # What every run would otherwise import itself: the expensive part of a cold start.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy  # noqa: F401
    import torch

    # What `import torch` costs a cold job in memory (its anonymous pages): the host charges each run
    # this much, since the zygote's copy is charged to the pool (pool.py). torchvision, which most
    # trials do not import, is preloaded on top and not charged.
    preloaded = _anonymous_bytes()
    try:
        import torchvision  # noqa: F401
    except ImportError:
        pass
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # runs are reaped by the kernel, not by us
    control.send(json.dumps({"zygote": "ready", "pid": os.getpid(), "preloaded": preloaded}).encode())
    spare = _fork_spare(control, seccomp, config)
    while True:
        request, fds = _receive(control)
        if request is None:
            os._exit(0)  # the host closed the control socket: the pool is done with us
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            os._exit(3)  # a malformed request: the host replaces a zygote that exits
        try:
            spare.sendmsg(
                [json.dumps(request).encode()],
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())],
            )
        except OSError:
            os._exit(4)  # the spare died: the host sees no "ready" and replaces this zygote
        spare.close()
        for fd in fds:
            os.close(fd)
        spare = _fork_spare(control, seccomp, config)


def _anonymous_bytes() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


def _fork_spare(control: socket.socket, seccomp: bytes, config: dict) -> socket.socket:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    child = os.fork()
    if child == 0:
        control.close()
        ours.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _spare(theirs, seccomp, config)
    theirs.close()
    return ours


if __name__ == "__main__":
    serve()
