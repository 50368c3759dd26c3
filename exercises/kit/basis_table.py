"""The verified/observed table of every trial's checks, built from the bundles' check.py.

    python -m exercises.kit.basis_table            # print the markdown table
    python -m exercises.kit.basis_table --write    # replace the table in docs/architecture.md

Each row is one trial: its number (realm.trial), its slug, its *verified* checks (the answer reached the
trusted side as data and the check recomputes what it must be) and its *observed* ones (only the
student's process can see them), each with its `basis_note`. A trial whose checks declare no basis yet
is shown as not classed. docs/architecture.md holds the table between the two marker comments below;
tests/kit/test_basis_table.py keeps it equal to what this module generates.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from exercises.kit.check import Check, load_checks

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"
DOC = ROOT / "docs" / "architecture.md"
START = "<!-- basis-table:start (generated: python -m exercises.kit.basis_table --write) -->"
END = "<!-- basis-table:end -->"


@dataclass(frozen=True)
class Trial:
    number: str  # "1.3"
    slug: str
    bundle: Path
    boundary: bool  # probe.py defines driver(ctx): graded behind the process boundary
    checks: tuple[Check, ...]

    @property
    def classed(self) -> bool:
        return any(check.basis for check in self.checks)


def _leading_number(name: str) -> int:
    return int(name.split("-", 1)[0])


def defines_driver(probe: Path) -> bool:
    """Whether probe.py defines a top-level `driver` function (read, not imported)."""
    if not probe.is_file():
        return False
    tree = ast.parse(probe.read_text(encoding="utf-8"), filename=str(probe))
    return any(isinstance(node, ast.FunctionDef) and node.name == "driver" for node in tree.body)


def trials(exercises: Path = EXERCISES) -> list[Trial]:
    found = []
    for toml in sorted(exercises.glob("*/*/exercise.toml")):
        bundle = toml.parent
        spec = tomllib.loads(toml.read_text(encoding="utf-8"))
        number = f"{_leading_number(bundle.parent.name)}.{_leading_number(bundle.name)}"
        found.append(
            Trial(
                number=number,
                slug=str(spec["slug"]),
                bundle=bundle,
                boundary=defines_driver(bundle / "probe.py"),
                checks=tuple(load_checks(bundle)),
            )
        )
    return found


def _cell(checks: list[Check]) -> str:
    if not checks:
        return "—"
    return "; ".join(
        f"`{check.key}`" + (f" ({check.basis_note.strip()})" if check.basis_note.strip() else "")
        for check in checks
    )


def row(trial: Trial) -> str:
    name = f"{trial.number} {trial.slug}"
    if not trial.classed:
        where = "graded behind the boundary" if trial.boundary else "the probe shares the student's process"
        return f"| {name} | not classed yet ({where}) | not classed yet |"
    verified = [check for check in trial.checks if check.basis == "verified"]
    observed = [check for check in trial.checks if check.basis == "observed"]
    unclassed = [check for check in trial.checks if check.basis not in ("verified", "observed")]
    observed_cell = _cell(observed)
    if unclassed:
        extra = ", ".join(f"`{check.key}`" for check in unclassed) + " not classed yet"
        observed_cell = extra if observed_cell == "—" else f"{observed_cell}; {extra}"
    return f"| {name} | {_cell(verified)} | {observed_cell} |"


def render(found: list[Trial] | None = None) -> str:
    found = trials() if found is None else found
    lines = ["| trial | verified | observed |", "|---|---|---|", *(row(trial) for trial in found)]
    return "\n".join(lines) + "\n"


def documented(text: str) -> str | None:
    """The table between the markers in `text`, or None when the markers are missing."""
    if START not in text or END not in text:
        return None
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write(doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    if documented(text) is None:
        raise SystemExit(f"{doc} has no {START} … {END} markers")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    doc.write_text(f"{before}{START}\n{render()}{END}{after}", encoding="utf-8")


def main(argv: list[str]) -> int:
    if argv[1:] == ["--write"]:
        write()
        return 0
    if argv[1:]:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
