"""Trial 1.3's fresh processes: forks of the student's process with fresh generator state.

The probe's `fresh_processes` runs here in a subprocess that plays the agent: torch imported and run on
2 threads, the student's module loaded, every global generator in a known state. The student's file
records, in each child, what it saw (its import-time draws, its parent, the agent's module state), so
the tests can tell a fork that kept the agent's generators, or its `solution` module, from a fresh one.
The last tests grade the trial through the real sandbox, cold and warm.
"""

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.golden.test_golden import grade_solution
from workers.grader import Grader
from workers.protocol import Verdict

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "exercises" / "01-tensors" / "03-reproducibility"
PROBE = BUNDLE / "probe.py"

AGENT = """
import importlib.util, json, os, random, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import torch

torch.set_num_threads(2)
a = torch.rand(1000, 1000)
(a @ a).sum()  # the agent's OpenMP pool is running when it forks


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


probe = load("huashen_probe", sys.argv[2])
work = sys.argv[3]
probe.CHILD_TIMEOUT = float(sys.argv[4])
os.chdir(work)
solution = load("solution", os.path.join(work, "solution.py"))
getattr(solution, "STATE", []).append("set in the agent")
sys.modules["huashen_fork_marker"] = object()  # in a fork's sys.modules, never in a new interpreter's

torch.manual_seed(0)
np.random.seed(0)
random.seed(0)
states = torch.get_rng_state(), np.random.get_state()
following = {"torch": torch.rand(()).item(), "numpy": float(np.random.rand())}
torch.set_rng_state(states[0])
np.random.set_state(states[1])

events, write_end = os.pipe()  # fd 3: the agent's metric pipe to the driver
if events == 3:
    events, first = os.dup(events), events
    os.close(first)
if write_end != 3:
    os.dup2(write_end, 3)
    os.close(write_end)
results = probe.fresh_processes(os.path.join(work, "solution.py"), work, 2)
os.close(3)
os.set_blocking(events, False)
try:
    relayed = os.read(events, 65536).decode("utf-8", "replace")
except BlockingIOError:
    relayed = "(still open)"
left = []
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():  # a child not reaped, or still running
            left.append(int(entry))
print(json.dumps({"pid": os.getpid(), "results": results, "following": following, "left": left, "relayed": relayed}))
"""

RECORDING = """
import json, os, random, sys
import numpy as np
import torch
from torch.utils.data import DataLoader

print(f"imported in {os.getpid()}")
AT_IMPORT = {"torch": torch.rand(()).item(), "numpy": float(np.random.rand()), "random": random.random()}
STATE = []


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def seed_worker(worker_id):
    np.random.seed(torch.initial_seed() % 2**32)
    random.seed(torch.initial_seed() % 2**32)


def make_loader(dataset, batch_size, seed):
    record = {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "at_import": AT_IMPORT,
        "state": list(STATE),
        "forked": "huashen_fork_marker" in sys.modules,
        "pgid": os.getpgid(0),
    }
    with open(f"child-{os.getpid()}.json", "w") as handle:
        json.dump(record, handle)
    try:
        os.write(3, b"a line from the child\\n")  # the agent's metric pipe: not the child's
    except OSError:
        pass
    a = torch.rand(1000, 1000)
    (a @ a).sum()  # math in the child must not wait on the agent's OpenMP threads
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=2,
        persistent_workers=True,
        worker_init_fn=seed_worker,
        generator=torch.Generator().manual_seed(seed),
    )
"""

UNSEEDED = """
from torch.utils.data import DataLoader


def make_loader(dataset, batch_size, seed):
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=2)
"""

HANGING = """
import os, time


def make_loader(dataset, batch_size, seed):
    pid = os.fork()
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    with open(f"grandchild-{os.getpid()}", "w") as handle:
        handle.write(str(pid))
    time.sleep(600)
"""


def run_agent(tmp_path: Path, solution: str, *, timeout: float = 30) -> tuple[dict, str, Path]:
    """Run the probe's fresh processes from a stand-in agent; `timeout` is the probe's CHILD_TIMEOUT."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "solution.py").write_text(solution, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8", "OMP_NUM_THREADS": "2"}
    completed = subprocess.run(
        [sys.executable, "-I", "-B", "-c", AGENT, str(REPO), str(PROBE), str(work), str(timeout)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout + 90,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1]), completed.stderr, work


def orders(result: dict) -> list[list[int]]:
    return [[sample["index"] for sample in epoch] for epoch in result["epochs"]]


def stat(pid: int) -> list[bytes] | None:
    """/proc/<pid>/stat's fields after the command name (state, ppid, pgrp, …), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    fields = stat(pid)
    return fields is not None and fields[0] != b"Z"


def settled(condition: Callable[[], bool], seconds: float = 10) -> bool:
    """Whether `condition()` holds within `seconds`: a SIGKILL is sent at once but takes effect a moment later."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def in_group(pgid: int) -> list[int]:
    """The live processes of process group `pgid`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat(int(entry))) and int(fields[2]) == pgid and fields[0] != b"Z":
            found.append(int(entry))
    return found


def test_the_children_are_forks_with_fresh_generators_and_a_new_module(tmp_path: Path) -> None:
    agent, stderr, work = run_agent(tmp_path, RECORDING)
    records = [json.loads(path.read_text()) for path in sorted(work.glob("child-*.json"))]
    assert len(records) == 2, agent["results"]
    first, second = records
    # forks of the agent (a new interpreter has no huashen_fork_marker), each in its own process group
    assert [record["forked"] for record in records] == [True, True]
    assert {record["ppid"] for record in records} == {agent["pid"]}
    assert first["pid"] != second["pid"]
    assert [record["pgid"] for record in records] == [record["pid"] for record in records]
    # solution.py imported anew: the agent's module state is not there
    assert [record["state"] for record in records] == [[], []]
    # every generator refilled before the import: each child drew its own numbers, not the agent's next
    for library in ("torch", "numpy", "random"):
        assert first["at_import"][library] != second["at_import"][library], library
    for library in ("torch", "numpy"):
        assert agent["following"][library] not in (
            first["at_import"][library],
            second["at_import"][library],
        ), library
    # the loader ran in both, with its 2 (persistent) workers, and a seeded loader agrees with itself
    results = agent["results"]
    assert [result.get("num_workers") for result in results] == [2, 2], results
    assert orders(results[0]) == orders(results[1])
    assert {sample["worker"] for sample in results[0]["epochs"][0]} == {0, 1}
    # each child's output is shown under its own heading
    assert "--- fresh process 1 ---" in stderr and "--- fresh process 2 ---" in stderr
    assert f"imported in {first['pid']}" in stderr and f"imported in {second['pid']}" in stderr
    # nothing of theirs is left: the children are reaped, their workers killed with their group
    assert agent["left"] == []
    assert settled(lambda: [in_group(record["pgid"]) for record in records] == [[], []])
    # nothing of the children's reaches the agent's metric pipe to the driver
    assert agent["relayed"] == ""


def test_a_loader_that_never_seeds_differs_between_the_children(tmp_path: Path) -> None:
    agent, _stderr, _work = run_agent(tmp_path, UNSEEDED)
    first, second = agent["results"]
    assert "error" not in first and "error" not in second, agent["results"]
    assert orders(first)[0] != orders(second)[0]
    draws = [[sample["torch"] for sample in result["epochs"][0]] for result in (first, second)]
    assert draws[0] != draws[1]


def test_a_child_past_its_time_is_killed_with_its_process_group(tmp_path: Path) -> None:
    agent, _stderr, work = run_agent(tmp_path, HANGING, timeout=3)
    for result in agent["results"]:
        assert "did not finish within 3" in result.get("error", ""), result
    grandchildren = [int(path.read_text()) for path in work.glob("grandchild-*")]
    assert len(grandchildren) == 2
    assert settled(lambda: not any(alive(pid) for pid in grandchildren))
    assert agent["left"] == []


# ---------------------------------------------------------------------------------------------------
# Graded through the sandbox


@pytest.fixture(scope="module", params=["cold", "warm"])
def grader(request: pytest.FixtureRequest) -> Grader:
    warm = request.param == "warm"
    grader = Grader(exercises_dir=REPO / "exercises", require_cgroups=True, warm=warm)
    if warm:
        pool = grader.warm_pool(wait=True)
        assert pool is not None and pool.ready() is not None, pool and pool.problems
    yield grader
    grader.close()


@pytest.mark.parametrize(
    ("solution", "passes"),
    [
        ("reference/solution.py", True),
        ("reference/worker_info_seed.py", True),
        ("wrong/never_seeds.py", False),
        ("wrong/seeded_once_at_import.py", False),
    ],
)
def test_graded_cold_and_warm(
    grader: Grader, solution: str, passes: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="workers.grader"):
        _spec, result, _sink = grade_solution(grader, BUNDLE, BUNDLE / solution)
    ran = "warm" if "warm sandbox run" in caplog.text else "cold"
    assert ran == ("warm" if grader.warm else "cold")
    same_order = next(check for check in result.checks if check.key == "same-order")
    if passes:
        assert (result.verdict, result.score) == (Verdict.PASSED, 100.0), result
    else:
        assert result.verdict == Verdict.FAILED and not same_order.passed, result
