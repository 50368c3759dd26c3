"""run_check's rules: visibility by mode, missing outcomes, bugs in check.py, partial credit, bad bundles."""

import json
from pathlib import Path

import pytest

from exercises.kit.check import (
    NO_OBSERVATION,
    NOT_EVALUATED,
    SOLUTION_RAISED,
    CheckDefinitionError,
    literal_from,
    load_checks,
    number,
    run_check,
    show,
)

HEADER = "from exercises.kit.check import Check\n"
THREE_CHECKS = """
CHECKS = [
    Check("seen", zh="可见", en="Seen", points=2),
    Check("hidden", zh="隐藏", en="Hidden", points=3, visible=False),
    Check("forgotten", zh="遗漏", en="Forgotten", points=5),
]
"""


def make_bundle(tmp_path: Path, body: str, observations: dict | None = None) -> tuple[Path, Path]:
    bundle, out = tmp_path / "bundle", tmp_path / "out"
    bundle.mkdir()
    out.mkdir()
    (bundle / "check.py").write_text(HEADER + body)
    if observations is not None:
        (out / "observations.json").write_text(json.dumps(observations))
    return bundle, out


def by_key(report: dict) -> dict[str, dict]:
    return {check["key"]: check for check in report["checks"]}


def test_run_mode_reports_and_scores_only_visible_checks(tmp_path: Path) -> None:
    body = (
        THREE_CHECKS
        + """
def check(ctx):
    yield ctx.passed("seen")
    yield ctx.passed("hidden")
    yield ctx.passed("forgotten")
"""
    )
    bundle, out = make_bundle(tmp_path, body, {})
    run = run_check(bundle, out, "run")
    assert set(by_key(run)) == {"seen", "forgotten"}
    assert run["score"] == 100.0
    submit = run_check(bundle, out, "submit")
    assert set(by_key(submit)) == {"seen", "hidden", "forgotten"}
    assert by_key(submit)["hidden"] == {
        "key": "hidden",
        "passed": True,
        "score": 3,
        "max_score": 3.0,
        "title": {"zh": "隐藏", "en": "Hidden"},
        "message": {"zh": "通过。", "en": "Passed."},
        "visible": False,
    }


def test_a_declared_check_without_an_outcome_fails_with_no_observation(tmp_path: Path) -> None:
    body = (
        THREE_CHECKS
        + """
def check(ctx):
    yield ctx.passed("seen")
    yield ctx.partial("hidden", 0.5, zh="一半", en="half")
"""
    )
    bundle, out = make_bundle(tmp_path, body, {})
    report = run_check(bundle, out, "submit")
    checks = by_key(report)
    assert checks["forgotten"]["passed"] is False
    assert checks["forgotten"]["message"] == NO_OBSERVATION
    assert checks["hidden"]["passed"] is False
    assert checks["hidden"]["score"] == 1.5
    assert report["score"] == pytest.approx(100 * 3.5 / 10)


def test_an_exception_in_one_evaluated_check_fails_only_that_check(tmp_path: Path) -> None:
    body = (
        THREE_CHECKS
        + """
def boom(ctx):
    raise KeyError("a bug in the trial")

def check(ctx):
    yield ctx.evaluate("seen", lambda ctx: ctx.passed("seen"))
    yield ctx.evaluate("hidden", boom)
    yield ctx.evaluate("forgotten", lambda ctx: ctx.failed("forgotten", zh="错", en="wrong"))
"""
    )
    bundle, out = make_bundle(tmp_path, body, {})
    report = run_check(bundle, out, "submit")
    checks = by_key(report)
    assert checks["seen"]["passed"] is True
    assert checks["hidden"]["message"] == NOT_EVALUATED
    assert checks["forgotten"]["message"] == {"zh": "错", "en": "wrong"}
    assert any("a bug in the trial" in error for error in report["internal_errors"])


def test_a_crashing_check_generator_fails_the_rest_neutrally_and_does_not_raise(tmp_path: Path) -> None:
    body = (
        THREE_CHECKS
        + """
def check(ctx):
    yield ctx.passed("seen")
    1 / 0
"""
    )
    bundle, out = make_bundle(tmp_path, body, {})
    report = run_check(bundle, out, "submit")
    checks = by_key(report)
    assert checks["seen"]["passed"] is True
    assert checks["hidden"]["message"] == checks["forgotten"]["message"] == NOT_EVALUATED
    assert "ZeroDivisionError" in report["internal_errors"][0]


def test_stray_and_duplicate_outcomes_are_logged_and_ignored(tmp_path: Path) -> None:
    body = (
        THREE_CHECKS
        + """
def check(ctx):
    yield ctx.passed("seen")
    yield ctx.failed("seen", zh="二", en="second")
    yield ctx.passed("undeclared")
    yield "not an outcome"
"""
    )
    bundle, out = make_bundle(tmp_path, body, {})
    report = run_check(bundle, out, "submit")
    assert by_key(report)["seen"]["passed"] is True
    assert len(report["internal_errors"]) == 3


def test_solution_error_with_nothing_observed_explains_every_check(tmp_path: Path) -> None:
    body = THREE_CHECKS + "\ndef check(ctx):\n    raise AssertionError('check.py is not consulted')\n"
    bundle, out = make_bundle(tmp_path, body, {})
    (out / "error.json").write_text(json.dumps({"kind": "solution_error", "traceback": "NameError: x"}))
    report = run_check(bundle, out, "submit")
    assert report["solution_error"] == "NameError: x"
    assert all(check["message"] == SOLUTION_RAISED for check in report["checks"])
    assert report["internal_errors"] == []


def test_gpu_oom_and_probe_error_are_reported(tmp_path: Path) -> None:
    body = THREE_CHECKS + "\ndef check(ctx):\n    return []\n"
    bundle, out = make_bundle(tmp_path, body, {"x": 1})
    (out / "error.json").write_text(json.dumps({"kind": "gpu_oom", "traceback": "OutOfMemoryError"}))
    report = run_check(bundle, out, "submit")
    assert (report["gpu_oom"], report["solution_error"], report["probe_error"]) == (True, None, None)
    (out / "error.json").write_text(json.dumps({"kind": "probe_error", "traceback": "KeyError"}))
    report = run_check(bundle, out, "submit")
    assert (report["gpu_oom"], report["probe_error"]) == (False, "KeyError")


def test_context_helpers(tmp_path: Path) -> None:
    body = (
        THREE_CHECKS
        + """
def check(ctx):
    assert ctx.error_of("call") == "Traceback: boom"
    assert ctx.error_of("value") is None
    assert ctx.observed("absent") is not None and not ctx.observed("absent")
    assert ctx.array("absent") is None
    assert ctx.hidden == ctx.bundle / "hidden"
    yield ctx.passed("seen")
    yield ctx.passed("hidden")
    yield ctx.passed("forgotten")
"""
    )
    bundle, out = make_bundle(
        tmp_path, body, {"call": {"error": "Traceback: boom"}, "value": {"error": 1, "x": 2}}
    )
    report = run_check(bundle, out, "submit")
    assert report["internal_errors"] == []
    assert report["score"] == 100.0


@pytest.mark.parametrize(
    "body",
    [
        "def check(ctx):\n    return []\n",
        "CHECKS = []\ndef check(ctx):\n    return []\n",
        "CHECKS = [Check('a', zh='甲', en='A'), Check('a', zh='乙', en='B')]\ndef check(ctx):\n    return []\n",
        "CHECKS = [Check('Bad Key', zh='甲', en='A')]\ndef check(ctx):\n    return []\n",
        "CHECKS = [Check('a', zh='', en='A')]\ndef check(ctx):\n    return []\n",
        "CHECKS = [Check('a', zh='甲', en='A', points=-1)]\ndef check(ctx):\n    return []\n",
        "CHECKS = [Check('a', zh='甲', en='A')]\n",
        "CHECKS = [Check('a', zh='甲', en='A')\n",
    ],
    ids=["no-checks", "empty", "duplicate", "bad-key", "no-title", "negative", "no-check-fn", "syntax"],
)
def test_a_broken_bundle_is_a_definition_error(tmp_path: Path, body: str) -> None:
    bundle, out = make_bundle(tmp_path, body, {})
    with pytest.raises(CheckDefinitionError):
        run_check(bundle, out, "submit")


def test_load_checks_and_literal_from(tmp_path: Path) -> None:
    bundle, _ = make_bundle(tmp_path, THREE_CHECKS + "\ndef check(ctx):\n    return []\n")
    assert [check.key for check in load_checks(bundle)] == ["seen", "hidden", "forgotten"]
    source = tmp_path / "probe.py"
    source.write_text("import os\nCASES = [('a', (1, 2), 'float32')]\nLIMIT: int = 3\nos.system('false')\n")
    assert literal_from(source, "CASES") == [("a", (1, 2), "float32")]
    assert literal_from(source, "LIMIT") == 3
    with pytest.raises(CheckDefinitionError):
        literal_from(source, "MISSING")


def test_show_and_number() -> None:
    assert show({"$type": "torch.dtype", "repr": "torch.float32"}) == "torch.float32 (torch.dtype)"
    assert show("x" * 500, limit=10).endswith("…")
    assert number("nan") != number("nan")  # NaN
    assert number("-inf") == float("-inf")
    assert number(3) == 3.0
    assert number(True) is None
    assert number("3") is None
