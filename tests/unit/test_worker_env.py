"""The grader's settings (workers/env.py): defaults, parsing, and a security setting that never turns off
by accident."""

import pytest

from workers import env


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "GRADING_HARD_LIMIT_SECONDS", "HUASHEN_DEVICE", "HUASHEN_REQUIRE_CGROUPS",
                 "HUASHEN_WARM_POOL", "HUASHEN_SANDBOX_THREADS", "HUASHEN_EXERCISES_DIR"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    assert env.redis_url() == "redis://127.0.0.1:6379/0"
    assert env.hard_limit_seconds() == 900
    assert env.device() == "cpu"
    assert env.require_cgroups() is True and env.warm_pool_requested() is True
    assert env.sandbox_threads() == 1 and env.exercises_dir() is None


@pytest.mark.parametrize("value", ["", "  ", "1", "yes", "on", "true"])
def test_cgroups_stay_required_unless_turned_off_in_words(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HUASHEN_REQUIRE_CGROUPS", value)
    assert env.require_cgroups() is True


@pytest.mark.parametrize("value", ["0", "no", "off", "false"])
def test_cgroups_turned_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HUASHEN_REQUIRE_CGROUPS", value)
    assert env.require_cgroups() is False


@pytest.mark.parametrize(
    ("name", "value", "reader"),
    [
        ("HUASHEN_REQUIRE_CGROUPS", "maybe", env.require_cgroups),
        ("GRADING_HARD_LIMIT_SECONDS", "ten", env.hard_limit_seconds),
        ("HUASHEN_SANDBOX_THREADS", "0", env.sandbox_threads),
        ("HUASHEN_DEVICE", "tpu", env.device),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, reader
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(env.GraderSettingError, match=name):
        reader()
