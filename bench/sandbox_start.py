"""Sandbox start to the student's first line: warm (the zygote pool) against cold (bwrap + python +
`import torch`, the cold path's launch chain), 20 runs each, in the same run.

    .venv/bin/python bench/sandbox_start.py [--runs 20]

Root with cgroups (like a grader); without them the warm rows say why they are missing.
"""

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from common import save, summary, table

from workers.protocol import Limits
from workers.sandbox.policy import SandboxPolicy
from workers.sandbox.runner import job_dir, job_name, run_sandboxed
from workers.sandbox.selftest import warm_self_test
from workers.sandbox.warm.pool import PoolSetup, WarmPool, warm_possible

CODE = "import torch\nprint('first line', flush=True)\n"
LIMITS = Limits(wall_seconds=60, cpu_seconds=60, memory_mb=2048, pids=64, output_kb=64, disk_mb=16)


def first_line(run, lib: Path) -> float:
    """Seconds from asking for a sandbox to the student's first printed line."""
    name = job_name("bench")
    with job_dir(name, size_mb=16) as work:
        (work / "job.py").write_text(CODE)
        (work / "job.py").chmod(0o644)
        policy = SandboxPolicy.for_job(
            work_dir=work,
            lib_dir=lib,
            script="/work/job.py",
            env={"OMP_NUM_THREADS": "1"},
            tmp_bytes=16 << 20,
        )
        seen: list[float] = []
        started = time.monotonic()
        outcome = run(
            policy, LIMITS, job_name=name,
            on_output=lambda stream, text: seen.append(time.monotonic()) if stream == "stdout" else None,
            on_event=lambda event: None,
        )  # fmt: skip
    if not seen or outcome.exit_code != 0:
        raise RuntimeError(f"the job did not print: {outcome}")
    return seen[0] - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    lib = Path(tempfile.mkdtemp(prefix="huashen-bench-lib-"))
    lib.chmod(0o755)
    rows = []
    try:
        cold = [
            first_line(lambda *a, **k: run_sandboxed(*a, require_cgroups=os.geteuid() == 0, **k), lib)
            for _ in range(runs)
        ]
        rows.append({"path": "cold (bwrap + python + import torch)", **summary(cold)})
        reason = warm_possible()
        if reason is None:
            pool = WarmPool(
                PoolSetup(lib_dir=lib, torch_home=None, devices=(), threads=1), self_test=warm_self_test
            )
            pool.start(wait=True)
            if pool.ready() is None:
                reason = f"the warm pool did not start: {pool.problems}"
            else:
                first_line(pool.run, lib)  # not counted: the first run after the self-test
                warm = [first_line(pool.run, lib) for _ in range(runs)]
                rows.append({"path": "warm (zygote fork + namespaces)", **summary(warm)})
                rows[-1]["speedup_vs_cold"] = round(rows[0]["median_ms"] / rows[-1]["median_ms"], 1)
            pool.close()
        if reason is not None:
            rows.append({"path": "warm", "unavailable": reason})
    finally:
        shutil.rmtree(lib, ignore_errors=True)
    table(
        f"Sandbox start to first student line ({runs} runs each; targets: warm median <= 50 ms, >= 30x cold)",
        rows, ["path", "n", "median_ms", "p95_ms", "min_ms", "max_ms", "speedup_vs_cold", "unavailable"],
    )  # fmt: skip
    save(
        "sandbox_start",
        rows,
        notes="the student's code is `import torch; print(...)`; time to its first stdout line",
    )


if __name__ == "__main__":
    main()
