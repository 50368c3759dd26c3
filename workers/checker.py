"""The trusted side of grading: `python -m workers.checker BUNDLE OUT MODE [VERIFY_OUT] [--job-seed=N]`
prints the report.

It runs outside the sandbox, in its own process, after the job's whole process tree is dead. The trial's
check.py scores the observations in OUT against expectations that never entered the sandbox, through
the kit's safe loaders (regular files only, no symlinks, size caps, never unpickling).

The warm form, `serve()`, is a long-lived checker (the grader's `WarmChecker`) that imported torch and
the kit once and forks a fresh child per check, so no check pays the import and no state of one check
survives into the next: the parent never runs a check itself. Requests are JSON lines on stdin
(`[BUNDLE, OUT, MODE, VERIFY_OUT?, --job-seed=N?]`), replies JSON lines on stdout (`{"code", "report"}`); the child's
own stdout goes to /dev/null and its stderr is the server's.

`--job-seed=N` is the job's secret seed (see `exercises.kit.heldout`): the check computes the held-out
labels of the inputs that job was staged with from it.
"""

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

JOB_SEED_OPTION = "--job-seed="


def _arguments(argv: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """(bundle, out, mode, verify_out) and the keyword arguments of `run_check` from a request."""
    seeds = [arg for arg in argv if arg.startswith(JOB_SEED_OPTION)]
    positional = [arg for arg in argv if not arg.startswith(JOB_SEED_OPTION)]
    verify_out = Path(positional[3]) if len(positional) > 3 else None
    options = {"job_seed": int(seeds[-1][len(JOB_SEED_OPTION) :])} if seeds else {}
    return [Path(positional[0]), Path(positional[1]), positional[2], verify_out], options


def main(argv: list[str]) -> int:
    from exercises.kit.check import run_check

    arguments, options = _arguments(argv)
    report = run_check(*arguments, **options)
    sys.stdout.write(json.dumps(report, ensure_ascii=False))
    return 0


def serve() -> int:
    """The warm checker's loop (see the module doc). Ends when stdin closes."""
    import numpy  # noqa: F401
    import torch  # noqa: F401

    import exercises.kit.check  # noqa: F401 - the imports every check would otherwise pay for

    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)  # nothing a check prints can corrupt the replies
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    for line in sys.stdin:
        try:
            argv = [str(arg) for arg in json.loads(line)]
        except (ValueError, TypeError):
            return 2
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(read_end)
            code = 0
            try:
                from exercises.kit.check import run_check

                arguments, options = _arguments(argv)
                data = json.dumps(run_check(*arguments, **options), ensure_ascii=False)
            except BaseException:  # the cold checker's traceback, for the grader's log
                traceback.print_exc()
                data, code = "", 1
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data.encode("utf-8"))
            os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            report = pipe.read().decode("utf-8", "replace")
        _pid, status = os.waitpid(child, 0)
        reply = {"code": os.waitstatus_to_exitcode(status), "report": report}
        replies.write(json.dumps(reply, ensure_ascii=False) + "\n")
        replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
