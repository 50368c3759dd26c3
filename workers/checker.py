"""The trusted side of grading: `python -m workers.checker BUNDLE OUT MODE [VERIFY_OUT]` prints the report.

It runs outside the sandbox, in its own process, after the job's whole process tree is dead. The trial's
check.py scores the observations in OUT against expectations that never entered the sandbox, through
the kit's safe loaders (regular files only, no symlinks, size caps, never unpickling).
"""

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    bundle, out, mode = Path(argv[0]), Path(argv[1]), argv[2]
    verify_out = Path(argv[3]) if len(argv) > 3 else None
    from exercises.kit.check import run_check

    report = run_check(bundle, out, mode, verify_out)
    sys.stdout.write(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
