"""Rebuild the generated data files of every trial: `python -m exercises.kit.generate [--check]`.

A trial whose data is generated has a `generate.py` with `generate(bundle: Path) -> None` that writes
its `public/` and `hidden/` files deterministically. Generated files are committed (the grader stages
them as they are); `--check` regenerates into a scratch copy and fails if any committed file differs,
which `make test` runs so generated data can never drift from its generator.

Generated *data* (seeded numpy output, integer arrays, PNGs, JSON) is compared byte for byte: it is the
same on every processor. A file produced by *training* is not — floats from training differ in the last
bits between CPU kernels (AVX-512 vs AVX2, other BLAS paths) and training amplifies that — so a generator
lists such files in `TRAINED_FILES` and provides `trained_file_differences(name, fresh, committed)`, which
compares them by what matters (see `exercises.kit.shapes.reference_cnn_differences`).
"""

from __future__ import annotations

import ast
import filecmp
import hashlib
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

EXERCISES = Path(__file__).resolve().parents[1]


def generators() -> list[Path]:
    return sorted(EXERCISES.glob("*/*/generate.py"))


def _generator(bundle: Path):
    spec = importlib.util.spec_from_file_location(f"huashen_generate_{bundle.name}", bundle / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(bundle: Path) -> None:
    _generator(bundle).generate(bundle)


def _code_of(source: str) -> str:
    """A Python source's syntax tree without docstrings: what it does, not how it is formatted or
    commented (the tree's text is stable for one Python minor version, which the project pins)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def source_fingerprint(*paths: Path) -> str:
    """A SHA-256 over the code of the Python files a trained file was generated from (formatting,
    comments and docstrings left out, so reformatting a file does not call for a retrain)."""
    digest = hashlib.sha256()
    for path in paths:
        code = _code_of(Path(path).read_text(encoding="utf-8")).encode()
        digest.update(f"{Path(path).name}\0{len(code)}\0".encode())
        digest.update(code)
    return digest.hexdigest()


def stale(bundle: Path) -> list[str]:
    """Generated files of `bundle` that differ from a fresh generation: relative paths, and for a trained
    file that differs, the path followed by ": " and the reasons."""
    generator = _generator(bundle)
    trained = set(getattr(generator, "TRAINED_FILES", ()))
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / bundle.name
        shutil.copytree(bundle, copy, ignore=shutil.ignore_patterns("__pycache__"))
        for folder in ("public", "hidden"):
            shutil.rmtree(copy / folder, ignore_errors=True)
        generator.generate(copy)  # the copy holds the same generate.py: no second import
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
                relative = f"{folder}/{name}"
                if not (a.exists() and b.exists()):
                    differences.append(relative)
                elif relative in trained:
                    reasons = generator.trained_file_differences(relative, a, b)
                    if reasons:
                        differences.append(f"{relative}: {'; '.join(reasons)}")
                elif not filecmp.cmp(a, b, shallow=False):
                    differences.append(relative)
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
