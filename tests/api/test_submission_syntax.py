"""The syntax check before grading: a syntax error is answered at once, with its line and column, and
nothing is stored or sent (no attempt counted); compile() never runs the code; pathological text is
refused cleanly."""

import pytest
from rest_framework.test import APIClient

from huashen.grading import dispatch
from huashen.grading.models import Submission
from huashen.grading.syntax import SyntaxProblem, check_syntax
from tests.conftest import Personas, SentRequests

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list:
    requests = SentRequests()
    monkeypatch.setattr(dispatch, "send_grade_request", requests)
    return requests


def test_a_syntax_error_is_a_400_with_its_line_and_column_and_no_attempt(
    personas: Personas, curriculum: dict, client_for, sent: list
) -> None:
    alice: APIClient = client_for(personas.alice)
    code = "import torch\n\ndef f(x):\n    return x +\n"
    for mode in ("run", "submit"):
        response = alice.post(
            "/api/v1/submissions/", {"exercise": "realm-1-trial-1", "code": code, "mode": mode}, format="json"
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["code"], error["field"], error["line"]) == ("syntax_error", "code", 4)
        assert error["column"] == 15
        assert error["message"].startswith("第 4 行第 15 列有语法错误：")
    # nothing stored, nothing sent: no attempt counted
    assert Submission.objects.count() == 0 and sent == []


def test_the_syntax_error_in_english(personas: Personas, curriculum: dict, client_for) -> None:
    personas.alice.language = "en"
    personas.alice.save()
    response = client_for(personas.alice).post(
        "/api/v1/submissions/", {"exercise": "realm-1-trial-1", "code": "if True\n    pass\n"}, format="json"
    )
    assert response.json()["error"]["message"].startswith("Syntax error at line 1, column 8: ")


def test_valid_code_still_goes_through(personas: Personas, curriculum: dict, client_for, sent: list) -> None:
    response = client_for(personas.alice).post(
        "/api/v1/submissions/", {"exercise": "realm-1-trial-1", "code": "x = 1\n"}, format="json"
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("def f():\n\treturn 1\n        return 2\n", 3),  # inconsistent indentation
        ("return 1\n", 1),  # found only when compiling, not when parsing
        ("x = (1,\n", 1),  # never closed
        ("def f():\nreturn 1\n", 2),  # IndentationError
    ],
)
def test_errors_found_by_the_parser_or_the_compiler(code: str, line: int) -> None:
    with pytest.raises(SyntaxProblem) as raised:
        check_syntax(code)
    assert raised.value.line == line and raised.value.status == 400


def test_compiling_runs_nothing(tmp_path) -> None:
    marker = tmp_path / "ran"
    check_syntax(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n")
    assert not marker.exists()


@pytest.mark.parametrize(
    "code",
    [
        "(" * 5000 + ")" * 5000,  # nesting the parser gives up on
        "x = " + "-" * 60000 + "1\n",  # a deep unary chain
        "x = [" * 3000 + "]" * 3000,
    ],
)
def test_pathological_nesting_is_a_clean_400(code: str) -> None:
    with pytest.raises(SyntaxProblem) as raised:
        check_syntax(code)
    assert raised.value.code == "syntax_error" and raised.value.status == 400


def test_large_constants_are_not_folded_into_memory() -> None:
    # the compiler folds constants, but not into huge values: these compile at once to small code
    check_syntax("x = 'a' * 10**9\ny = 2 ** 10**9\nz = (1,) * 10**8\n")
