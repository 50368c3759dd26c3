"""The grader's settings, read from the environment in one place (the web side has `huashen/env.py`).

Each reader is a function, read when called, so a test that sets a variable sees it; a malformed value
names the variable in its error, so a grader started with a bad setting fails at start-up with a message
an operator can act on. Nothing here imports Django.
"""

import os
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class GraderSettingError(ValueError):
    """A grader setting holds a value it cannot mean."""


def _str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise GraderSettingError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise GraderSettingError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default  # set but empty is unset: a security setting never turns off by accident
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise GraderSettingError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def redis_url() -> str:
    """REDIS_URL: the broker, the event streams and the claims."""
    return _str("REDIS_URL", "redis://127.0.0.1:6379/0")


def hard_limit_seconds() -> int:
    """GRADING_HARD_LIMIT_SECONDS: the longest any job may run (the broker's visibility timeout is above it)."""
    return _int("GRADING_HARD_LIMIT_SECONDS", 900, minimum=1)


def outage_patience_seconds() -> int:
    """GRADING_OUTAGE_PATIENCE_SECONDS: how long a grader rides out a Redis outage before requeueing."""
    return _int("GRADING_OUTAGE_PATIENCE_SECONDS", 120)


def claim_lease_seconds(default: int) -> int:
    """GRADING_CLAIM_LEASE_SECONDS: a claim's lease (tests lower it); the platform reads the same."""
    return max(1, _int("GRADING_CLAIM_LEASE_SECONDS", default))


def log_format() -> str:
    """LOG_FORMAT: `json` (default) or `text` for a terminal."""
    return _str("LOG_FORMAT", "json")


def device() -> str:
    """HUASHEN_DEVICE: `cpu` (default) or `gpu`, what this grader offers."""
    value = _str("HUASHEN_DEVICE", "cpu")
    if value not in ("cpu", "gpu"):
        raise GraderSettingError(f"HUASHEN_DEVICE={value!r} is neither cpu nor gpu")
    return value


def cuda_visible_devices() -> str:
    """CUDA_VISIBLE_DEVICES: the GPUs reserved for this grader (their /dev nodes are bound into jobs)."""
    return _str("CUDA_VISIBLE_DEVICES", "")


def require_cgroups() -> bool:
    """HUASHEN_REQUIRE_CGROUPS: refuse to grade without cgroup limits (default on; 0 for development)."""
    return _flag("HUASHEN_REQUIRE_CGROUPS", True)


def exercises_dir() -> Path | None:
    """HUASHEN_EXERCISES_DIR: where the trial bundles are, when not the repository's exercises/."""
    value = os.environ.get("HUASHEN_EXERCISES_DIR")
    return Path(value) if value else None


def torch_home() -> Path | None:
    """TORCH_HOME: the pretrained-weights cache bound read-only into jobs, when it is a folder."""
    value = os.environ.get("TORCH_HOME")
    return Path(value) if value and Path(value).is_dir() else None


def sandbox_threads() -> int:
    """HUASHEN_SANDBOX_THREADS: intra-op threads a job's torch may use (default 1)."""
    return _int("HUASHEN_SANDBOX_THREADS", 1, minimum=1)


def warm_pool_requested() -> bool:
    """HUASHEN_WARM_POOL: 0 turns the warm sandbox pool off (default on)."""
    return _flag("HUASHEN_WARM_POOL", True)


def jobs_dir() -> Path:
    """HUASHEN_JOBS_DIR: where a root grader keeps its jobs' folders."""
    return Path(_str("HUASHEN_JOBS_DIR", "/var/lib/huashen/jobs"))
