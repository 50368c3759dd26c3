"""The security suite's host: one grader and one platform worker per module, honeytokens, canaries,
listeners, and everything the host checks after each attack.

`security` (module scope, needs no database rows) starts, once per module:
- a grader worker on the fixture curriculum with a honeytoken in its environment, its own jobs dir
  (`HUASHEN_JOBS_DIR`) and temp dir (`TMPDIR`, where its /opt/huashen/lib copy lives), so the host can
  tell its sandboxes and files from any other grader's on this machine;
- a platform worker on the test database, with a different honeytoken in its environment (also set in
  this process: the web side);
- canary files on the host (/tmp, /root, a canary dir, a planted "other job" dir) holding random
  secrets, and canaries that would *pass* the trial if the host ever followed a link to them;
- TCP, UDP and unix-socket listeners on the host that record anything arriving;
- a sentinel process running as the sandbox account on the host (what a job could kill if it were not
  in its own PID namespace).

Both sandbox paths: `security` is parametrized over `cold` (every job through bwrap, HUASHEN_WARM_POOL=0)
and `warm` (the zygote pool of workers/sandbox/warm/pool.py; every attack must have run warm, and the
pool's own processes, the zygotes the grader publishes in $TMPDIR/huashen-zygotes-*.json and the spare
runs in the pool's cgroup, where no job's code ever runs, are not "left running").

`attacker` (per test, with `transactional_db`) syncs the fixture curriculum, makes a student and runs
attacks through `submission_create` → Redis `cpu` queue → grader → bwrap → check → `platform` queue →
platform worker → PostgreSQL, then checks from the host: see `Attacker.submit`.
"""

import contextlib
import hashlib
import json
import os
import pwd
import re
import secrets as secrets_module
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy
import pytest
import redis
from django.db import connection

from huashen.accounts.models import User
from huashen.accounts.services import user_create
from huashen.curriculum.models import Exercise
from huashen.curriculum.services import exercises_sync
from huashen.grading.models import Submission
from huashen.grading.services import submission_create
from tests.integration.conftest import WorkerProcess, _celery, start_grader, wait_for_result
from tests.security.attacks import Attack
from workers.protocol import event_stream_key
from workers.sandbox.policy import SANDBOX_USER
from workers.sandbox.warm.pool import POOL_CGROUP_MARK, REGISTRY_PREFIX

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "grading"
BUNDLE = FIXTURES / "01-sandbox" / "01-probe"
PROBE_TRIAL = "sandbox-probe"  # the fixture trial of BUNDLE
CONFINED_CGROUPS = ("/job-", "/test-", "/selftest-", "/huashen-probe-")  # names the runner gives jobs


# ---------------------------------------------------------------------------------------------------
# Host-side listeners


class Sinks(threading.Thread):
    """TCP and UDP on 0.0.0.0:port and a unix socket: records every connection or datagram that arrives."""

    def __init__(self, unix_path: Path) -> None:
        super().__init__(name="security-sinks", daemon=True)
        self.tcp = socket.create_server(("0.0.0.0", 0))  # noqa: S104 - the point is to listen everywhere
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("0.0.0.0", self.port))  # noqa: S104
        self.unix_path = unix_path
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(str(unix_path))
        unix_path.chmod(0o777)
        self.unix.listen()
        self.hits: list[str] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        sockets = [self.tcp, self.udp, self.unix]
        while not self.stopped.is_set():
            ready, _, _ = select.select(sockets, [], [], 0.2)
            for sock in ready:
                if sock is self.udp:
                    data, peer = sock.recvfrom(4096)
                    self.hits.append(f"udp from {peer}: {data[:64]!r}")
                else:
                    accepted, peer = sock.accept()
                    self.hits.append(f"{'tcp' if sock is self.tcp else 'unix'} connection from {peer!r}")
                    accepted.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()


# ---------------------------------------------------------------------------------------------------
# The module's host


@dataclass
class SecurityHost:
    base: Path  # /tmp/huashen-sec-*: jobs/, tmp/, logs, canary dir (0711, traversable by the sandbox account)
    jobs: Path
    tmp: Path
    redis_url: str
    database: dict
    secrets: dict[str, str]  # name -> random secret that must never leave where it was planted
    canary_tmp: Path
    canary_root: Path
    canary_dir: Path
    canary_npy: Path
    planted_job: Path
    sinks: Sinks
    sentinel: subprocess.Popen
    sandbox_uid: int
    host_ips: list[str]
    unix_sockets: list[str]
    path: str = "cold"  # the sandbox path under test: cold (bwrap per job) or warm (the zygote pool)
    warmed: bool = False
    grader: WorkerProcess = field(init=False)
    platform: WorkerProcess = field(init=False)

    def zygote_pids(self) -> set[int]:
        """The warm pool's own processes (bwrap, its init, the zygote), as the grader publishes them."""
        pids: set[int] = set()
        for registry in self.tmp.glob(f"{REGISTRY_PREFIX}*.json"):
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(pid) for pid in json.loads(registry.read_text()))
        return pids

    # -- rendering attacks ------------------------------------------------------------------------
    def facts(self, mark: str) -> dict[str, str]:
        """Placeholder → Python source text. Paths, ports and pids only: never a secret."""
        venv = Path(sys.prefix).resolve()
        site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        return {
            "__MARK__": mark,
            "__ROOT__": str(ROOT),
            "__BUNDLE__": str(BUNDLE),
            "__VENV__": str(venv),
            "__SITE_PACKAGES__": str(site),
            "__JOBS__": str(self.jobs),
            "__PLANTED_JOB__": str(self.planted_job),
            "__CANARY_TMP__": str(self.canary_tmp),
            "__CANARY_ROOT__": str(self.canary_root),
            "__CANARY_DIR__": str(self.canary_dir),
            "__CANARY_NPY__": str(self.canary_npy),
            "__REDIS_PORT__": str(urlparse(self.redis_url).port or 6379),
            "__PG_PORT__": str(self.database["PORT"] or 5432),
            "__SINK_PORT__": str(self.sinks.port),
            "__HOST_IPS__": repr(self.host_ips),
            "__UNIX_SOCKETS__": "*" + repr(self.unix_sockets),
            "__HOST_PIDS__": repr(self.host_pids()),
        }

    def render(self, text: str, mark: str) -> str:
        for placeholder, value in self.facts(mark).items():
            text = text.replace(placeholder, value)
        leftover = re.search(r"__[A-Z][A-Z_]*__", text)
        assert leftover is None, f"no value for {leftover.group()}"
        return text

    def host_pids(self) -> list[int]:
        """This process, both workers and the grader's pool processes, and the sentinel."""
        pids = [os.getpid(), self.grader.process.pid, self.platform.process.pid, self.sentinel.pid]
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                if (
                    entry.name.isdigit()
                    and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    == self.grader.process.pid
                ):
                    pids.append(int(entry.name))
        return pids

    # -- what the host sees ----------------------------------------------------------------------------
    def lib_digest(self) -> str:
        """A digest of the grader's /opt/huashen/lib copy (its TMPDIR/huashen-lib-*)."""
        paths = sorted(self.tmp.glob("huashen-lib-*/**/*"))
        if not paths:
            return ""  # made at the grader's first job
        digest = hashlib.sha256()
        for path in paths:
            digest.update(str(path).encode())
            if path.is_file():
                digest.update(path.read_bytes())
        return digest.hexdigest()

    def kernel_knobs(self) -> dict[str, str]:
        knobs = {}
        for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/hostname"):
            with contextlib.suppress(OSError):
                knobs[path] = Path(path).read_text()
        return knobs

    def leftover_processes(self) -> list[str]:
        """`processes_left()`, keeping only those still there after a second (a process of another
        grader on this machine can be caught mid-exit, out of its cgroup and without a command line)."""
        found = {line.split(" ", 2)[1]: line for line in self.processes_left()}
        for _ in range(5):
            if not found:
                break
            time.sleep(0.2)
            again = {line.split(" ", 2)[1]: line for line in self.processes_left()}
            found = {pid: line for pid, line in again.items() if pid in found}
        return list(found.values())

    def processes_left(self) -> list[str]:
        """Processes of the sandbox account that are this grader's (by ancestry or by their bound jobs
        dir), or that sit in no job cgroup at all (escaped confinement). The sentinel is excluded;
        other graders' confined jobs on this machine are not ours to judge."""
        table: dict[int, tuple[int, int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                status = Path(entry.path, "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields["State"].split()[0] in ("Z", "X"):
                continue  # dead and waiting to be reaped (by this container's init, for orphans): runs nothing
            table[int(entry.name)] = (int(fields["Uid"].split()[0]), int(fields["PPid"].split()[0]))
        found = []
        zygotes = self.zygote_pids()
        for pid, (uid, _ppid) in table.items():
            if uid != self.sandbox_uid or pid == self.sentinel.pid or pid in zygotes:
                continue
            with contextlib.suppress(OSError):
                if POOL_CGROUP_MARK in Path(f"/proc/{pid}/cgroup").read_text():
                    continue  # the warm pool's own processes (a spare run waiting): no job's code runs there
            ancestor, mine = pid, False
            while ancestor > 1 and ancestor in table:
                if ancestor == self.grader.process.pid:
                    mine = True
                    break
                ancestor = table[ancestor][1]
            try:
                cgroup = Path(f"/proc/{pid}/cgroup").read_text()
                mounts = Path(f"/proc/{pid}/mountinfo").read_text()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue  # it ended while we looked
            mine = mine or str(self.jobs) in mounts
            confined = any(marker in cgroup for marker in CONFINED_CGROUPS)
            if mine or not confined:
                found.append(f"pid {pid} ({'ours' if mine else 'unconfined'}): {cmdline[:200]}")
        return found

    def leftover_jobs(self) -> list[str]:
        left = [str(path) for path in self.jobs.iterdir() if path != self.planted_job]
        mounts = Path("/proc/self/mountinfo").read_text()
        left += [line for line in mounts.splitlines() if str(self.jobs) in line]
        return left

    def stream_text(self, submission_id: int) -> str:
        client = redis.Redis.from_url(self.redis_url)
        entries = client.xrange(event_stream_key(submission_id))
        return "\n".join(
            f"{entry_id!r} "
            + " ".join(f"{key!r}={value.decode('utf-8', 'replace')}" for key, value in fields.items())
            for entry_id, fields in entries
        )


def _host_ips() -> list[str]:
    listing = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=False)
    addresses = re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", listing.stdout)
    return [address for address in addresses if not address.startswith("127.")]


def _write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


@pytest.fixture(scope="module", params=["cold", "warm"])
def security(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[SecurityHost]:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.fail(
            "the security suite shares the Redis queues with its workers: run it in one process (make test does)"
        )
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        pytest.fail(f"the security suite needs {', '.join(missing)}: run it through `make test`")
    if os.geteuid() != 0:
        pytest.fail("the security suite runs as root, as CI and `make test` do: graders confine jobs as root")
    account = pwd.getpwnam(SANDBOX_USER)
    base = Path(tempfile.mkdtemp(prefix="huashen-sec-"))
    base.chmod(0o711)
    jobs, tmp = base / "jobs", base / "tmp"
    for folder in (jobs, tmp):
        folder.mkdir(mode=0o711)
        folder.chmod(0o711)
    secrets = {
        "grader honeytoken": f"grader-{uuid.uuid4()}",
        "platform honeytoken": f"platform-{uuid.uuid4()}",
        "/tmp canary": uuid.uuid4().hex,
        "/root canary": uuid.uuid4().hex,
        "canary dir": uuid.uuid4().hex,
        "planted job": uuid.uuid4().hex,
    }
    name = uuid.uuid4().hex[:12]
    canary_tmp = Path(f"/tmp/huashen-canary-{name}.json")
    canary_root = Path(f"/root/huashen-canary-{name}.json")
    canary_npy = Path(f"/tmp/huashen-canary-{name}.npy")
    sinks: Sinks | None = None
    sentinel: subprocess.Popen | None = None
    started: list[WorkerProcess] = []
    try:
        host = _plant(
            base, jobs, tmp, secrets, canary_tmp, canary_root, canary_npy, account, django_db_blocker
        )
        sinks, sentinel = host.sinks, host.sentinel
        host.path = request.param
        with pytest.MonkeyPatch.context() as patch:
            # The web side's secret: in this process (submission_create runs here) and the platform
            # worker. The SECRET prefix keeps it out of the grader's environment (start_grader drops it).
            patch.setenv("SECRET_HUASHEN_HONEYTOKEN", secrets["platform honeytoken"])
            host.grader = start_grader(
                {"redis": host.redis_url},
                FIXTURES,
                base / "grader.log",
                extra_env={
                    "HUASHEN_HONEYTOKEN": secrets["grader honeytoken"],
                    "HUASHEN_JOBS_DIR": str(jobs),
                    "TMPDIR": str(tmp),
                    "HUASHEN_WARM_POOL": "1" if host.path == "warm" else "0",
                },
            )
            started.append(host.grader)
            database = host.database
            env = {
                **os.environ,
                "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
                "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
                "REDIS_URL": host.redis_url,
                # Nothing may still be writing when a test's database is flushed: a comparison queued by
                # the last Submit would race the flush (these tests are about the sandbox, not it).
                "SIMILARITY_ON_SUBMIT": "0",
            }
            redis.Redis.from_url(host.redis_url).delete("platform")
            host.platform = WorkerProcess(
                [*_celery("huashen", "platform"), "-P", "solo"], env, base / "platform.log"
            )
            started.append(host.platform)
            yield host
    finally:
        for worker in started:
            worker.stop()
        if sentinel is not None:
            sentinel.kill()
            sentinel.wait()
        if sinks is not None:
            sinks.stop()
        for path in (canary_tmp, canary_root, canary_npy):
            path.unlink(missing_ok=True)
        shutil.rmtree(base, ignore_errors=True)


def _plant(
    base: Path,
    jobs: Path,
    tmp: Path,
    secrets: dict[str, str],
    canary_tmp: Path,
    canary_root: Path,
    canary_npy: Path,
    account: pwd.struct_passwd,
    django_db_blocker: Any,
) -> SecurityHost:
    """The canaries, the planted job, the listeners and the sentinel; fresh submission ids."""

    def canary(secret: str) -> bytes:  # would pass the trial if the host ever read it as observations
        return json.dumps({"answer": 1729, "canary": secret}).encode()

    _write(canary_tmp, canary(secrets["/tmp canary"]))
    _write(canary_root, canary(secrets["/root canary"]))
    canary_dir = base / "canary"
    _write(canary_dir / "observations.json", canary(secrets["canary dir"]))
    _write(canary_dir / "error.json", canary(secrets["canary dir"]))
    _write(canary_dir / "value.txt", secrets["canary dir"].encode())  # what sandbox-verify's verify.py reads
    buffer = base / "answer.npy"
    numpy.save(buffer, numpy.asarray([1729], dtype=numpy.int64), allow_pickle=False)
    _write(canary_dir / "arrays" / "answer.npy", buffer.read_bytes())
    _write(canary_npy, buffer.read_bytes())
    buffer.unlink()
    for folder in (canary_dir, canary_dir / "arrays"):
        folder.chmod(0o755)
    planted_job = jobs / "job-0-planted"
    _write(planted_job / "solution.py", f"SECRET = {secrets['planted job']!r}\n".encode())
    planted_job.chmod(0o755)
    database = dict(connection.settings_dict)
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Submission ids far from any earlier run's: stream keys (huashen:submission:<id>:events) live an
        # hour in Redis, and a fresh test database would reuse ids 1, 2, ... and read stale events.
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
            [Submission._meta.db_table, secrets_module.randbelow(10**9) + 10**6],
        )
    unix_sockets = [str(base / "sink.sock")]
    unix_sockets += [str(path) for path in ROOT.glob(f"var/*/pgsock/.s.PGSQL.{database['PORT']}")]
    sinks = Sinks(base / "sink.sock")
    sinks.start()
    sentinel = subprocess.Popen(
        ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups",
         "--", "sleep", "3600"]
    )  # fmt: skip
    return SecurityHost(
        base=base, jobs=jobs, tmp=tmp, redis_url=os.environ["REDIS_URL"], database=database,
        secrets=secrets, canary_tmp=canary_tmp, canary_root=canary_root, canary_dir=canary_dir,
        canary_npy=canary_npy, planted_job=planted_job, sinks=sinks, sentinel=sentinel,
        sandbox_uid=account.pw_uid, host_ips=_host_ips(), unix_sockets=unix_sockets,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# Running one attack and checking it from the host


@dataclass
class Outcome:
    submission: Submission
    seconds: float
    stream: str


class Attacker:
    def __init__(self, host: SecurityHost, student: User) -> None:
        self.host = host
        self.student = student

    def submit(self, attack: Attack, *, mark: str | None = None) -> Outcome:
        """Send `attack` through the real path, then check everything the host can see.

        Every attack, whatever it tried: the verdict is one the attack allows (never `passed`, except
        for the controls), the score is 0; the attack's code ran (its `ran:` line is in the stored log
        and the Redis stream); no secret appears in the submission row (code excluded), its Redis stream or either worker's
        log; no process of the sandbox account is left from this grader, none escaped its job cgroup;
        the jobs dir holds no job and no mount; the grader's lib copy and the kernel knobs are as they
        were; no listener received anything; the sentinel and both workers are alive; the host files
        the attack aimed at do not exist.
        """
        host = self.host
        mark = mark or uuid.uuid4().hex[:12]
        code = host.render(attack.code, mark)
        for name, secret in host.secrets.items():
            assert secret not in code, f"the attack code must not carry the {name}"
        lib_before, knobs_before = host.lib_digest(), host.kernel_knobs()
        grader_log_before, platform_log_before = len(host.grader.output()), len(host.platform.output())
        exercise = Exercise.objects.get(slug=attack.trial)
        started = time.monotonic()
        submission = submission_create(user=self.student, exercise=exercise, code=code, mode="submit")
        try:
            submission = wait_for_result(submission, host.grader, host.platform, timeout=attack.wait_seconds)
        except AssertionError as error:
            raise AssertionError(
                f"{attack.name}: {str(error)[:300]}\nthe platform worker's log meanwhile:\n"
                + host.platform.output()[platform_log_before:][-5000:]
            ) from None
        seconds = time.monotonic() - started
        stream = host.stream_text(submission.pk)
        row = json.dumps(
            {key: getattr(submission, key) for key in (
                "verdict", "score", "checks", "resources", "device", "versions", "message", "traceback", "log",
            )},
            ensure_ascii=False, default=str,
        )  # fmt: skip
        surfaces = {
            "the submission row": row,
            "the Redis event stream": stream,
            "the grader worker's log": host.grader.output(),
            "the platform worker's log": host.platform.output(),
        }
        problems = []
        for name, secret in host.secrets.items():
            problems += [
                f"the {name} leaked into {where}" for where, text in surfaces.items() if secret in text
            ]
        if f"ran:{mark}" not in row or f"ran:{mark}" not in stream:
            problems.append("the attack's ran: line is missing from the log or the stream: did it run?")
        problems += [f"left running: {line}" for line in host.leftover_processes()]
        problems += [f"left in the jobs dir: {line}" for line in host.leftover_jobs()]
        if lib_before and host.lib_digest() != lib_before:
            problems.append("the grader's /opt/huashen/lib copy changed on the host")
        if host.kernel_knobs() != knobs_before:
            problems.append(f"kernel knobs changed: {knobs_before} -> {host.kernel_knobs()}")
        problems += [f"a host listener received: {hit}" for hit in host.sinks.hits]
        host.sinks.hits.clear()
        if host.sentinel.poll() is not None:
            problems.append("the sandbox account's sentinel process on the host was killed")
        for template in attack.host_paths:
            path = host.render(template, mark)
            if os.path.lexists(path):
                problems.append(f"the attack created {path} on the host")
                Path(path).unlink()
        if submission.verdict not in attack.verdicts:
            problems.append(f"verdict {submission.verdict!r}, expected one of {attack.verdicts}")
        if (
            attack.explains
            and submission.verdict == "error"
            and attack.explains not in submission.message["en"]
        ):
            problems.append(f"the error's message does not say {attack.explains!r}: {submission.message}")
        if "passed" not in attack.verdicts and submission.score:
            problems.append(f"score {submission.score}, expected 0")
        if seconds > attack.max_seconds:
            problems.append(f"took {seconds:.1f} s, over {attack.max_seconds} s")
        ran_on = _sandbox_path(host.grader.output()[grader_log_before:], submission.pk)
        if ran_on != host.path:
            problems.append(f"the job ran on the {ran_on} path, not the {host.path} path under test")
        summary = json.dumps(
            {"verdict": submission.verdict, "score": submission.score, "seconds": round(seconds, 2),
             "resources": submission.resources, "checks": submission.checks,
             "traceback": submission.traceback[-1500:],
             "log": [event.get("payload") for event in submission.log][-30:]},
            ensure_ascii=False, indent=1, default=str,
        )[-6000:]  # fmt: skip
        if problems:
            summary += "\nthe grader's log meanwhile:\n" + host.grader.output()[grader_log_before:][-4000:]
        if transcript := os.environ.get("HUASHEN_SECURITY_TRANSCRIPT"):  # an auditor's record of every case
            with open(transcript, "a") as record:
                record.write(
                    json.dumps({"attack": attack.name, "problems": problems, "summary": summary}) + "\n"
                )
        assert not problems, "\n".join(problems) + "\n" + summary
        return Outcome(submission, seconds, stream)


def _sandbox_path(grader_log: str, submission_id: int) -> str:
    """Which path the grader says it ran this submission's job on (workers/grader.py logs it)."""
    if f"submission {submission_id}: warm sandbox run" in grader_log:
        return "warm"
    return "cold"


def _warm_up(host: SecurityHost, student: User) -> None:
    """The warm pool starts at the grader's first job (which runs cold) and must pass its own self-test
    before any job runs warm: send one job, then wait for the pool."""
    exercise = Exercise.objects.get(slug=PROBE_TRIAL)
    submission = submission_create(user=student, exercise=exercise, code="print('warm-up')\n", mode="submit")
    wait_for_result(submission, host.grader, host.platform, timeout=120)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        log = host.grader.output()
        if "the warm sandbox passed its self-test" in log and host.zygote_pids():
            host.warmed = True
            return
        if "the warm sandbox failed its self-test" in log or "the warm sandbox did not start" in log:
            break
        time.sleep(0.2)
    pytest.fail("the grader's warm pool did not come up:\n" + host.grader.output()[-5000:])


@pytest.fixture
def attacker(security: SecurityHost, transactional_db: None) -> Attacker:
    result = exercises_sync(root=FIXTURES)
    assert result.ok, result.errors
    # No password: hashing one costs about half a second, and this student never signs in.
    student = user_create(username=f"attacker-{uuid.uuid4().hex[:8]}", password=None)  # type: ignore[arg-type]
    if security.path == "warm" and not security.warmed:
        _warm_up(security, student)
    return Attacker(security, student)
