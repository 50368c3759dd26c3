"""The trusted check, run outside the sandbox: a fresh checker process per check, or the long-lived warm
checker (`workers.checker.serve`, torch imported once, a fork per check). Either way the check reads only
the observations the grader copied out of the job, and a check that fails to answer is an internal error."""

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from workers.checker import JOB_SEED_OPTION
from workers.protocol import Mode

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]


CHECK_TIMEOUT_SECONDS = 120


def checker_env(torch_home: Path | None) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "HOME": str(Path(tempfile.gettempdir())),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        **({"TORCH_HOME": str(torch_home)} if torch_home else {}),
    }


class WarmChecker:
    """A long-lived trusted checker process (`workers.checker.serve`): torch imported once, a fresh fork
    per check. Same environment and user as the cold checker. On a timeout or any protocol trouble it
    is killed and the next check starts a new one; a check it cannot answer returns None and the
    grader runs that check cold."""

    def __init__(self, torch_home: Path | None) -> None:
        self.torch_home = torch_home
        self.process: subprocess.Popen[str] | None = None
        self.lock = threading.Lock()

    def _start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); "
             "from workers.checker import serve; sys.exit(serve())", str(REPO)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=checker_env(self.torch_home),
            start_new_session=True,
        )  # fmt: skip
        if _read_line(process, timeout=CHECK_TIMEOUT_SECONDS) != {"ready": True}:
            _kill(process)
            raise OSError("the warm checker did not start")
        return process

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str] | None:
        with self.lock:
            try:
                if self.process is None or self.process.poll() is not None:
                    self.process = self._start()
                assert self.process.stdin is not None
                self.process.stdin.write(json.dumps(argv) + "\n")
                self.process.stdin.flush()
                reply = _read_line(self.process, timeout=CHECK_TIMEOUT_SECONDS)
            except (OSError, ValueError) as error:
                logger.warning("the warm checker failed (%s); this check runs cold", error)
                reply = None
            if not isinstance(reply, dict) or not isinstance(reply.get("code"), int):
                if self.process is not None:
                    _kill(self.process)
                    self.process = None
                return None
            return subprocess.CompletedProcess(argv, reply["code"], str(reply.get("report", "")), "")

    def close(self) -> None:
        if self.process is not None:
            _kill(self.process)
            self.process = None


def _read_line(process: subprocess.Popen[str], *, timeout: float) -> Any:
    import select

    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise OSError(f"no answer in {timeout} s")
    line = process.stdout.readline()
    if not line:
        raise OSError("the warm checker exited")
    return json.loads(line)


def _kill(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_check(
    bundle: Path,
    out: Path,
    mode: Mode,
    verify_out: Path | None = None,
    *,
    torch_home: Path | None = None,
    checker: WarmChecker | None = None,
    job_seed: int | None = None,
) -> dict[str, Any] | None:
    argv = [str(bundle), str(out), mode.value, *([str(verify_out)] if verify_out else [])]
    if job_seed is not None:
        argv.append(f"{JOB_SEED_OPTION}{job_seed}")
    completed = checker.run(argv) if checker is not None else None
    if completed is None:
        try:
            completed = subprocess.run(
                [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); "
                 "from workers.checker import main; sys.exit(main(sys.argv[1:]))", str(REPO), *argv],
                capture_output=True, text=True, timeout=CHECK_TIMEOUT_SECONDS, env=checker_env(torch_home),
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            logger.error("the check of %s timed out", bundle.name)
            return None
    if completed.returncode != 0:
        logger.error("the check of %s failed: %s", bundle.name, completed.stderr[-4000:])
        return None
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        logger.error("the check of %s printed no report: %s", bundle.name, completed.stdout[-2000:])
        return None
    return report if isinstance(report, dict) else None
