"""Forging the grade of a boundary trial (the student's code in its own agent process), cold and warm.

Every case is a submission to trial 1.1 whose `round_trip` is wrong (it returns a new random tensor:
`wrong/new_random_tensor.py`), plus an attempt to turn that into a pass having read the driver, the kit
and the check: `wrong/forge_out_files.py` (a perfect, self-consistent out/ folder written at import, by
a rewriter in its own session, from an exit handler, through a patched json.dumps, kit and
torch.equal/allclose) and variants — an early `os._exit`, replies faked on the socket, garbage frames,
lying `__eq__`/`__float__`/`__len__` and tensor and str subclasses, signals and rlimits aimed at the
driver, its /proc files and descriptors, ptrace, a forged manifest on the agent's own fd 3, a walk of
the garbage collector for the job's seed, a fake CUDA out-of-memory error and a fake internal error.

Each goes through the real grader (`workers.grader.grade`: bwrap, cgroups, seccomp, the trusted check)
on the cold path and on the warm pool. Contained means: the verdict is not passed, never an internal
error or GPU out of memory (the student cannot choose those), and `round-trip` failed whenever checks ran.
"""

import logging
from pathlib import Path

import pytest

from tests.golden.test_golden import grade_solution
from workers.grader import Grader
from workers.protocol import Verdict

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "exercises" / "01-tensors" / "01-tensor-basics"
WRONG = (BUNDLE / "wrong" / "new_random_tensor.py").read_text(encoding="utf-8")
FORGE = (BUNDLE / "wrong" / "forge_out_files.py").read_text(encoding="utf-8")

FIND_SOCKET = """
import os, socket, stat
def agent_socket():
    for fd in range(3, 1024):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                return socket.socket(fileno=os.dup(fd))
        except OSError:
            pass
"""

ATTACKS = {
    # The forgery as it is: out/ written at import, by a rewriter, an exit handler, patched writers.
    "forged-out-files-rewriter-exit-handler-patched-kit": FORGE,
    "prewritten-out-files-then-os-exit": FORGE + "\nos._exit(0)\n",
    "prewritten-out-files-then-sys-exit": FORGE + "\nimport sys\nsys.exit(0)\n",
    "lying-eq-float-len-and-subclasses": WRONG
    + """
class Liar(torch.Tensor):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __float__(self): return 1729.0
    def __len__(self): return 1729
    def equal(self, other): return True
class Everything(str):
    def __eq__(self, other): return True
    def __hash__(self): return 0
torch.equal = lambda a, b: True
torch.allclose = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: True
_round_trip = round_trip
def round_trip(t):
    return _round_trip(t).as_subclass(Liar)
def describe(t):
    return {"shape": Everything("?"), "dtype": Everything("?"), "device": Everything("?")}
""",
    "faked-socket-replies": WRONG
    + FIND_SOCKET
    + """
from exercises.kit import boundary
sock = agent_socket()
for _ in range(64):  # answers for every call to come, sent ahead of the real ones
    boundary.send_frame(sock, {"ok": True, "value": {"shape": [1], "dtype": "torch.float32", "device": "cpu"},
                               "facts": {"cuda_requested": True}})
""",
    "garbage-frames": WRONG
    + FIND_SOCKET
    + """
import struct
sock = agent_socket()
sock.sendall(struct.pack(">II", 0xFFFFFFFF, 0xFFFFFFFF) + b"[" * 100000)
""",
    "oversized-and-deep-values": WRONG
    + """
def describe(t):
    value = []
    for _ in range(5000):
        value = [value]
    return {"shape": value, "dtype": "x" * (1 << 20), "device": {"$tensor": "t0"}}
""",
    "signals-and-rlimits-at-the-driver": WRONG
    + """
import ctypes, os, resource, signal
driver = os.getppid()
for target in (driver, -driver, -1, 0):
    for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM):
        try:
            os.kill(target, sig) if target != 0 else None
        except OSError as error:
            print("refused:", error)
try:
    resource.prlimit(driver, resource.RLIMIT_CPU, (1, 1))
except OSError as error:
    print("refused:", error)
libc = ctypes.CDLL(None, use_errno=True)
print("tkill:", libc.syscall(200, driver, 9), "pidfd_open:", libc.syscall(434, driver, 0))
""",
    "driver-proc-files-and-descriptors": FORGE
    + """
import hashlib, json
driver = os.getppid()
for name in ("mem", "environ", "maps", "fd/3", "fd/4", "fd/5"):
    try:
        with open(f"/proc/{driver}/{name}", "rb") as handle:
            print("read", name, handle.read(64))
    except OSError as error:
        print("refused:", name, error)
manifest = {"kind": "boundary-result",
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}}
for fd in range(3, 16):
    try:
        target = os.open(f"/proc/{driver}/fd/{fd}", os.O_WRONLY)
        os.write(target, json.dumps(manifest).encode() + b"\\n")
    except OSError as error:
        print("refused:", fd, error)
""",
    "forged-manifest-on-its-own-fd-3": FORGE
    + """
import hashlib
manifest = {"kind": "boundary-result",
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}}
os.write(3, json.dumps(manifest).encode() + b"\\n")
""",
    "gc-walk-for-the-seed": WRONG
    + """
import gc
found = [o for o in gc.get_objects() if type(o).__name__ == "DriverContext" or
         (isinstance(o, dict) and "job.seed" in o)]
print("found:", len(found))
if found:
    raise SystemExit("the driver's state is in this process")
""",
    "fake-cuda-out-of-memory": WRONG
    + """
def round_trip(t):
    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")
""",
    "fake-internal-error-in-a-call": WRONG
    + """
def round_trip(t):
    raise RuntimeError("internal error in the trial's driver:\\nTraceback (most recent call last):\\n probe_error")
""",
}
# Kill by seccomp (ptrace): the verdict is a sandbox violation, still contained.
VIOLATIONS = {
    "ptrace-the-driver": WRONG
    + """
import ctypes, os
ctypes.CDLL(None).ptrace(16, os.getppid(), 0, 0)  # PTRACE_ATTACH
""",
}
CONTAINED = (Verdict.FAILED, Verdict.ERROR)


@pytest.fixture(scope="module", params=["cold", "warm"])
def grader(request: pytest.FixtureRequest):
    path = request.param
    grader = Grader(exercises_dir=ROOT / "exercises", require_cgroups=True, warm=path == "warm")
    if path == "warm":
        pool = grader.warm_pool(wait=True)
        assert pool is not None and pool.ready() is not None, pool and pool.problems
    yield path, grader
    pool = grader.warm_pool() if path == "warm" else None
    if pool is not None:
        pool.close()
    checker = grader.warm_checker()
    if checker is not None:
        checker.close()


def grade(grader, code: str, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    path, grader = grader
    solution = tmp_path / "solution.py"
    solution.write_text(code, encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="workers.grader"):
        _spec, result, _sink = grade_solution(grader, BUNDLE, solution)
    ran = "warm" if "warm sandbox run" in caplog.text else "cold"
    assert ran == path, f"the job ran {ran}, not {path}"
    return result


def explain(result) -> str:
    failed = [check.key for check in result.checks if not check.passed]
    return f"{result.verdict} {result.score} failed={failed}\n{result.traceback[-800:]}"


def test_the_base_submission_fails_only_round_trip(grader, tmp_path, caplog) -> None:
    """Without this, a contained forgery could be a broken pipeline rather than a sound boundary."""
    result = grade(grader, WRONG, tmp_path, caplog)
    assert result.verdict == Verdict.FAILED, explain(result)
    assert {check.key for check in result.checks if not check.passed} == {"round-trip"}, explain(result)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_forging_a_boundary_trial_is_contained(grader, tmp_path, caplog, name: str) -> None:
    result = grade(grader, ATTACKS[name], tmp_path, caplog)
    assert result.verdict in CONTAINED, explain(result)
    if result.checks:
        assert "round-trip" in {check.key for check in result.checks if not check.passed}, explain(result)
        assert result.score < 100.0


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_reaching_into_the_driver_is_a_violation(grader, tmp_path, caplog, name: str) -> None:
    result = grade(grader, VIOLATIONS[name], tmp_path, caplog)
    assert result.verdict == Verdict.SANDBOX_VIOLATION, explain(result)


NO_GRAD = ROOT / "exercises" / "01-tensors" / "05-no-grad-detach"
REPLACED_ROUTINE = (
    (NO_GRAD / "wrong" / "logs_loss_tensor.py").read_text(encoding="utf-8")
    + """
import sys
probe = sys.modules["huashen_probe"]
_train = probe.agent_train
def agent_train(solution):
    answer = _train(solution)
    for item in answer.get("items", []):
        item.update(is_float=True, is_tensor=False, grad_fn=None, type="float")
    return answer
probe.agent_train = agent_train
"""
)


@pytest.mark.xfail(
    strict=True,
    reason="observed checks: trial 1.5's graph facts are seen only by its routines in the student's "
    "process, which the student's code can replace; docs/architecture.md lists them",
)
def test_replacing_a_trials_own_routine_fakes_its_observed_checks(grader, tmp_path, caplog) -> None:
    _path, grader = grader
    solution = tmp_path / "solution.py"
    solution.write_text(REPLACED_ROUTINE, encoding="utf-8")
    _spec, result, _sink = grade_solution(grader, NO_GRAD, solution)
    assert "logged-loss-float" in {check.key for check in result.checks if not check.passed}, explain(result)


# A loop the student drives (2.3: the driver replays the standard loop from the same secret spec and
# compares the state_dict) and a file another sandbox runs (4.3: the verify step receives only the
# driver's copies and draws its inputs from a secret seed of its own): each trial's forgery, cold and
# warm, fails the check it names.
LOOP_AND_EXPORT_FORGERIES = {
    "train-loop": (
        ROOT / "exercises" / "02-models" / "03-train-loop",
        "forge_hooks_and_out_files",
        "zero-grad",
    ),
    "export": (
        ROOT / "exercises" / "04-transfer-deploy" / "03-export",
        "forge_memorised_outputs",
        "torchscript-trace",
    ),
}


@pytest.mark.parametrize("name", sorted(LOOP_AND_EXPORT_FORGERIES))
def test_forging_a_replayed_loop_or_a_verified_export_is_contained(grader, caplog, name: str) -> None:
    path, trial_grader = grader
    bundle, forgery, check = LOOP_AND_EXPORT_FORGERIES[name]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="workers.grader"):
        _spec, result, _sink = grade_solution(trial_grader, bundle, bundle / "wrong" / f"{forgery}.py")
    assert ("warm sandbox run" in caplog.text) == (path == "warm"), caplog.text[-2000:]
    assert result.verdict == Verdict.FAILED, explain(result)
    assert check in {item.key for item in result.checks if not item.passed}, explain(result)


TRAIN_LOOP = ROOT / "exercises" / "02-models" / "03-train-loop"
# The trial's own routine in the student's process, replaced to send a 2.8 MB account of the run (under
# the wire's caps, past the observations' 1 MiB): were it written as it came, the observations would be
# refused and the verdict an internal error, which the student must not be able to choose.
OVERSIZED_ACCOUNT = (
    (TRAIN_LOOP / "reference" / "solution.py").read_text(encoding="utf-8")
    + """
import sys
probe = sys.modules["huashen_probe"]
_agent_train = probe.agent_train
def agent_train(solution, *args):
    answer = _agent_train(solution, *args)
    answer["summary"]["reports"] = [{f"k{i}": "x" * 60 for i in range(20)} for _ in range(2000)]
    return answer
probe.agent_train = agent_train
"""
)


def test_an_oversized_account_from_the_agent_is_no_internal_error(grader, tmp_path, caplog) -> None:
    _path, trial_grader = grader
    solution = tmp_path / "solution.py"
    solution.write_text(OVERSIZED_ACCOUNT, encoding="utf-8")
    _spec, result, _sink = grade_solution(trial_grader, TRAIN_LOOP, solution)
    assert result.verdict == Verdict.FAILED, explain(result)
    assert "grad-norm-reported" in {item.key for item in result.checks if not item.passed}, explain(result)
