"""What a student can type never breaks the coach: syntax errors, nesting past the parser's limits, odd text
and a deadline that runs out are answers, not exceptions."""

import pytest

from huashen.coach.analysis import code_analyze


def test_a_syntax_error_is_a_parse_error_with_its_place() -> None:
    analysis = code_analyze("import torch\nx = (1,\n")
    assert analysis.findings == []
    assert analysis.parse_error is not None
    assert analysis.parse_error.line >= 2


@pytest.mark.parametrize(
    "code",
    [
        "x = " + "(" * 5000 + "1" + ")" * 5000,
        "x = " + "not " * 15000 + "1",
        "x = a" + ".b" * 15000,
        "x = " + "+".join(["a"] * 15000),
        "x = f" + "()" * 15000,
        "x = " + "-" * 30000 + "1",
        "x = " + "[" * 3000 + "]" * 3000,
        "".join(" " * i + "if x:\n" for i in range(400)) + " " * 400 + "pass\n",
        "\ufeffimport torch\n",
        "x = '\udcff'\n",
    ],
    ids=["parens", "nots", "attribute-chain", "sum", "calls", "minus", "lists", "indent", "bom", "surrogate"],
)
def test_hostile_nesting_is_an_answer_not_a_crash(code: str) -> None:
    analysis = code_analyze(code)
    assert analysis.findings == [] or analysis.parse_error is None


def test_a_deadline_that_runs_out_marks_the_analysis_incomplete() -> None:
    code = "import torch\n" + "x = torch.load('m')\n" * 2000
    analysis = code_analyze(code, deadline_seconds=0.0)
    assert not analysis.complete
