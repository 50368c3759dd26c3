"""The first code that runs inside the sandbox: it announces itself and hands over to the trial's probe.

Started as `python -I -B -u /opt/huashen/lib/harness/run.py`: isolated mode, so no PYTHON* variable, no
user site and not the work dir is on sys.path (a student's `json.py` in /work cannot shadow anything).
A probe.py that defines `driver(ctx)` is a boundary trial: `run_probe` forks the student's code into an
agent process and this process becomes the driver (`exercises.kit.driver`). A `try` job has no probe: it
runs the Try cell's snippet beside the student's code (`harness/scratch.py`).
"""

import os
import sys

sys.path.insert(0, "/opt/huashen/lib")

from pathlib import Path

from exercises.kit.probe import run_probe

if __name__ == "__main__":
    try:
        os.write(3, b'{"kind": "started"}\n')
    except OSError:
        pass
    if os.environ["HUASHEN_MODE"] == "try":
        from harness.scratch import run_snippet

        sys.exit(run_snippet(Path("/work"), Path("/work/out")))
    sys.exit(
        run_probe(Path("/work"), Path("/work/out"), os.environ["HUASHEN_MODE"], os.environ["HUASHEN_DEVICE"])
    )
