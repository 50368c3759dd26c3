"""The syntax check a submission passes in the web process before it is sent to a grader (compile(), no
execution): the time to answer a syntax error on every trial's reference solution with one line broken,
beside the same solutions unbroken and the size cap's worst cases, 50 runs each, in the same run.

    .venv/bin/python bench/syntax_check.py [--runs 50]

The answer it replaces was a sandbox round trip ending in a runtime-exception verdict (seconds).
"""

import argparse
import os
import sys
import time

from common import ROOT, save, summary, table

sys.path.insert(0, str(ROOT / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huashen.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def timed(check, code: str, runs: int) -> list[float]:
    from huashen.grading.syntax import SyntaxProblem

    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        try:
            check(code)
        except SyntaxProblem:
            pass
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    import django

    django.setup()
    from django.conf import settings

    from huashen.grading.syntax import check_syntax

    solutions = sorted((ROOT / "exercises").glob("*/*/reference/solution.py"))
    valid = [path.read_text() for path in solutions]
    broken = [text.replace("\n", "\nif True\n", 1) for text in valid]  # a missing colon on line 2
    cap = settings.SUBMISSION_MAX_BYTES
    cases = {
        f"{len(valid)} reference solutions, as they are": valid,
        f"{len(valid)} reference solutions, one line broken": broken,
        f"{cap // 1024} KiB of statements, the error on the last line": [
            "x = 1 + 2\n" * ((cap - 16) // 10) + "def f(:\n"
        ],
        f"{cap // 1024} KiB, one expression of 30,000 terms": ["x = " + "+".join(["a"] * 30000) + "\n"],
        "5,000 nested parentheses (the parser gives up)": ["(" * 5000 + ")" * 5000],
    }
    rows = []
    for name, codes in cases.items():
        seconds = [value for code in codes for value in timed(check_syntax, code, runs)]
        rows.append({"case": name, **summary(seconds)})
    table(
        "Syntax check before dispatch (compile() in the web process)",
        rows,
        ["case", "n", "median_ms", "p95_ms", "max_ms"],
    )
    save(
        "syntax_check",
        rows,
        notes="compile() of the submitted text, per submission; replaces a sandbox round trip",
    )


if __name__ == "__main__":
    main()
