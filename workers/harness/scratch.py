"""The Try cell inside the sandbox: the student's snippet, run with their solution.py importable as `solution`.

Nothing here is graded and nothing leaves but what a notebook would show: the snippet's own output on
stdout and stderr (streamed like any run's), the value of its last line when that line is an expression
(printed as `repr`, a tensor with its shape, dtype and device under it), a traceback without the
harness's own frames, and the matplotlib figures left open, saved as PNG files in out/artifacts/ for the
grader to read back (`exercises.kit.check.read_artifacts`: checked PNGs, at most four).

/work is appended to sys.path, after the standard library and the venv, so `import solution` finds the
student's file and a student's `json.py` in /work still cannot shadow the `json` everything else imports.
"""

from __future__ import annotations

import ast
import linecache
import os
import sys
import traceback
from pathlib import Path
from typing import Any

MAX_FIGURES = 4
FIGURE_DPI = 80
HARNESS_PREFIX = "/opt/huashen/lib/"
SNIPPET_FILE = "<try>"


def run_snippet(work: Path, out: Path) -> int:
    """Run /work/snippet.py notebook-style; 0 when it ran to its end, 1 when it (or solution.py) raised."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # no display: figures are saved, never shown
    # matplotlib asks fc-list for system fonts; without a config it prints an error into the output.
    os.environ.setdefault("FONTCONFIG_FILE", str(Path(__file__).with_name("fonts.conf")))
    sys.path.append(str(work))
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    status = 0
    try:
        source = (work / "snippet.py").read_text(encoding="utf-8")
        # Its lines in the cache tracebacks read, so each frame of the snippet shows its line.
        linecache.cache[SNIPPET_FILE] = (len(source), None, source.splitlines(True), SNIPPET_FILE)
        tree = ast.parse(source, filename=SNIPPET_FILE)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        import solution  # the student's code: its own errors are theirs to see

        namespace["solution"] = solution
        exec(compile(tree, SNIPPET_FILE, "exec"), namespace)  # noqa: S102 - in the sandbox, by design
        if last is not None:
            expression = ast.Expression(last.value)  # type: ignore[attr-defined]
            value = eval(compile(expression, SNIPPET_FILE, "eval"), namespace)  # noqa: S307
            if value is not None:
                print(shown(value))
    except SystemExit as leaving:
        status = leaving.code if isinstance(leaving.code, int) else (0 if leaving.code is None else 1)
    except BaseException as error:
        print_error(error)
        status = 1
    sys.stdout.flush()
    save_figures(out / "artifacts")
    return status


def shown(value: Any) -> str:
    """How the last expression's value is printed: its repr; a tensor also says shape, dtype and device."""
    torch = sys.modules.get("torch")
    text = repr(value)
    if torch is not None and isinstance(value, torch.Tensor):
        shape = tuple(value.shape)
        text += f"\n# shape {shape}, dtype {value.dtype}, device {value.device}"
        if value.requires_grad:
            text += ", requires_grad=True"
    return text


def print_error(error: BaseException) -> None:
    """The traceback of what the snippet raised, without this harness's frames."""
    summary = traceback.TracebackException.from_exception(error)
    _drop_harness_frames(summary)
    sys.stderr.write("".join(summary.format()))
    sys.stderr.flush()


def _drop_harness_frames(summary: traceback.TracebackException) -> None:
    kept = [frame for frame in summary.stack if not frame.filename.startswith(HARNESS_PREFIX)]
    summary.stack = traceback.StackSummary.from_list(kept)
    for chained in (summary.__cause__, summary.__context__):
        if chained is not None:
            _drop_harness_frames(chained)


def save_figures(folder: Path) -> None:
    """The matplotlib figures still open, as PNG files (only if the snippet imported pyplot)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    try:
        numbers = list(pyplot.get_fignums())[:MAX_FIGURES]
        if not numbers:
            return
        folder.mkdir(exist_ok=True)
        for index, number in enumerate(numbers, start=1):
            pyplot.figure(number).savefig(folder / f"figure-{index}.png", format="png", dpi=FIGURE_DPI)
    except Exception as error:
        sys.stderr.write(f"matplotlib: {type(error).__name__}: {error}\n")
