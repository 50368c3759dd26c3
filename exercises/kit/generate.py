"""Rebuild the generated data files of every trial: `python -m exercises.kit.generate [--check]`.

A trial whose data is generated has a `generate.py` with `generate(bundle: Path) -> None` that writes
its `public/` and `hidden/` files deterministically. Generated files are committed (the grader stages
them as they are); `--check` regenerates into a scratch copy and fails if any committed file differs,
which `make test` runs so generated data can never drift from its generator.
"""

from __future__ import annotations

import filecmp
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

EXERCISES = Path(__file__).resolve().parents[1]


def generators() -> list[Path]:
    return sorted(EXERCISES.glob("*/*/generate.py"))


def run(bundle: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"huashen_generate_{bundle.name}", bundle / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(bundle)


def stale(bundle: Path) -> list[str]:
    """Generated files of `bundle` that differ from a fresh generation (relative paths)."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / bundle.name
        shutil.copytree(bundle, copy, ignore=shutil.ignore_patterns("__pycache__"))
        for folder in ("public", "hidden"):
            shutil.rmtree(copy / folder, ignore_errors=True)
        run(copy)
        differences = []
        for folder in ("public", "hidden"):
            fresh, committed = copy / folder, bundle / folder
            fresh_files = (
                {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()} if fresh.exists() else set()
            )
            old_files = (
                {p.relative_to(committed) for p in committed.rglob("*") if p.is_file()}
                if committed.exists()
                else set()
            )
            for name in sorted(fresh_files | old_files):
                a, b = fresh / name, committed / name
                if not (a.exists() and b.exists() and filecmp.cmp(a, b, shallow=False)):
                    differences.append(f"{folder}/{name}")
        return differences


def main(argv: list[str]) -> int:
    failures = 0
    for script in generators():
        bundle = script.parent
        if "--check" in argv:
            differences = stale(bundle)
            for name in differences:
                print(f"{bundle.relative_to(EXERCISES)}/{name}: stale, run python -m exercises.kit.generate")
            failures += len(differences)
        else:
            run(bundle)
            print(f"generated {bundle.relative_to(EXERCISES)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
