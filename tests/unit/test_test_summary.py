"""The one line that ends `make test` (scripts/test_summary.py) reads the phases' counts as written."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "test_summary.py"


@pytest.fixture
def summary():  # the script is a file, not a package module
    spec = importlib.util.spec_from_file_location("test_summary_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_phase_counts_and_the_wall_time_are_printed(summary, tmp_path: Path) -> None:
    (tmp_path / "started").write_text("1000\n")
    (tmp_path / "1-unit.json").write_text(
        json.dumps(
            {
                "passed": 1261,
                "failed": 1,
                "error": 0,
                "skipped": 2,
                "xfailed": 3,
                "xpassed": 0,
                "seconds": 283.4,
            }
        )
    )
    (tmp_path / "2-integration.json").write_text(
        json.dumps(
            {"passed": 194, "failed": 0, "error": 0, "skipped": 0, "xfailed": 0, "xpassed": 0, "seconds": 374}
        )
    )
    line = summary.summary_line(tmp_path, now=1000 + 725)
    assert "unit, sandbox, golden, pages: 1261 passed, 1 failed, 2 skipped, 3 xfailed in 283 s" in line
    assert "integration, security, browser: 194 passed, 0 failed in 374 s" in line
    assert line.endswith("wall time 12 min 5 s")


def test_a_phase_that_wrote_nothing_is_never_reported_green(summary, tmp_path: Path) -> None:
    (tmp_path / "1-unit.json").write_text(json.dumps({"passed": 5, "failed": 0, "seconds": 1}))
    line = summary.summary_line(tmp_path, now=0)
    assert "integration, security, browser: no result (did not run to the end)" in line
    assert "wall time unknown" in line
