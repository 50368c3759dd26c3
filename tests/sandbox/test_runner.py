"""The sandbox, run for real (bwrap, cgroups, seccomp): what the host observes after each kind of job.

These need root (CI and `make test` run as root) so the job can be confined by cgroups.
"""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from workers.protocol import Limits
from workers.sandbox import cgroups
from workers.sandbox.policy import SandboxPolicy
from workers.sandbox.runner import (
    SandboxOutcome,
    job_dir,
    job_name,
    jobs_base,
    reclaim_stale_jobs,
    run_sandboxed,
)
from workers.sandbox.selftest import self_test

LIMITS = Limits(wall_seconds=5, cpu_seconds=5, memory_mb=256, pids=32, output_kb=64, disk_mb=16)


@pytest.fixture(scope="module")
def lib() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="huashen-test-lib-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def run(
    code: str, lib: Path, limits: Limits = LIMITS, name: str = ""
) -> tuple[SandboxOutcome, str, list[dict]]:
    output: list[str] = []
    events: list[dict] = []
    name = name or f"test-{os.getpid()}-{abs(hash(code)) % 10**8}"
    with job_dir(name, size_mb=limits.disk_mb) as work:
        (work / "job.py").write_text(code)
        (work / "job.py").chmod(0o644)
        policy = SandboxPolicy.for_job(
            work_dir=work, lib_dir=lib, script="/work/job.py", env={}, tmp_bytes=16 << 20
        )
        outcome = run_sandboxed(
            policy, limits, job_name=name, on_output=lambda stream, text: output.append(text),
            on_event=events.append, require_cgroups=True,
        )  # fmt: skip
    return outcome, "".join(output), events


def test_this_machine_can_confine_jobs() -> None:
    assert os.geteuid() == 0, "the sandbox tests run as root (make test does)"
    assert cgroups.available() is None


def test_a_plain_job_runs_unprivileged_without_network_or_launcher_environment(lib: Path) -> None:
    outcome, output, events = run(
        "import os, json, socket\n"
        "facts = {'uid': os.getuid(), 'caps': open('/proc/self/status').read().split('CapEff:')[1].split()[0],\n"
        "         'environ': open('/proc/1/environ').read(), 'env': sorted(os.environ)}\n"
        "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=1); facts['net'] = True\n"
        "except OSError as e:\n    facts['net'] = str(e)\n"
        'os.write(3, b\'{"kind": "metric", "loss": 0.5}\\n\')\n'
        "print(json.dumps(facts))\n",
        lib,
    )
    facts = json.loads(output)
    assert outcome.exit_code == 0 and outcome.confined and outcome.tree_dead
    assert facts["uid"] == 65534 and facts["caps"] == "0000000000000000"
    assert facts["environ"] == "" and "SECRET_KEY" not in facts["env"]
    assert facts["net"] is not True
    assert events == [{"kind": "metric", "loss": 0.5}]


@pytest.mark.parametrize(
    "code, flag",
    [
        ("x = bytearray(1024 ** 3)", "memory_exceeded"),
        ("while True: pass", "timed_out"),
        ("import time; time.sleep(60)", "timed_out"),
        ("print('x' * 10 ** 6)", "output_exceeded"),
        ("import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)", "violation"),
    ],
)
def test_limits_end_the_job_and_say_why(lib: Path, code: str, flag: str) -> None:
    outcome, _output, _events = run(code, lib)
    assert getattr(outcome, flag), outcome
    assert outcome.tree_dead
    # Without the limit these run a minute or forever; the margin is for a loaded machine, not a target.
    assert outcome.wall_seconds < LIMITS.wall_seconds + 20


def test_a_fork_bomb_is_contained_by_the_pids_limit(lib: Path) -> None:
    outcome, _output, _events = run(
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", lib
    )
    assert outcome.timed_out and outcome.tree_dead


def test_cpu_time_is_limited_separately_from_the_wall_clock(lib: Path) -> None:
    limits = Limits(wall_seconds=20, cpu_seconds=1, memory_mb=256, pids=32, output_kb=64, disk_mb=16)
    outcome, _output, _events = run("while True: pass", lib, limits)
    # Not timed out means the CPU limit ended it before the 20 s wall clock, however loaded the machine.
    assert outcome.cpu_exceeded and not outcome.timed_out


def test_an_orphan_does_not_outlive_its_job(lib: Path) -> None:
    outcome, output, _events = run(
        "import os, time\nif os.fork() == 0:\n    os.setsid(); time.sleep(600)\nprint('parent done')\n", lib
    )
    assert outcome.exit_code == 0 and "parent done" in output and outcome.tree_dead


def test_job_dirs_and_cgroups_are_gone_afterwards(lib: Path) -> None:
    name = f"test-leftovers-{os.getpid()}"
    run("open('/work/left-behind', 'w').write('x')", lib, name=name)
    assert not (jobs_base() / name).exists()
    parents = cgroups._job_parents().values()
    assert parents and not any((parent / name).exists() for parent in parents)


def test_leftovers_of_a_dead_grader_are_reclaimed(lib: Path) -> None:
    dead = job_name("dead")
    dead = dead.replace(f"-p{os.getpid()}-", "-p999999-")  # a grader pid that does not exist
    live = job_name("live")
    for name in (dead, live):
        (jobs_base() / name).mkdir(parents=True)
    group = cgroups.JobCgroup(dead, memory_bytes=64 << 20, pids=8).__enter__()
    try:
        reclaimed = reclaim_stale_jobs()
        assert dead in reclaimed and f"cgroup {dead}" in reclaimed
        assert not (jobs_base() / dead).exists() and (jobs_base() / live).exists()
        assert dead not in cgroups.stale_job_groups()
    finally:
        group.remove()
        (jobs_base() / live).rmdir()


def test_file_size_is_capped(lib: Path) -> None:
    outcome, output, _events = run(
        "try:\n    open('/work/big', 'wb').write(b'x' * (64 * 1024 * 1024))\nexcept OSError as e:\n    print('refused', e.errno)\n",
        lib,
    )
    assert "refused" in output, (outcome, output)


def test_the_self_test_passes_here_and_fails_closed_without_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    assert self_test(require_cgroups=True) == []
    monkeypatch.setenv("PATH", "/nonexistent")
    problems = self_test(require_cgroups=True)
    assert problems and "bwrap" in problems[0]


DEV_WRITE = (
    "import os\n"
    "for path in ('/dev/left-behind', '/dev/null', '/dev/shm/ok'):\n"
    "    try:\n        open(path, 'w').write('x'); print('wrote', path)\n"
    "    except OSError as error:\n        print('refused', path, error.errno)\n"
    "try:\n    os.mkdir('/dev/left-dir'); print('wrote /dev/left-dir')\n"
    "except OSError as error:\n    print('refused /dev/left-dir', error.errno)\n"
    "print(sorted(os.listdir('/dev')))\n"
)


def test_dev_is_read_only_but_its_nodes_and_shm_work(lib: Path) -> None:
    outcome, output, _events = run(DEV_WRITE, lib)
    assert outcome.exit_code == 0, output
    assert "refused /dev/left-behind 30" in output and "refused /dev/left-dir 30" in output  # EROFS
    assert "wrote /dev/null" in output and "wrote /dev/shm/ok" in output
    assert "left" not in output.splitlines()[-1]
