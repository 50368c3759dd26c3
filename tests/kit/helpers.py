"""Running a trial's probe the way the grader's harness does, minus the sandbox (tested elsewhere).

The probe runs in a fresh `python -I -B` subprocess with the repository on sys.path, exactly as
workers/harness/run.py starts it inside bwrap, so torch, sys.modules and the student's module never
touch the test process. Optionally a pipe is passed as file descriptor 3 to collect metric events.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TENSOR_BASICS = REPO / "exercises" / "01-tensors" / "01-tensor-basics"

_RUNNER = """
import os, sys
sys.path.insert(0, sys.argv[1])
events = int(sys.argv[4])
if events >= 0:
    os.dup2(events, 3)
    os.close(events)
from pathlib import Path
from exercises.kit.probe import run_probe
work = Path(sys.argv[2])
sys.exit(run_probe(work, work / "out", sys.argv[3], "cpu"))
"""


@dataclass
class ProbeRun:
    work: Path
    out: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    events: list[dict] = field(default_factory=list)


def stage(
    root: Path, solution: Path | str, *, bundle: Path = TENSOR_BASICS, probe: str | None = None
) -> Path:
    """A work folder like the grader's: solution.py, probe.py, public/, an empty out/."""
    work = root / "work"
    work.mkdir(parents=True)
    source = solution.read_text(encoding="utf-8") if isinstance(solution, Path) else solution
    (work / "solution.py").write_text(source, encoding="utf-8")
    if probe is None:
        shutil.copy(bundle / "probe.py", work / "probe.py")
    else:
        (work / "probe.py").write_text(probe, encoding="utf-8")
    if (bundle / "public").is_dir():
        shutil.copytree(bundle / "public", work / "public")
    else:
        (work / "public").mkdir()
    (work / "out").mkdir()
    return work


def run_probe_subprocess(
    work: Path, mode: str = "submit", *, events: bool = False, timeout: float = 240
) -> ProbeRun:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(work),
        "LANG": "C.UTF-8",
        "HUASHEN_MODE": mode,
        "HUASHEN_DEVICE": "cpu",
        "CUDA_VISIBLE_DEVICES": "",  # a developer's GPU must not change what the golden tests see
        "OMP_NUM_THREADS": "1",
    }
    read_end = write_end = -1
    if events:
        read_end, write_end = os.pipe()
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            [sys.executable, "-I", "-B", "-c", _RUNNER, str(REPO), str(work), mode, str(write_end)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            pass_fds=(write_end,) if events else (),
            check=False,
        )
    finally:
        if events:
            os.close(write_end)
    seconds = time.perf_counter() - started
    lines: list[dict] = []
    if events:
        with os.fdopen(read_end, "rb") as stream:
            lines = [json.loads(line) for line in stream.read().splitlines() if line.strip()]
    return ProbeRun(
        work, work / "out", completed.returncode, completed.stdout, completed.stderr, seconds, lines
    )


def must_fail(solution: Path) -> set[str]:
    """The checks a known-wrong solution names on its first line: `# must fail: key1, key2`."""
    first = solution.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# must fail:"
    assert first.startswith(prefix), f"{solution.name} must start with '{prefix} key1, key2'"
    return {key.strip() for key in first[len(prefix) :].split(",") if key.strip()}


def failed_keys(report: dict) -> set[str]:
    return {check["key"] for check in report["checks"] if not check["passed"]}
