"""A Try request: the student's snippet run in the sandbox with their code importable as `solution`.

    try_snippet(request, grader, sink, bundle) -> GradeResult

The same sandbox, limits and warm pool as a Run; no probe, no check, no held-out data. The output is
the job's stdout and stderr, streamed as events; the verdict says only how the run ended: `passed` (it
ran to its end, score 0: nothing was graded), `error` (the snippet or solution.py raised) or the limit
verdicts the runner observed. Figures come back as checked PNGs read from out/artifacts/ by descriptor
(never decoded here: the browser shows them as images).
"""

import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from workers.events import EventSink
from workers.protocol import GradeRequest, GradeResult, Verdict
from workers.sandbox.runner import job_dir, job_name, sandbox_account

if TYPE_CHECKING:
    from workers.grader import Grader

SNIPPET_FILE = "snippet.py"

RAN: dict[str, str] = {
    "zh": "代码片段运行完毕（只是试运行：没有评分，不计入尝试次数）。",
    "en": "The snippet ran to its end (a try only: nothing graded, no attempt counted).",
}
RAISED: dict[str, str] = {
    "zh": "代码片段抛出了异常：回溯在输出里。",
    "en": "The snippet raised an exception: the traceback is in the output.",
}


def try_snippet(request: GradeRequest, grader: "Grader", sink: EventSink, bundle: Path) -> GradeResult:
    from exercises.kit.check import read_artifacts
    from workers.grader import _limit_verdict, _result, _run_job

    with job_dir(job_name(f"s{request.submission_id}-try"), size_mb=request.limits.disk_mb) as work:
        out = stage(work, bundle, code=request.code, snippet=request.snippet)
        outcome, resources = _run_job(request, grader, sink, work)
        ended = _limit_verdict(outcome, request)
        if ended is not None:
            return _result(request, ended[0], grader, resources=resources, message=ended[1])
        try:
            fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            fd = None
        try:
            figures = read_artifacts(fd)
        finally:
            if fd is not None:
                os.close(fd)
    verdict, message = (Verdict.PASSED, RAN) if outcome.exit_code == 0 else (Verdict.ERROR, RAISED)
    result = _result(request, verdict, grader, resources=resources, artifacts=figures, message=message)
    return replace(result, score=0.0)  # nothing was graded


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
