"""Forgeries of realm 5's boundary trials 5.3, 5.4 and 5.5, graded cold and warm through the real sandbox.

Each `wrong/forge_*.py` scored 100 when its trial's probe shared the student's process:

- 5.3 `forge_hidden_model`: the float16 + GradScaler path never learns (clipping before
  scaler.unscale_), and the model handed back answers through a hidden float32 copy trained out of
  sight (its `forward` and `state_dict` replaced);
- 5.4 `forge_lying_text`: FROM python:3-slim and a HEALTHCHECK ending `|| exit 0`, in a `str` subclass
  named "str" whose encode() gives an honest Dockerfile;
- 5.5 `forge_dates`: past milestones moved to 2027 by a patched json.dumps, out/ pre-written and
  rewritten from a process in its own session.

Behind the boundary each one fails the check it names, on both sandbox paths (5.5's memory limit keeps
it cold on both): the driver measures the weights held in the parameters it built, reads the text's own
characters, and writes out/ itself.
"""

import logging
from pathlib import Path

import pytest

from tests.golden.test_golden import MUST_FAIL, grade_solution
from workers.grader import Grader
from workers.protocol import Verdict

ROOT = Path(__file__).resolve().parents[2]
PRACTICE = ROOT / "exercises" / "05-practice"
FORGERIES = {
    "mixed-precision": PRACTICE / "03-mixed-precision" / "wrong" / "forge_hidden_model.py",
    "deploy-automation": PRACTICE / "04-deploy-automation" / "wrong" / "forge_lying_text.py",
    "roadmap": PRACTICE / "05-roadmap" / "wrong" / "forge_dates.py",
}


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


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_a_practice_forgery_fails_the_check_it_names(grader, caplog, name: str) -> None:
    path, trial_grader = grader
    forgery = FORGERIES[name]
    named = MUST_FAIL.search(forgery.read_text(encoding="utf-8"))
    assert named, f"{forgery} names no check it must fail"
    expected = {key.strip() for key in named.group(1).split(",") if key.strip()}
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="workers.grader"):
        _spec, result, _sink = grade_solution(trial_grader, forgery.parents[1], forgery)
    if path == "warm" and name == "roadmap":
        # 5.5's 256 MB limit leaves no room for the warm pool's preloaded torch: it always runs cold.
        assert "cold sandbox run (a 256 MB limit" in caplog.text, caplog.text[-2000:]
    else:
        assert ("warm sandbox run" in caplog.text) == (path == "warm"), caplog.text[-2000:]
    failed = {check.key for check in result.checks if not check.passed}
    assert result.verdict == Verdict.FAILED, f"{result.verdict} {result.score} failed={sorted(failed)}"
    assert expected <= failed, f"expected {sorted(expected)} among the failed checks, got {sorted(failed)}"
