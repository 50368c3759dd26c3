"""Each realm-1 trial's reference solution graded end to end (sandbox + trusted check), warm against cold,
in the same run. CPU on this machine.

    .venv/bin/python bench/reference_grading.py [--runs 3] [--realm 01-tensors] [--trial 03-train-loop]

With --trial, only that trial of the realm is timed and bench/results.json is left as it is (its section
holds whole realms).
"""

import argparse
import os
import statistics
import time
import tomllib
from pathlib import Path

from common import ROOT, save, table

from workers.events import ListSink
from workers.grader import Grader, grade
from workers.protocol import GradeRequest, Limits, Mode, Verdict, bundle_content_hash, bundle_files


def request_for(bundle: Path) -> GradeRequest:
    spec = tomllib.loads((bundle / "exercise.toml").read_text(encoding="utf-8"))
    return GradeRequest(
        submission_id=0,
        trial=spec["slug"],
        content_hash=bundle_content_hash(bundle_files(bundle), spec["realm"]),
        mode=Mode.SUBMIT,
        code=(bundle / "reference" / "solution.py").read_text(encoding="utf-8"),
        limits=Limits(**spec.get("limits", {})),
    )


def timed(grader: Grader, request: GradeRequest) -> float:
    started = time.monotonic()
    result = grade(request, grader, ListSink())
    if result.verdict != Verdict.PASSED:
        raise RuntimeError(f"{request.trial}: the reference got {result.verdict}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--realm", default="01-tensors")
    parser.add_argument("--trial", default="*", help="a trial folder of the realm (default: all)")
    options = parser.parse_args()
    bundles = sorted(
        toml.parent for toml in (ROOT / "exercises" / options.realm).glob(f"{options.trial}/exercise.toml")
    )
    cold = Grader(require_cgroups=True, warm=False)
    warm = Grader(require_cgroups=True, warm=True)
    pool = warm.warm_pool(wait=True)
    warm_ready = pool is not None and pool.ready() is not None
    rows = []
    for bundle in bundles:
        request = request_for(bundle)
        row: dict[str, object] = {"trial": request.trial}
        row["cold_ms"] = round(statistics.median(timed(cold, request) for _ in range(options.runs)) * 1000)
        if warm_ready:
            timed(warm, request)  # not counted: the warm checker's first start
            row["warm_ms"] = round(
                statistics.median(timed(warm, request) for _ in range(options.runs)) * 1000
            )
            row["speedup"] = round(int(row["cold_ms"]) / int(row["warm_ms"]), 1)
        rows.append(row)
    if pool is not None:
        pool.close()
    if warm.warm_checker() is not None:
        warm.warm_checker().close()  # type: ignore[union-attr]
    table(
        f"Reference grading time per trial, {options.realm} (median of {options.runs}; sandbox + check)",
        rows, ["trial", "cold_ms", "warm_ms", "speedup"],
    )  # fmt: skip
    notes = "" if warm_ready else f"warm unavailable: {pool.problems if pool else 'not root/cgroups'}"
    print(f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    if options.trial == "*":
        save("reference_grading", rows, notes=notes)


if __name__ == "__main__":
    main()
