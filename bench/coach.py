"""The coach's static analysis (ast, in the web process, on every debounced keystroke and each Run/Submit):
a typical 300-line solution, every reference solution one by one, and the size cap's worst cases, 20 runs
each unless told, beside `compile()` of the same text in the same run (the floor any analysis pays).

    .venv/bin/python bench/coach.py [--runs 20]

The issue's target: a 300-line file in ≤ 100 ms (median of 20).
"""

import argparse
import sys
import time

from common import ROOT, save, summary, table

sys.path.insert(0, str(ROOT / "platform"))


def timed(function, code: str, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        try:
            function(code)
        except (SyntaxError, RecursionError, MemoryError, ValueError):
            pass
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    from huashen.coach.analysis import code_analyze

    references = [path.read_text() for path in sorted((ROOT / "exercises").glob("*/*/reference/*.py"))]
    lines: list[str] = []
    for text in references:  # whole solutions until the file reaches 300 lines
        if len(lines) >= 300:
            break
        lines.extend(text.splitlines())
    typical = "\n".join(lines[:300]) + "\n"
    cap = 64 * 1024
    cases = {
        "300 lines of reference solutions": [typical],
        f"{len(references)} reference solutions, each alone": references,
        "64 KiB of torch.load calls (a finding each)": [
            "import torch\n" + "x = torch.load('m')\n" * (cap // 20)
        ],
        "64 KiB of small training loops": [
            (
                "import torch\n"
                + "def f(model, opt, loader):\n    for x, y in loader:\n        loss = model(x)\n"
                "        loss.backward()\n        opt.step()\n        total += loss\n"
            )
            * (cap // 130)
        ],
        "64 KiB, one expression of 30,000 terms": ["x = " + "+".join(["a"] * 30000) + "\n"],
        "5,000 nested parentheses (the parser gives up)": ["(" * 5000 + ")" * 5000],
    }
    rows = []
    for name, codes in cases.items():
        analysed = [value for code in codes for value in timed(code_analyze, code, runs)]
        compiled = [
            value for code in codes for value in timed(lambda c: compile(c, "<s>", "exec"), code, runs)
        ]
        complete = all(code_analyze(code).complete for code in codes)
        rows.append(
            {
                "case": name,
                **summary(analysed),
                "compile_median_ms": summary(compiled)["median_ms"],
                "complete": complete,
            }
        )
    table(
        "Coach: static analysis in the web process",
        rows,
        ["case", "n", "median_ms", "p95_ms", "max_ms", "compile_median_ms", "complete"],
    )
    save(
        "coach", rows, notes="ast parse + every rule; past 0.5 s an analysis stops and says it is incomplete"
    )
    quality()


def quality() -> None:
    """Precision on the reference solutions and recall on the known-wrong ones, per trial."""
    from huashen.coach.analysis import code_analyze
    from tests.coach.test_references import NAMED

    exercises = ROOT / "exercises"
    references = sorted(exercises.glob("*/*/reference/*.py"))
    noisy = [
        str(path.relative_to(exercises)) for path in references if code_analyze(path.read_text()).findings
    ]
    rows = []
    for trial in sorted(path for path in exercises.glob("*/*") if (path / "wrong").is_dir()):
        wrong = sorted((trial / "wrong").glob("*.py"))
        named = [path for path in wrong if code_analyze(path.read_text()).findings]
        prefix = str(trial.relative_to(exercises)) + "/"
        rows.append(
            {
                "trial": prefix.rstrip("/"),
                "wrong": len(wrong),
                "named": len(named),
                "visible_in_source": sum(key.startswith(prefix) for key in NAMED),
                "named_of_all": f"{len(named) / len(wrong):.0%}" if wrong else "-",
            }
        )
    all_wrong = sum(int(row["wrong"]) for row in rows)
    all_named = sum(int(row["named"]) for row in rows)
    rows.append(
        {
            "trial": "all",
            "wrong": all_wrong,
            "named": all_named,
            "visible_in_source": len(NAMED),
            "named_of_all": f"{all_named / all_wrong:.0%}",
        }
    )
    table(
        f"Coach: reference solutions with a finding: {len(noisy)} of {len(references)} "
        f"({', '.join(noisy) or 'none'}); wrong solutions named, per trial",
        rows,
        ["trial", "wrong", "named", "visible_in_source", "named_of_all"],
    )
    save(
        "coach_quality",
        rows,
        notes=f"references with a finding: {len(noisy)} of {len(references)}; visible_in_source: the wrong "
        "solutions tests/coach/test_references.py holds to their rule",
    )


if __name__ == "__main__":
    main()
