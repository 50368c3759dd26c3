"""The one line that ends `make test`: per phase, how many tests passed, failed and were skipped, and the
wall time of the whole run.

    python3 scripts/test_summary.py DIR

DIR holds `started` (the run's start, seconds since the epoch, written by the Makefile) and one JSON file per
phase, named `<n>-<phase>.json`, written by the suite itself (tests/conftest.py, `HUASHEN_TEST_SUMMARY`).
A phase that wrote nothing (it never started, or pytest crashed) is reported as such, never as green.
Standard library only: it must run even when the install step failed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

PHASES = (("1-unit", "unit, sandbox, golden, pages"), ("2-integration", "integration, security, browser"))


def phase_text(label: str, counts: dict[str, float] | None) -> str:
    if counts is None:
        return f"{label}: no result (did not run to the end)"
    parts = [f"{int(counts.get('passed', 0))} passed", f"{int(counts.get('failed', 0))} failed"]
    for outcome in ("error", "skipped", "xfailed", "xpassed"):
        if counts.get(outcome):
            parts.append(f"{int(counts[outcome])} {'errors' if outcome == 'error' else outcome}")
    return f"{label}: {', '.join(parts)} in {counts.get('seconds', 0):.0f} s"


def summary_line(directory: Path, *, now: float) -> str:
    texts = []
    for name, label in PHASES:
        path = directory / f"{name}.json"
        counts = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        texts.append(phase_text(label, counts))
    started = directory / "started"
    wall = now - float(started.read_text().strip()) if started.exists() else None
    minutes = f"{int(wall // 60)} min {int(wall % 60)} s" if wall is not None else "unknown"
    return f"[test] summary — {'; '.join(texts)}; wall time {minutes}"


if __name__ == "__main__":
    print(summary_line(Path(sys.argv[1]), now=time.time()))
