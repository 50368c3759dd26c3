"""The command-line client prints the coach's findings that come with a Run or Submit answer."""

import io

import pytest

from huashen_cli.main import show_coach
from huashen_cli.messages import Language
from huashen_cli.terminal import Terminal

COACH = {
    "findings": [
        {
            "rule": "softmax-before-cross-entropy",
            "line": 5,
            "title": {
                "zh": "把 softmax 的输出交给了 CrossEntropyLoss",
                "en": "softmax output fed to CrossEntropyLoss",
            },
            "why": {"zh": "要的是 logits。", "en": "It expects logits."},
            "trial": {"slug": "custom-module", "url": "/trials/custom-module/"},
        }
    ],
    "parse_error": None,
    "complete": True,
}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "line 5: softmax output fed to CrossEntropyLoss",
                "It expects logits.",
                "Learn it in: http://h/trials/custom-module/",
            ],
        ),
        (
            "zh-hans",
            [
                "第 5 行：把 softmax 的输出交给了 CrossEntropyLoss",
                "要的是 logits。",
                "学习：http://h/trials/custom-module/",
            ],
        ),
    ],
)
def test_findings_are_printed_with_why_and_the_trial(
    monkeypatch: pytest.MonkeyPatch, language: str, expected: list[str]
) -> None:
    monkeypatch.delenv("HUASHEN_LANG", raising=False)
    stream = io.StringIO()
    show_coach(COACH, "http://h", Language(language), Terminal(stream, colour=False))
    for text in expected:
        assert text in stream.getvalue()


@pytest.mark.parametrize("coach", [None, {"findings": []}, "nonsense", {"findings": ["x"]}])
def test_nothing_is_printed_without_findings(coach: object) -> None:
    stream = io.StringIO()
    show_coach(coach, "http://h", Language("en"), Terminal(stream, colour=False))
    assert stream.getvalue() == ""
