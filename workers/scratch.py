"""A Try request: the student's snippet run in the sandbox with their code importable as `solution`.

`workers.grader` runs it (`_try`) with what this module gives: the staged job, how it ended, its figures.
The same sandbox, limits and warm pool as a Run; no probe, no check, no held-out data. The output is
the job's stdout and stderr, streamed as events; the verdict says only how the run ended: `passed` (it
ran to its end, score 0: nothing was graded), `error` (the snippet or solution.py raised) or the limit
verdicts the runner observed. Figures come back as checked PNGs read from out/artifacts/ by descriptor
(never decoded here: the browser shows them as images).
"""

import os
import shutil
from pathlib import Path

from workers.protocol import Verdict
from workers.sandbox.runner import sandbox_account

SNIPPET_FILE = "snippet.py"

RAN: dict[str, str] = {
    "zh": "代码片段运行完毕（只是试运行：没有评分，不计入尝试次数）。",
    "en": "The snippet ran to its end (a try only: nothing graded, no attempt counted).",
}
RAISED: dict[str, str] = {
    "zh": "代码片段抛出了异常：回溯在输出里。",
    "en": "The snippet raised an exception: the traceback is in the output.",
}


def figures(out: Path) -> list[dict[str, str]]:
    """The figures the snippet left in out/artifacts/: checked PNGs, read by descriptor (never decoded)."""
    from exercises.kit.check import read_artifacts

    try:
        fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return []
    try:
        return read_artifacts(fd)
    finally:
        os.close(fd)


def ending(exit_code: int | None) -> tuple[Verdict, dict[str, str]]:
    """How a try that hit no limit ended: it ran to its end, or it (or solution.py) raised."""
    return (Verdict.PASSED, RAN) if exit_code == 0 else (Verdict.ERROR, RAISED)


def stage(work: Path, bundle: Path, *, code: str, snippet: str) -> Path:
    """The job's files: solution.py, snippet.py and the trial's public data (what a Run's code can read);
    never the probe, check.py or hidden/. Returns out/, writable by the sandbox account only."""
    (work / "solution.py").write_text(code, encoding="utf-8")
    (work / SNIPPET_FILE).write_text(snippet, encoding="utf-8")
    if (bundle / "public").is_dir():
        shutil.copytree(
            bundle / "public", work / "public", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    out = work / "out"
    out.mkdir()
    account = sandbox_account()
    if os.geteuid() == 0 and account is not None:
        os.chown(out, account.pw_uid, account.pw_gid)
        out.chmod(0o700)
    else:
        out.chmod(0o777)
    for path in work.rglob("*"):
        if path != out and path.parent != out:
            path.chmod(0o755 if path.is_dir() else 0o644)
    return out
