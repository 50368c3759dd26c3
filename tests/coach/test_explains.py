"""The table of which failed check a finding explains, held to the trial bundles: every named wrong
solution's rule explains at least one check it must fail, and every key in the table is a check its trial has."""

import re
import tomllib
from pathlib import Path

import pytest

from huashen.coach.catalogue import RULES
from huashen.coach.explains import EXPLAINS, checks_explained, failed_check_keys
from tests.coach.test_references import EXERCISES, NAMED


def trial_dir(slug: str) -> Path:
    for toml in EXERCISES.glob("*/*/exercise.toml"):
        if tomllib.loads(toml.read_text(encoding="utf-8"))["slug"] == slug:
            return toml.parent
    raise AssertionError(f"no trial {slug}")


def slug_of(relative: str) -> str:
    toml = EXERCISES / Path(relative).parents[1] / "exercise.toml"
    return str(tomllib.loads(toml.read_text(encoding="utf-8"))["slug"])


@pytest.mark.parametrize(("relative", "rule"), sorted(NAMED.items()))
def test_a_named_wrong_solution_has_its_failed_check_explained(relative: str, rule: str) -> None:
    first = (EXERCISES / relative).read_text(encoding="utf-8").splitlines()[0]
    match = re.match(r"#\s*must fail:\s*(.+)", first)
    assert match, first
    must_fail = [key.strip() for key in match.group(1).split(",")]
    assert checks_explained(trial=slug_of(relative), rule=rule, failed=must_fail)


@pytest.mark.parametrize("slug", sorted(EXPLAINS))
def test_every_key_is_a_check_of_its_trial_and_every_rule_exists(slug: str) -> None:
    check_source = (trial_dir(slug) / "check.py").read_text(encoding="utf-8")
    for key, rules in EXPLAINS[slug].items():
        assert f'"{key}"' in check_source, key
        assert rules <= set(RULES)


def test_only_failed_checks_are_explained() -> None:
    checks = [
        {"key": "logits", "passed": True},
        {"key": "output-shape", "passed": False},
        "junk",
        {"passed": False},
    ]
    assert failed_check_keys(checks) == ["output-shape"]
    failed = failed_check_keys(checks)
    assert checks_explained(trial="custom-module", rule="softmax-before-cross-entropy", failed=failed) == []
    assert (
        checks_explained(trial="no-such-trial", rule="softmax-before-cross-entropy", failed=["logits"]) == []
    )
