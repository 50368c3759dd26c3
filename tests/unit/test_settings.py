"""Settings read the environment through typed helpers that fail loudly, naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from huashen.env import database_from_url, env_bool, env_choice, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings module in a fresh interpreter with exactly these variables set."""
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}
    }
    script = (
        "import sys; sys.path[:0] = ['platform', '.'];"
        "from huashen import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], s.HUASHEN_EXECUTOR)"
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=clean | env, capture_output=True, text=True, check=False
    )


def test_embedded_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    completed = load_settings(HUASHEN_VAR_DIR=str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "local",
    ]


def test_urls_switch_to_the_distributed_shape() -> None:
    completed = load_settings(DATABASE_URL="postgres://u:p@db:5432/huashen", REDIS_URL="redis://redis:6379/0")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [
        "django.db.backends.postgresql",
        "channels_redis.core.RedisChannelLayer",
        "celery",
    ]


def test_refuses_debug_off_with_the_development_secret_key() -> None:
    completed = load_settings(DEBUG="0")
    assert completed.returncode != 0
    assert "ImproperlyConfigured" in completed.stderr and "SECRET_KEY" in completed.stderr


def test_debug_off_starts_with_a_secret_key_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("a-real-secret-from-a-file\n")
    completed = load_settings(DEBUG="0", SECRET_KEY_FILE=str(secret), HUASHEN_VAR_DIR=str(tmp_path))
    assert completed.returncode == 0, completed.stderr


def test_bad_boolean_names_the_variable() -> None:
    completed = load_settings(DEBUG="maybe")
    assert completed.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in completed.stderr


@pytest.mark.parametrize("raw, expected", [("1", True), ("yes", True), ("off", False), ("0", False)])
def test_env_bool(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("HS_FLAG", raw)
    assert env_bool("HS_FLAG", not expected) is expected


def test_env_int_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HS_COUNT", "ten")
    with pytest.raises(ImproperlyConfigured, match="HS_COUNT='ten' is not an integer"):
        env_int("HS_COUNT", 1)
    monkeypatch.setenv("HS_COUNT", "0")
    with pytest.raises(ImproperlyConfigured, match="HS_COUNT=0 is below the minimum of 1"):
        env_int("HS_COUNT", 1, minimum=1)
    monkeypatch.delenv("HS_COUNT")
    assert env_int("HS_COUNT", 5) == 5


def test_env_choice_and_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HS_EXECUTOR", "magic")
    with pytest.raises(ImproperlyConfigured, match="HS_EXECUTOR='magic' must be one of: local, celery"):
        env_choice("HS_EXECUTOR", "local", ("local", "celery"))
    monkeypatch.setenv("HS_HOSTS", " a.example, b.example ,,")
    assert env_list("HS_HOSTS", []) == ["a.example", "b.example"]


def test_secret_file_that_cannot_be_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HS_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="HS_SECRET_FILE="):
        env_str("HS_SECRET")


def test_database_urls() -> None:
    postgres = database_from_url("postgres://user:p%40ss@db.internal:6543/huashen?sslmode=require")
    assert postgres["ENGINE"] == "django.db.backends.postgresql"
    assert (postgres["USER"], postgres["PASSWORD"], postgres["HOST"], postgres["PORT"], postgres["NAME"]) == (
        "user", "p@ss", "db.internal", "6543", "huashen",
    )  # fmt: skip
    assert postgres["OPTIONS"] == {"sslmode": "require"}
    assert database_from_url("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"
    for bad in ("mysql://db/x", "postgres://db/", "sqlite://", "postgres://db:notaport/x"):
        with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
            database_from_url(bad)
