"""The time limit verdict names the limit the run reached (wall clock or CPU), in zh and en."""

import pytest

from workers.protocol import GradeRequest, Limits, Mode, Verdict
from workers.sandbox.runner import SandboxOutcome
from workers.verdicts import limit_verdict


def request(limits: Limits) -> GradeRequest:
    return GradeRequest(
        submission_id=1, trial="t", content_hash="h", mode=Mode.SUBMIT, code="x = 1", limits=limits
    )


def outcome(**flags: bool) -> SandboxOutcome:
    return SandboxOutcome(exit_code=None, wall_seconds=30.2, cpu_seconds=29.0, peak_memory_mb=80.0, **flags)


@pytest.mark.parametrize(
    ("flags", "zh", "en"),
    [
        ({"timed_out": True}, "超过 30 秒上限", "past the 30 s limit"),
        (
            {"timed_out": True, "cpu_exceeded": True},
            "超过 30 秒上限",
            "past the 30 s limit",
        ),  # the clock first
        ({"cpu_exceeded": True}, "CPU 时间超过 45 秒上限", "more than the 45 s of CPU time"),
    ],
)
def test_the_time_limit_message_says_the_limit(flags: dict[str, bool], zh: str, en: str) -> None:
    decided = limit_verdict(outcome(**flags), request(Limits(wall_seconds=30, cpu_seconds=45)))
    assert decided is not None
    verdict, message = decided
    assert verdict == Verdict.TIME_LIMIT
    assert zh in message["zh"] and en in message["en"]
