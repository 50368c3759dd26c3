"""Text as a page shows it, apart from the queries that read it: a run's output as a terminal would show it,
and two versions of code compared line by line (unified and side by side). No database here."""

import difflib
import re
from dataclasses import dataclass

ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|[@-Z\\-_])")


def terminal_text(text: str) -> str:
    """What a terminal would show for `text`, as plain text: a carriage return rewinds its line, so only
    what follows the last one on each line stays (tqdm's bars end as their final state); ANSI colour
    codes are dropped (the live view renders them)."""
    lines = []
    for line in ANSI_ESCAPE.sub("", text).replace("\r\n", "\n").split("\n"):
        lines.append(line.rsplit("\r", 1)[-1])
    return "\n".join(lines)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "context", "added", "removed", "hunk", "file"
    text: str


@dataclass(frozen=True)
class SideBySideRow:
    kind: str  # "equal", "replace", "delete", "insert"
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def code_diff(
    left: str, right: str, *, left_name: str, right_name: str
) -> tuple[list[DiffLine], list[SideBySideRow]]:
    """`left` against `right`: the unified diff's lines and the side-by-side rows."""
    left_lines, right_lines = left.splitlines(), right.splitlines()
    unified: list[DiffLine] = []
    for line in difflib.unified_diff(
        left_lines, right_lines, fromfile=left_name, tofile=right_name, lineterm=""
    ):
        if line.startswith(("---", "+++")) and len(unified) < 2:
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "added"
        elif line.startswith("-"):
            kind = "removed"
        else:
            kind = "context"
        unified.append(DiffLine(kind, line))
    rows = []
    matcher = difflib.SequenceMatcher(a=left_lines, b=right_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            rows.append(
                SideBySideRow(
                    tag,
                    i + 1 if i < i2 else None,
                    left_lines[i] if i < i2 else "",
                    j + 1 if j < j2 else None,
                    right_lines[j] if j < j2 else "",
                )
            )
    return unified, rows
