"""The kit's own sentences to a student (exercises/kit/messages.py): each in Chinese and English with the
same placeholders, and no sentence about solution.py written anywhere else in the kit or a probe."""

import ast
import re
import string
from pathlib import Path

import pytest

from exercises.kit.messages import CATALOGUE, both

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "exercises" / "kit"
HAN = re.compile(r"[\u4e00-\u9fff]")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_sentence_is_in_chinese_and_english_with_the_same_placeholders(key: str) -> None:
    entry = CATALOGUE[key]
    assert set(entry) == {"zh", "en"}, key
    assert HAN.search(entry["zh"]), f"{key}: the zh text has no Chinese"
    assert not HAN.search(entry["en"]), f"{key}: the en text has Chinese in it"
    assert placeholders(entry["zh"]) == placeholders(entry["en"]), key
    rendered = both(key, **{name: "X" for name in placeholders(entry["en"])})
    zh, en = rendered.split(" / ", 1)
    assert HAN.search(zh) and en == entry["en"].format(**{name: "X" for name in placeholders(entry["en"])})


def test_the_missing_function_sentence_reads_in_both_languages() -> None:
    assert both("no_function", name="shared_tensor") == (
        "solution.py 没有定义函数 shared_tensor()：试炼要调用它 / "
        "solution.py defines no function shared_tensor(): the trial calls it"
    )


def _sentences_about_the_solution(source: Path) -> list[str]:
    """String literals (f-strings too) that say something about solution.py: more than the file name."""
    found = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if "solution.py" in text and text.strip() != "solution.py" and " " in text.strip():
            found.append(text)
    return found


KIT_SOURCES = sorted(path for path in KIT.glob("*.py") if path.name != "messages.py")
PROBES = sorted((ROOT / "exercises").glob("*/*/probe.py"))


@pytest.mark.parametrize("source", KIT_SOURCES + PROBES, ids=lambda path: str(path.relative_to(ROOT)))
def test_sentences_about_solution_py_come_from_the_catalogue(source: Path) -> None:
    # docstrings and comments are for us; only what the code builds at run time can reach a student
    docstrings = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                docstrings.add(docstring)
    sentences = [text for text in _sentences_about_the_solution(source) if text not in docstrings]
    assert not sentences, f"say these through exercises.kit.messages: {sentences}"
