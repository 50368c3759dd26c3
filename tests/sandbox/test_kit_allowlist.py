"""What of the grading kit enters the sandbox: exactly the modules the probe side imports, never the check
side (check.py and what only the check and the grader use), and the lib dir's life on the host."""

import ast
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from workers.grader import Grader
from workers.staging import LIB_PREFIX, SANDBOX_KIT, reclaim_stale_lib_dirs

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "exercises" / "kit"
CHECK_SIDE = {"check.py"}  # at least: the trusted scorer itself


def kit_imports(source: Path) -> set[str]:
    """The `exercises.kit` modules `source` imports, anywhere in it (lazy imports too), as file names."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "exercises.kit":
                found |= {f"{alias.name}.py" for alias in node.names}
            elif node.module.startswith("exercises.kit."):
                found.add(node.module.split(".")[2] + ".py")
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[2] + ".py" for alias in node.names
                      if alias.name.startswith("exercises.kit.")}  # fmt: skip
    return found


def probe_side_sources() -> list[Path]:
    """Everything that runs inside: the harness, every probe and verify step, every solution and starter."""
    roots = [ROOT / "exercises", ROOT / "tests" / "fixtures" / "grading"]
    sources = [ROOT / "workers" / "harness" / "run.py"]
    for root in roots:
        for bundle in (toml.parent for toml in root.glob("*/*/exercise.toml")):
            sources += [
                bundle / name for name in ("probe.py", "verify.py", "starter.py") if (bundle / name).is_file()
            ]
            sources += sorted(bundle.glob("reference/*.py")) + sorted(bundle.glob("wrong/*.py"))
    return sources


def test_the_allowlist_is_exactly_what_the_probe_side_imports() -> None:
    needed = {"__init__.py"}
    frontier = set()
    for source in probe_side_sources():
        frontier |= kit_imports(source)
    while frontier:
        module = frontier.pop()
        if module not in needed:
            needed.add(module)
            frontier |= kit_imports(KIT / module)
    assert set(SANDBOX_KIT) == needed, (
        f"workers.staging.SANDBOX_KIT must list what the probe side imports: missing {needed - set(SANDBOX_KIT)}, "
        f"not needed {set(SANDBOX_KIT) - needed}"
    )
    assert not CHECK_SIDE & needed, "a probe-side module imports the check side"
    on_disk = {path.name for path in KIT.glob("*.py")}
    assert set(SANDBOX_KIT) < on_disk  # some of the kit (the check side at least) stays out


def test_the_lib_dir_holds_the_allowlist_and_no_check_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    grader = Grader(require_cgroups=False, warm=False)
    lib = grader.lib_dir()
    try:
        assert lib.parent == tmp_path and lib.name.startswith(f"{LIB_PREFIX}{os.getpid()}-")
        assert sorted(path.name for path in (lib / "exercises" / "kit").iterdir()) == sorted(SANDBOX_KIT)
        for path in lib.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "def run_check" not in text and "CHECKS" not in text, path
    finally:
        grader.close()
    assert not lib.exists() and list(tmp_path.iterdir()) == []


def test_a_dead_graders_lib_dir_is_reclaimed_and_a_live_ones_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = tmp_path / f"{LIB_PREFIX}{int(gone.stdout)}-abcd1234"
    live = tmp_path / f"{LIB_PREFIX}{os.getpid()}-abcd1234"
    other = tmp_path / "huashen-lib-legacy"  # no owner in its name: not ours to judge
    for folder in (dead, live, other):
        (folder / "exercises").mkdir(parents=True)
    assert reclaim_stale_lib_dirs() == [dead.name]
    assert not dead.exists() and live.is_dir() and other.is_dir()
    # A grader reclaims them itself when it makes its own lib dir.
    dead.mkdir()
    grader = Grader(require_cgroups=False, warm=False)
    grader.lib_dir()
    assert not dead.exists()
    grader.close()


def test_a_grader_process_that_exits_leaves_no_lib_dir(tmp_path: Path) -> None:
    script = "from workers.grader import Grader; print(Grader(require_cgroups=False, warm=False).lib_dir())"
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    made = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert Path(made.stdout.strip()).parent == tmp_path
    assert list(tmp_path.iterdir()) == []
