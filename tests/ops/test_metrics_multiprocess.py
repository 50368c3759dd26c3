"""PROMETHEUS_MULTIPROC_DIR: several web processes on one host report their requests together."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
sys.path[:0] = ['platform', '.']
import django
django.setup()
from huashen.ops import metrics
if sys.argv[1] == 'observe':
    metrics.observe_request(route='api:submission-list', method='POST', status=201, seconds=0.2)
else:
    print(metrics.exposition().decode())
"""


def run(directory: Path, action: str, tmp_path: Path) -> str:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}} | {
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "DJANGO_SETTINGS_MODULE": "huashen.settings",
        "HUASHEN_VAR_DIR": str(tmp_path / "var"),
    }
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, action], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_two_processes_add_up(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    run(directory, "observe", tmp_path)
    run(directory, "observe", tmp_path)
    text = run(directory, "scrape", tmp_path)
    line = next(
        line
        for line in text.splitlines()
        if line.startswith("huashen_http_request_duration_seconds_count") and "api:submission-list" in line
    )
    assert line.endswith(" 2.0"), line
    # the scrape-time figures come along (here from an empty database: reported as unavailable)
    assert 'huashen_metrics_source_up{source="database"}' in text
