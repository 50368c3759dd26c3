"""The operations settings: LOG_FORMAT (json in the distributed shape, text for make run), the metrics
token and the readiness knobs, each failing loudly on a bad value."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHAPE = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "LOG_FORMAT", "METRICS_TOKEN"}


def settings_of(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value for key, value in os.environ.items() if key not in SHAPE and not key.startswith("READY_")
    }
    script = (
        "import sys; sys.path[:0] = ['platform', '.'];"
        "from huashen import settings as s;"
        "print(s.LOG_FORMAT, s.LOGGING['formatters']['huashen']['()'].rsplit('.', 1)[1], repr(s.METRICS_TOKEN),"
        " ','.join(s.READY_REQUIRED_QUEUES), s.READY_GRADER_MAX_AGE_SECONDS)"
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=clean | {"HUASHEN_VAR_DIR": str(tmp_path)} | env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_embedded_logs_text_and_requires_the_cpu_queue(tmp_path: Path) -> None:
    completed = settings_of(tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["text", "TextFormatter", "''", "cpu", "60"]


def test_the_distributed_shape_logs_json(tmp_path: Path) -> None:
    completed = settings_of(tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split()[:2] == ["json", "JsonFormatter"]


def test_the_knobs_are_read(tmp_path: Path) -> None:
    token_file = tmp_path / "metrics_token"
    token_file.write_text("s3cret\n")
    completed = settings_of(
        tmp_path, LOG_FORMAT="text", REDIS_URL="redis://127.0.0.1:1/0", METRICS_TOKEN_FILE=str(token_file),
        READY_REQUIRED_QUEUES="cpu,gpu", READY_GRADER_MAX_AGE_SECONDS="30",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["text", "TextFormatter", "'s3cret'", "cpu,gpu", "30"]


def test_an_unknown_log_format_fails_naming_the_variable(tmp_path: Path) -> None:
    completed = settings_of(tmp_path, LOG_FORMAT="xml")
    assert completed.returncode != 0
    assert "ImproperlyConfigured" in completed.stderr and "LOG_FORMAT" in completed.stderr
