"""The warm sandbox pool over real bwrap: the same confinement as a cold run, nothing shared between runs.

These run as root with cgroups, like tests/sandbox (make test does). Each module-level pool is one
zygote; the tests talk to it through `WarmPool.run`, which is what the grader calls.
"""

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from workers.protocol import Limits
from workers.sandbox import cgroups
from workers.sandbox.policy import SANDBOX_USER, SandboxPolicy
from workers.sandbox.runner import SandboxOutcome, job_dir, job_name, sandbox_account
from workers.sandbox.selftest import warm_self_test
from workers.sandbox.warm.pool import POOL_CGROUP_MARK, PoolSetup, WarmPool, WarmUnavailable, registry_path

# Room for the preloaded torch a warm run is charged for (about 280 MB), as a trial's limit has.
LIMITS = Limits(wall_seconds=10, cpu_seconds=10, memory_mb=640, pids=32, output_kb=64, disk_mb=16)


@pytest.fixture(scope="module")
def lib() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="huashen-test-lib-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture(scope="module")
def pool(lib: Path) -> Iterator[WarmPool]:
    assert os.geteuid() == 0, "the warm sandbox tests run as root (make test does)"
    assert cgroups.available() is None
    warm = WarmPool(PoolSetup(lib_dir=lib, torch_home=None, devices=(), threads=1), self_test=warm_self_test)
    warm.start(wait=True)
    assert warm.problems == [] and warm.ready() is not None, warm.problems
    yield warm
    warm.close()


def ready(pool: WarmPool) -> None:
    """Wait for a live, verified zygote (a test may have replaced it)."""
    deadline = time.monotonic() + 120
    while pool.ready() is None:
        assert time.monotonic() < deadline, f"no zygote: {pool.problems}"
        time.sleep(0.1)


def run(
    pool: WarmPool, code: str, lib: Path, limits: Limits = LIMITS, env: dict[str, str] | None = None
) -> tuple[SandboxOutcome, str, list[dict]]:
    ready(pool)
    output: list[str] = []
    events: list[dict] = []
    name = job_name("warmtest")
    with job_dir(name, size_mb=limits.disk_mb) as work:
        (work / "job.py").write_text(code)
        (work / "job.py").chmod(0o644)
        policy = SandboxPolicy.for_job(
            work_dir=work, lib_dir=lib, script="/work/job.py", env=env or {}, tmp_bytes=16 << 20
        )
        outcome = pool.run(
            policy, limits, job_name=name, on_output=lambda stream, text: output.append(text),
            on_event=events.append,
        )  # fmt: skip
    return outcome, "".join(output), events


def facts_of(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_a_warm_run_is_confined_like_a_cold_one(pool: WarmPool, lib: Path) -> None:
    outcome, output, events = run(
        pool,
        "import os, json, socket\n"
        "status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())\n"
        "facts = {'uid': os.getuid(), 'pid': os.getpid(), 'env': dict(os.environ),\n"
        "         'caps': [status[k].strip() for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb')],\n"
        "         'nnp': status['NoNewPrivs'].strip(), 'seccomp': status['Seccomp'].strip(),\n"
        "         'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),\n"
        "         'hostname': socket.gethostname(), 'interfaces': sorted(n for _, n in socket.if_nameindex()),\n"
        "         'work': sorted(os.listdir('/work')), 'cwd': os.getcwd()}\n"
        "try:\n    open('/proc/1/environ').read(); facts['init_environ'] = 'readable'\n"
        "except OSError:\n    facts['init_environ'] = 'hidden'\n"
        "for path in ('/usr/x', '/opt/huashen/lib/x', '/opt/huashen/zygote/x', '/x'):\n"
        "    try:\n        open(path, 'w'); facts['wrote ' + path] = True\n    except OSError:\n        pass\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=1); facts['net'] = True\n"
        "except OSError as e:\n    facts['net'] = str(e)\n"
        "try:\n    os.unshare(os.CLONE_NEWUSER) if hasattr(os, 'unshare') else None\n"
        "except OSError:\n    pass\n"
        'os.write(3, b\'{"kind": "metric", "loss": 0.5}\\n\')\n'
        "print(json.dumps(facts))\n",
        lib,
        env={"HUASHEN_MODE": "submit"},
    )
    facts = facts_of(output)
    assert outcome.exit_code == 0 and outcome.confined and outcome.tree_dead, outcome
    assert facts["uid"] == 65534 and facts["pid"] == 2 and facts["pids"] == [1, 2]
    assert facts["caps"] == ["0000000000000000"] * 5
    assert facts["nnp"] == "1" and facts["seccomp"] == "2"
    assert facts["hostname"] == "sandbox" and facts["interfaces"] == ["lo"]
    assert facts["net"] is not True and not [key for key in facts if key.startswith("wrote")]
    assert facts["work"] == ["job.py"] and facts["cwd"] == "/work"
    assert facts["init_environ"] == "hidden"
    # Exactly the clean environment the cold path gives (policy.for_job), nothing of this process's.
    assert (
        facts["env"]
        == SandboxPolicy.for_job(
            work_dir=Path("/"), lib_dir=lib, script="x", env={"HUASHEN_MODE": "submit"}, tmp_bytes=1
        ).env
    )
    assert events == [{"kind": "metric", "loss": 0.5}]


def test_no_state_from_one_run_is_visible_to_the_next(pool: WarmPool, lib: Path) -> None:
    leave = (
        "import os, json, torch, random\n"
        "open('/tmp/left-behind', 'w').write('x')\n"
        "open('/dev/shm/left-behind', 'w').write('x')\n"
        "json.huashen_left_behind = True\n"
        "torch.huashen_left_behind = True\n"
        "os.environ['HUASHEN_LEFT_BEHIND'] = '1'\n"
        "torch.manual_seed(1234)\n"
        "print(torch.rand(3).tolist())\n"
    )
    look = (
        "import os, json, sys, torch\n"
        "print(json.dumps({'tmp': os.listdir('/tmp'), 'shm': os.listdir('/dev/shm'),\n"
        "    'json': hasattr(json, 'huashen_left_behind'), 'torch': hasattr(torch, 'huashen_left_behind'),\n"
        "    'env': 'HUASHEN_LEFT_BEHIND' in os.environ, 'solution': 'solution' in sys.modules,\n"
        "    'rand': torch.rand(3).tolist()}))\n"
    )
    first, first_output, _ = run(pool, leave, lib)
    assert first.exit_code == 0, first_output
    seeded = json.loads(first_output.strip().splitlines()[-1])
    _second, output, _ = run(pool, look, lib)
    facts = facts_of(output)
    assert facts["tmp"] == [] and facts["shm"] == []
    assert not facts["json"] and not facts["torch"] and not facts["env"] and not facts["solution"]
    assert facts["rand"] != seeded


def test_every_run_reseeds_every_generator(pool: WarmPool, lib: Path) -> None:
    code = (
        "import json, random, numpy, torch\n"
        "print(json.dumps([torch.rand(4).tolist(), numpy.random.rand(4).tolist(), random.random()]))\n"
    )
    first = facts_of(run(pool, code, lib)[1])
    second = facts_of(run(pool, code, lib)[1])
    for a, b in zip(first, second, strict=True):
        assert a != b
    # The zygote never seeds: its torch state is torch's fixed default seed, which a fresh generator
    # has too. Without the reseed every run would draw exactly this.
    zygote_draw = torch.rand(4, generator=torch.Generator()).tolist()
    assert torch.Generator().initial_seed() == 67280421310721
    assert first[0] != zygote_draw and second[0] != zygote_draw


def test_the_zygote_runs_as_the_sandbox_account_never_root(pool: WarmPool) -> None:
    ready(pool)
    zygote = pool.zygote
    assert zygote is not None
    account = sandbox_account()
    assert account is not None and account.pw_name == SANDBOX_USER
    for pid in zygote.pids:
        status = Path(f"/proc/{pid}/status").read_text()
        uids = status.split("Uid:")[1].split()[:4]
        assert uids == [str(account.pw_uid)] * 4, (pid, uids)
        assert status.split("CapEff:")[1].split()[0] == "0000000000000000" or pid != zygote.chain_pid
    # Its capabilities exist only in its own user namespace, not the host's.
    assert os.readlink(f"/proc/{zygote.pid}/ns/user") != os.readlink("/proc/self/ns/user")
    assert set(zygote.pids) <= set(json.loads(registry_path().read_text()))


def test_a_crashed_zygote_is_replaced(pool: WarmPool, lib: Path) -> None:
    ready(pool)
    old = pool.zygote
    assert old is not None
    os.kill(old.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while old.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not old.alive()
    with pytest.raises(WarmUnavailable):
        pool.run(
            SandboxPolicy.for_job(work_dir=lib, lib_dir=lib, script="/work/x.py", env={}, tmp_bytes=1 << 20),
            LIMITS, job_name=job_name("warmtest"), on_output=lambda *a: None, on_event=lambda e: None,
            zygote=old,
        )  # fmt: skip
    outcome, output, _ = run(pool, "print('after the crash')", lib)
    assert outcome.exit_code == 0 and output == "after the crash\n"
    assert pool.zygote is not None and pool.zygote is not old and pool.zygote.pid != old.pid


def test_a_runs_memory_limit_applies(pool: WarmPool, lib: Path) -> None:
    outcome, _output, _events = run(pool, "x = bytearray(1024 ** 3)\nprint('survived')", lib)
    assert outcome.memory_exceeded and outcome.tree_dead, outcome
    # The zygote was not the one that paid: the next run works.
    assert run(pool, "print('ok')", lib)[1] == "ok\n"


@pytest.mark.parametrize(
    "code, flag",
    [
        ("while True: pass", "timed_out"),
        ("print('x' * 10 ** 6)", "output_exceeded"),
        ("import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)", "violation"),
        ("import ctypes; ctypes.CDLL(None).mount(b'none', b'/tmp', b'tmpfs', 0, None)", "violation"),
    ],
)
def test_limits_end_the_run_and_say_why(pool: WarmPool, lib: Path, code: str, flag: str) -> None:
    limits = Limits(wall_seconds=3, cpu_seconds=10, memory_mb=640, pids=32, output_kb=64, disk_mb=16)
    outcome, _output, _events = run(pool, code, lib, limits)
    assert getattr(outcome, flag), outcome
    assert outcome.tree_dead


def test_cpu_time_and_processes_are_limited(pool: WarmPool, lib: Path) -> None:
    limits = Limits(wall_seconds=20, cpu_seconds=1, memory_mb=640, pids=32, output_kb=64, disk_mb=16)
    outcome, _output, _events = run(pool, "while True: pass", lib, limits)
    assert outcome.cpu_exceeded and not outcome.timed_out, outcome
    outcome, output, _events = run(
        pool,
        "import os\nn = 0\ntry:\n    for _ in range(100):\n        if os.fork() == 0:\n"
        "            import time; time.sleep(30)\n        n += 1\nexcept OSError:\n    pass\nprint(n)\n",
        lib,
    )
    assert int(output.strip().splitlines()[-1]) < LIMITS.pids and outcome.tree_dead


def test_an_orphan_does_not_outlive_its_run(pool: WarmPool, lib: Path) -> None:
    outcome, _output, _events = run(
        pool, "import os, time\nif os.fork() == 0:\n    os.setsid(); time.sleep(60)\n", lib
    )
    assert outcome.exit_code == 0 and outcome.tree_dead
    zygote = pool.zygote
    assert zygote is not None
    # The run's keeper and init exit just after its status came; the orphan would sleep a minute, so a
    # generous bound for a loaded machine still tells the two apart.
    deadline = time.monotonic() + 20
    while (left := outside_the_pool(zygote.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == [], "a run's process outlived it"


def outside_the_pool(zygote: int) -> list[str]:
    """The zygote's live descendants outside its own cgroup (only the spare run, C, G and H, may be
    there, all in the pool's cgroup)."""
    left = []
    for pid in descendants(zygote):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue  # exited, waiting to be reaped: runs nothing
            cgroup = Path(f"/proc/{pid}/cgroup").read_text()
            if POOL_CGROUP_MARK not in cgroup:
                left.append(f"{pid}: {stat[:80]} {cgroup.splitlines()[:2]}")
    return left


def descendants(root: int) -> list[int]:
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        with contextlib.suppress(OSError):
            children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            found += children
            frontier += children
    return found


def test_dev_is_read_only_and_nothing_written_there_reaches_the_next_run(pool: WarmPool, lib: Path) -> None:
    """The runs of a zygote share its /dev: it must not be a channel between two students' jobs."""
    from tests.sandbox.test_runner import DEV_WRITE

    outcome, output, _ = run(pool, DEV_WRITE, lib)
    assert outcome.exit_code == 0, output
    assert "refused /dev/left-behind 30" in output and "refused /dev/left-dir 30" in output  # EROFS
    assert "wrote /dev/null" in output and "wrote /dev/shm/ok" in output
    _second, output, _ = run(
        pool, "import os\nprint(sorted(os.listdir('/dev')), os.listdir('/dev/shm'))", lib
    )
    assert "left" not in output and "'ok'" not in output, output


def test_a_warm_run_is_charged_for_the_preloaded_torch(pool: WarmPool, lib: Path) -> None:
    """A cold job pays for its own `import torch`; a warm one for the zygote's, so one limit means the
    same on both paths (tests/warm/test_grader_warm.py compares the verdicts)."""
    ready(pool)
    assert pool.zygote is not None and 150 << 20 < pool.zygote.preloaded_bytes < 600 << 20
    outcome, output, _ = run(pool, "x = bytearray(250 << 20)\nprint('fits')", lib)  # 640 MB limit
    assert outcome.exit_code == 0 and output == "fits\n", (outcome, output)
    assert outcome.peak_memory_mb > 250 + (pool.zygote.preloaded_bytes >> 20)
    outcome, output, _ = run(pool, "x = bytearray(450 << 20)\nprint('fits')", lib)
    assert outcome.memory_exceeded and output == "", (outcome, output)
    small = Limits(wall_seconds=10, cpu_seconds=10, memory_mb=256, pids=32, output_kb=64, disk_mb=16)
    with pytest.raises(WarmUnavailable, match="no room"):
        run(pool, "print('a limit under the preloaded share runs cold')", lib, small)
