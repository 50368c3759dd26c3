"""The grader on the warm path: verdicts as on the cold path, the fallback to cold, and the warm checker."""

import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.golden.test_golden import grade_solution
from tests.sandbox.test_grader import (
    BOMB_LIMITS,
    CRASHES,
    LOOK_FOR_CHECK_CODE,
    PIDS_BOMBS,
    assert_crash_explained,
    assert_pids_explained,
    looked,
)
from tests.sandbox.test_grader import grade_code as grade_probe_code
from workers.checking import WarmChecker
from workers.grader import Grader
from workers.protocol import Limits, Verdict
from workers.staging import SANDBOX_KIT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "grading"
PROBE = FIXTURES / "01-sandbox" / "01-probe"
VERIFY = FIXTURES / "01-sandbox" / "02-verify"


@pytest.fixture(scope="module")
def grader() -> Grader:
    warm = Grader(exercises_dir=FIXTURES, require_cgroups=True, warm=True)
    pool = warm.warm_pool(wait=True)
    assert pool is not None and pool.ready() is not None, pool and pool.problems
    yield warm
    warm.close()


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


# --- how a run ended, explained: the same cases as tests/sandbox/test_grader.py, on the warm path


def grade_warm(grader: Grader, code: str, caplog: pytest.LogCaptureFixture, **options: Any) -> tuple:
    wait_ready(grader)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="workers.grader"):
        result, sink = grade_probe_code(grader, code, **options)
    return result, sink, "warm" if "warm sandbox run" in caplog.text else "cold"


@pytest.mark.parametrize("name", list(CRASHES))
def test_a_crash_is_an_error_that_names_the_signal(
    grader: Grader, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    result, _sink, ran = grade_warm(grader, CRASHES[name], caplog)
    assert ran == "warm"
    assert_crash_explained(result, name)


@pytest.mark.parametrize("bomb", list(PIDS_BOMBS))
def test_hitting_the_process_limit_is_explained(
    grader: Grader, caplog: pytest.LogCaptureFixture, bomb: str
) -> None:
    result, _sink, ran = grade_warm(grader, PIDS_BOMBS[bomb], caplog, limits=BOMB_LIMITS)
    assert ran == "warm"
    assert_pids_explained(result, BOMB_LIMITS.pids)


def test_a_job_finds_the_probe_side_of_the_kit_and_no_check_code(
    grader: Grader, caplog: pytest.LogCaptureFixture
) -> None:
    result, sink, ran = grade_warm(grader, LOOK_FOR_CHECK_CODE, caplog)
    assert (result.verdict, ran) == (Verdict.FAILED, "warm"), result
    seen = looked(sink)
    assert seen["kit"] == sorted(SANDBOX_KIT) and seen["found"] == [], seen


# A program that imports torch and then holds `megabytes` of its own: a cold job pays for its import of
# torch (about 280 MB), a warm one is charged the zygote's, so both meet the 768 MB limit alike.
HUNGRY = "import torch\nheld = bytearray({megabytes} << 20)\ndef answer():\n    return 1729\n"
MEMORY = Limits(wall_seconds=30, cpu_seconds=30, memory_mb=768, pids=48, output_kb=64, disk_mb=16)


@pytest.mark.parametrize(("megabytes", "verdict"), [(150, Verdict.PASSED), (600, Verdict.MEMORY_LIMIT)])
def test_one_program_gets_the_same_memory_verdict_cold_and_warm(
    grader: Grader, caplog: pytest.LogCaptureFixture, megabytes: int, verdict: Verdict
) -> None:
    code = HUNGRY.format(megabytes=megabytes)
    warm, _sink, ran = grade_warm(grader, code, caplog, limits=MEMORY)
    cold_grader = Grader(exercises_dir=FIXTURES, require_cgroups=True, warm=False)
    try:
        cold, _sink = grade_probe_code(cold_grader, code, limits=MEMORY)
    finally:
        cold_grader.close()
    assert (warm.verdict, ran, cold.verdict) == (verdict, "warm", verdict), (warm, cold)
    # Both peaks count the program's own bytes and torch's (the warm one: the zygote's share).
    for result in (warm, cold):
        assert result.resources["peak_memory_mb"] > min(megabytes, 768 - 280) + 200, result.resources
