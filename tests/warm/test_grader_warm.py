"""The grader on the warm path: verdicts as on the cold path, the fallback to cold, and the warm checker."""

import logging
import os
import signal
import time
from pathlib import Path

import pytest

from tests.golden.test_golden import grade_solution
from workers.grader import Grader, WarmChecker
from workers.protocol import Verdict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "grading"
PROBE = FIXTURES / "01-sandbox" / "01-probe"
VERIFY = FIXTURES / "01-sandbox" / "02-verify"


@pytest.fixture(scope="module")
def grader() -> Grader:
    warm = Grader(exercises_dir=FIXTURES, require_cgroups=True, warm=True)
    pool = warm.warm_pool(wait=True)
    assert pool is not None and pool.ready() is not None, pool and pool.problems
    yield warm
    pool.close()
    checker = warm.warm_checker()
    if checker is not None:
        checker.close()


def grade_code(grader: Grader, bundle: Path, code: str, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    path = tmp_path / "solution.py"
    path.write_text(code)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="workers.grader"):
        _spec, result, sink = grade_solution(grader, bundle, path)
    ran = "warm" if "warm sandbox run" in caplog.text else "cold"
    return result, sink, ran


def wait_ready(grader: Grader) -> None:
    pool = grader.warm_pool()
    assert pool is not None
    deadline = time.monotonic() + 120
    while pool.ready() is None:
        assert time.monotonic() < deadline, pool.problems
        time.sleep(0.1)


def test_the_reference_passes_warm_with_the_verify_step(
    grader: Grader, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wait_ready(grader)
    reference = (VERIFY / "reference" / "solution.py").read_text()
    result, _sink, ran = grade_code(grader, VERIFY, reference, tmp_path, caplog)
    assert (result.verdict, result.score, ran) == (Verdict.PASSED, 100.0, "warm"), result
    assert result.resources["confined"] is True


@pytest.mark.parametrize(
    "code, verdict",
    [
        ("x = bytearray(1024 ** 3)\ndef answer():\n    return 1729\n", Verdict.MEMORY_LIMIT),
        ("while True:\n    pass\n", Verdict.TIME_LIMIT),
        ("print('x' * 10 ** 6)\n", Verdict.OUTPUT_LIMIT),
        ("import ctypes\nctypes.CDLL(None).ptrace(0, 0, 0, 0)\n", Verdict.SANDBOX_VIOLATION),
        ("raise ValueError('nope')\n", Verdict.ERROR),
        ("def answer():\n    return 42\n", Verdict.FAILED),
    ],
)
def test_verdicts_map_as_on_the_cold_path(
    grader: Grader, tmp_path: Path, caplog: pytest.LogCaptureFixture, code: str, verdict: Verdict
) -> None:
    wait_ready(grader)
    result, _sink, ran = grade_code(grader, PROBE, code, tmp_path, caplog)
    assert (result.verdict, ran) == (verdict, "warm"), result


def test_without_a_zygote_the_job_runs_cold(
    grader: Grader, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wait_ready(grader)
    pool = grader.warm_pool()
    assert pool is not None and pool.zygote is not None
    os.kill(pool.zygote.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pool.zygote is not None and pool.zygote.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    reference = (PROBE / "reference" / "solution.py").read_text()
    result, _sink, ran = grade_code(grader, PROBE, reference, tmp_path, caplog)
    assert (result.verdict, ran) == (Verdict.PASSED, "cold"), result
    wait_ready(grader)  # replaced in the background
    result, _sink, ran = grade_code(grader, PROBE, reference, tmp_path, caplog)
    assert (result.verdict, ran) == (Verdict.PASSED, "warm"), result


def test_the_warm_pool_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUASHEN_WARM_POOL", "0")
    off = Grader(exercises_dir=FIXTURES, require_cgroups=True)
    assert off.warm is False and off.warm_pool() is None and off.warm_checker() is None
    assert Grader(exercises_dir=FIXTURES, require_cgroups=False, warm=True).warm_pool() is None


def test_the_warm_checker_keeps_no_state_between_checks(tmp_path: Path) -> None:
    """Each check is a fresh fork of the long-lived checker: a check that changes module state (here a
    bundle whose check.py leaves a mark on a module) does not affect the next one."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "check.py").write_text(
        "import json\n"
        "from exercises.kit.check import Check\n"
        "CHECKS = [Check('fresh', zh='新', en='fresh', points=1)]\n"
        "def check(ctx):\n"
        "    fresh = not hasattr(json, 'huashen_mark')\n"
        "    json.huashen_mark = True\n"
        "    yield ctx.passed('fresh') if fresh else ctx.failed('fresh', zh='旧', en='stale')\n"
    )
    out = tmp_path / "out"
    out.mkdir()
    (out / "observations.json").write_text("{}")
    checker = WarmChecker(torch_home=None)
    try:
        first = checker.run([str(bundle), str(out), "submit"])
        second = checker.run([str(bundle), str(out), "submit"])
        assert checker.process is not None
        server = checker.process.pid
        third = checker.run([str(bundle), str(out), "submit"])
        assert checker.process is not None and checker.process.pid == server  # one long-lived process
    finally:
        checker.close()
    for completed in (first, second, third):
        assert completed is not None and completed.returncode == 0, completed
        assert '"passed": true' in completed.stdout, completed.stdout
