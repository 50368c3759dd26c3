"""The fingerprints behind similar-code detection, on the curriculum's own reference solutions.

Planted copies (names renamed, top-level definitions reordered, comments rewritten, indentation and
blank lines changed) must score at least 0.8; the reference solutions of one trial, written apart, must
stay below the page's default threshold; boilerplate (starter code, statement code blocks) never counts;
and a fingerprint means the same in every process.
"""

import builtins
import io
import itertools
import keyword
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from huashen.similarity import winnowing
from huashen.similarity.winnowing import DEFAULT_THRESHOLD

ROOT = Path(__file__).resolve().parents[2]
TRIALS = sorted(path.parent for path in (ROOT / "exercises").glob("*/*/reference"))
REFERENCES = sorted((ROOT / "exercises").glob("*/*/reference/*.py"))


def _imported_names(code: str) -> set[str]:
    names: set[str] = set()
    for line in code.splitlines():
        match = re.match(r"\s*(?:from\s+\S+\s+)?import\s+(.+)", line)
        if match:
            names.update(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", match.group(1)))
    return names


def rename(code: str) -> str:
    """Every name the file binds gets another spelling; imports, builtins and attributes stay."""
    keep = _imported_names(code) | set(dir(builtins))
    renamed: dict[str, str] = {}
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    out = []
    for index, tok in enumerate(tokens):
        text = tok.string
        after_dot = index > 0 and tokens[index - 1].string == "."
        if tok.type == tokenize.NAME and not keyword.iskeyword(text) and text not in keep and not after_dot:
            text = renamed.setdefault(text, f"q{len(renamed)}_{text[::-1]}")
        elif tok.type == tokenize.COMMENT:
            text = "# 我自己写的 / my own work"
        out.append((tok.type, text))
    return tokenize.untokenize(out)


def reorder(code: str) -> str:
    """Top-level definitions (with their decorators) in reverse order, after everything else."""
    blocks: list[list[str]] = [[]]
    previous = ""
    for line in code.splitlines():
        starts = re.match(r"(def|class|async def) |@", line) and not previous.startswith("@")
        if starts:
            blocks.append([])
        blocks[-1].append(line)
        if line.strip():
            previous = line
    definitions = [b for b in blocks if b and re.match(r"(def|class|async def) |@", b[0])]
    others = [b for b in blocks if b not in definitions]
    return "\n\n\n".join("\n".join(block) for block in others + definitions[::-1]) + "\n"


def respace(code: str) -> str:
    lines = []
    for number, line in enumerate(code.splitlines()):
        indent = len(line) - len(line.lstrip(" "))
        line = " " * (indent // 4 * 2 + indent % 4) + line.lstrip(" ")
        lines.append(line)
        if (
            number % 6 == 5
            and line.strip().endswith(":") is False
            and not line.rstrip().endswith(("(", "[", "{", ",", "\\"))
        ):
            lines.append("")
    return "\n".join(lines)


def planted(code: str) -> str:
    copy = respace(rename(reorder(code)))
    compile(copy, "planted", "exec")  # still a Python program
    return copy


def _long_enough(path: Path) -> bool:
    """At least 20 fingerprints: below that a file is too short to be evidence of anything."""
    return len(winnowing.fingerprint(path.read_text(encoding="utf-8")).hashes) >= 20


@pytest.mark.parametrize(
    "path", [p for p in REFERENCES if _long_enough(p)], ids=lambda p: f"{p.parent.parent.name}/{p.name}"
)
def test_a_planted_copy_is_found(path: Path) -> None:
    code = path.read_text(encoding="utf-8")
    original = winnowing.fingerprint(code)
    copy = winnowing.fingerprint(planted(code))
    assert min(winnowing.similarity(original.hashes, copy.hashes)) >= 0.8


def test_most_reference_solutions_are_long_enough_to_plant() -> None:
    long_enough = [p for p in REFERENCES if _long_enough(p)]
    assert len(long_enough) >= 0.8 * len(REFERENCES)


def test_a_copy_that_changed_nothing_but_names_scores_one() -> None:
    original = "def train(model, data):\n    for x, y in data:\n        loss = model(x).sub(y).pow(2).mean()\n        loss.backward()\n    return loss.item() * 2 + 1 - 3\n"
    copy = original.replace("model", "net").replace("data", "batches").replace("loss", "l")
    first, second = winnowing.fingerprint(original * 3), winnowing.fingerprint(copy * 3)
    assert winnowing.similarity(first.hashes, second.hashes) == (1.0, 1.0)


def _trial_boilerplate(trial: Path) -> frozenset[int]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(trial.glob("statement.*.md"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(trial.glob("hints.*.md"))]
    starter = (trial / "starter.py").read_text(encoding="utf-8") if (trial / "starter.py").exists() else ""
    return winnowing.boilerplate_hashes(winnowing.boilerplate_code(starter=starter, texts=texts))


@pytest.mark.parametrize("trial", TRIALS, ids=lambda p: p.name)
def test_independent_reference_solutions_are_not_flagged(trial: Path) -> None:
    boilerplate = _trial_boilerplate(trial)
    solutions = {
        p.name: winnowing.fingerprint(p.read_text(encoding="utf-8"), boilerplate=boilerplate)
        for p in sorted((trial / "reference").glob("*.py"))
    }
    for (a, first), (b, second) in itertools.combinations(solutions.items(), 2):
        assert max(winnowing.similarity(first.hashes, second.hashes)) < DEFAULT_THRESHOLD, (a, b)


def test_starter_code_and_statement_blocks_are_boilerplate() -> None:
    starter = "import torch\n\n\ndef make_model(in_features, out_features):\n    # TODO: build it\n    raise NotImplementedError\n"
    statement = "Use this loop:\n\n```python\nfor epoch in range(epochs):\n    for inputs, targets in loader:\n        optimizer.zero_grad()\n        loss_fn(model(inputs), targets).backward()\n        optimizer.step()\n```\n"
    boilerplate = winnowing.boilerplate_hashes(winnowing.boilerplate_code(starter=starter, texts=[statement]))
    # Two students who wrote nothing of their own beyond the given code share no fingerprint.
    given = (
        starter
        + "\n\ndef train(model, loader, optimizer, loss_fn, epochs):\n"
        + "\n".join("    " + line for line in statement.split("```python\n")[1].split("```")[0].splitlines())
    )
    first = winnowing.fingerprint(given, boilerplate=boilerplate)
    second = winnowing.fingerprint(given.replace("loader", "batches"), boilerplate=boilerplate)
    assert len(first.hashes) < winnowing.MIN_FINGERPRINTS
    assert winnowing.similarity(first.hashes, second.hashes) == (0.0, 0.0)
    # Without the boilerplate removed the same two are identical.
    assert winnowing.similarity(winnowing.fingerprint(given).hashes, winnowing.fingerprint(given).hashes) == (
        1.0,
        1.0,
    )


def test_fingerprints_are_the_same_in_every_process() -> None:
    """Stored fingerprints are compared by other processes: a salted hash() would match nothing."""
    code = (ROOT / "exercises/04-transfer-deploy/02-replace-head/reference/solution.py").read_text()
    here = sorted(winnowing.fingerprint(code).hashes)
    script = (
        "import sys; from huashen.similarity import winnowing; "
        "print(sorted(winnowing.fingerprint(sys.stdin.read()).hashes))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}"}
    there = subprocess.run(
        [sys.executable, "-c", script], input=code, capture_output=True, text=True, env=env, check=True
    ).stdout
    assert here and eval(there) == here  # noqa: S307 - our own subprocess's list of ints


def test_matching_spans_cover_the_shared_code_only() -> None:
    shared = "def step(model, optimizer, inputs, targets):\n    optimizer.zero_grad()\n    loss = ((model(inputs) - targets) ** 2).mean()\n    loss.backward()\n    optimizer.step()\n    return loss.item()\n"
    mine = (
        "import math\n\n\ndef other():\n    return [math.sqrt(i) for i in range(10) if i % 3 == 1]\n\n\n"
        + shared
    )
    theirs = shared.replace("loss", "error")
    spans = winnowing.matching_spans(winnowing.fingerprint(mine), winnowing.fingerprint(theirs).hashes)
    assert spans
    assert all(start >= mine.index("def step") for start, _end in spans)
    covered = sum(end - start for start, end in spans)
    assert covered >= 0.8 * len(shared.strip())
