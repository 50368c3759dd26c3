"""Golden tests for every trial, through the real sandbox (bwrap + cgroups + seccomp) and the trusted check.

For each bundle under exercises/: every reference solution passes every automatic check, and every
known-wrong solution fails, with the checks its first line names (`# must fail: key, key`) among the
failed ones. Hybrid and manual trials then wait for a review, so their references need only pass the
automatic checks.
"""

import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from exercises.kit.weights import DEFAULT_TORCH_HOME, ensure_resnet18
from workers.events import ListSink
from workers.grader import Grader, grade
from workers.protocol import (
    EventKind,
    GradeRequest,
    Limits,
    Mode,
    Verdict,
    bundle_content_hash,
    bundle_files,
)

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"
TORCH_HOME = DEFAULT_TORCH_HOME  # var/torch-home
MUST_FAIL = re.compile(r"^#\s*must fail:\s*(.+)$", re.MULTILINE)


def bundles() -> list[Path]:
    return sorted(toml.parent for toml in EXERCISES.glob("*/*/exercise.toml"))


def cases() -> list[pytest.param]:
    found = []
    for bundle in bundles():
        for kind in ("reference", "wrong"):
            for solution in sorted((bundle / kind).glob("*.py")):
                found.append(pytest.param(bundle, solution, id=f"{bundle.name}/{kind}/{solution.stem}"))
    return found


@pytest.fixture(scope="module")
def grader() -> Grader:
    # Realm 4 loads pretrained ResNet-18 weights from the cache the grader binds in as TORCH_HOME;
    # offline, a deterministic stand-in checkpoint takes the real one's place.
    ensure_resnet18(TORCH_HOME)
    return Grader(exercises_dir=EXERCISES, require_cgroups=True, torch_home=TORCH_HOME)


def grade_solution(grader: Grader, bundle: Path, solution: Path, mode: Mode = Mode.SUBMIT) -> tuple:
    spec = tomllib.loads((bundle / "exercise.toml").read_text(encoding="utf-8"))
    request = GradeRequest(
        submission_id=0,
        trial=spec["slug"],
        content_hash=bundle_content_hash(bundle_files(bundle), spec["realm"]),
        mode=mode,
        code=solution.read_text(encoding="utf-8"),
        limits=Limits(**spec.get("limits", {})),
    )
    sink = ListSink()
    return spec, grade(request, grader, sink), sink


def explain(result: object) -> str:
    checks = "\n".join(
        f"  {'✓' if c.passed else '✗'} {c.key}: {c.message.get('en', '')[:300]}"
        for c in result.checks  # type: ignore[attr-defined]
    )
    return f"verdict {result.verdict} score {result.score}\n{checks}\n{result.traceback[-1500:]}"  # type: ignore[attr-defined]


def test_there_are_trials_to_test() -> None:
    assert bundles(), "no trial bundles under exercises/"


def keep_reference_curve(slug: str, solution: Path, sink: ListSink) -> None:
    """With HUASHEN_REFERENCE_CURVES=<dir>, a passing reference's metric events go to <dir>/<slug>.jsonl, for
    `manage.py record_reference_curve <slug> --events <file>` to store with the trial's version."""
    folder = os.environ.get("HUASHEN_REFERENCE_CURVES")
    metrics = [event.to_wire() for event in sink.events if event.kind == EventKind.METRIC]
    if not folder or not metrics or solution.stem != "solution":
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(event) + "\n" for event in metrics)
    (Path(folder) / f"{slug}.jsonl").write_text(lines, encoding="utf-8")


@pytest.mark.parametrize(("bundle", "solution"), cases())
def test_golden(grader: Grader, bundle: Path, solution: Path) -> None:
    spec, result, sink = grade_solution(grader, bundle, solution)
    automatic_only = spec.get("grading", "auto") in ("hybrid", "manual")
    if solution.parent.name == "reference":
        assert result.checks, explain(result)
        assert all(check.passed for check in result.checks), explain(result)
        assert result.verdict == Verdict.PASSED or automatic_only, explain(result)
        assert result.score == 100.0, explain(result)
        keep_reference_curve(spec["slug"], solution, sink)
        return
    named = MUST_FAIL.search(solution.read_text(encoding="utf-8"))
    assert named, f"{solution} must start with a '# must fail: check, check' line"
    expected = {key.strip() for key in named.group(1).split(",") if key.strip()}
    declared = {check.key for check in result.checks}
    assert expected <= declared or result.verdict not in (Verdict.PASSED, Verdict.FAILED), (
        f"{solution.name} names checks the trial does not have: {expected - declared}"
    )
    assert result.verdict != Verdict.PASSED, explain(result)
    failed = {check.key for check in result.checks if not check.passed}
    assert expected <= failed, (
        f"expected to fail {sorted(expected)}, failed {sorted(failed)}\n{explain(result)}"
    )
