import pytest

from workers.protocol import (
    PROTOCOL_VERSION,
    CheckResult,
    EventKind,
    GradeEvent,
    GradeRequest,
    GradeResult,
    Limits,
    Mode,
    ProtocolError,
    Verdict,
)


def test_request_round_trips_through_the_wire() -> None:
    request = GradeRequest(
        submission_id=7, trial="tensor-basics", content_hash="ab" * 32, mode=Mode.RUN, code="x = 1\n",
        limits=Limits(wall_seconds=5, memory_mb=512), device="gpu", request_id="r-1",
    )  # fmt: skip
    wire = request.to_wire()
    assert wire["version"] == PROTOCOL_VERSION
    assert GradeRequest.from_wire(wire) == request


def test_result_round_trips_with_checks() -> None:
    result = GradeResult(
        submission_id=7,
        verdict=Verdict.FAILED,
        score=50.0,
        checks=[
            CheckResult("shape", False, 0.0, 50.0, {"zh": "形状", "en": "Shape"}, {"zh": "错", "en": "Wrong"})
        ],
        message={"zh": "未通过", "en": "Failed"},
    )
    assert GradeResult.from_wire(result.to_wire()) == result


@pytest.mark.parametrize(
    "change",
    [
        {"version": PROTOCOL_VERSION + 1},
        {"version": None},
        {"verdict": "great"},
        {"score": 101},
        {"score": "x"},
    ],
)
def test_result_refuses_malformed_messages(change: dict) -> None:
    wire = GradeResult(submission_id=1, verdict=Verdict.PASSED, score=100.0).to_wire() | change
    with pytest.raises(ProtocolError):
        GradeResult.from_wire(wire)


def test_request_refuses_missing_fields_and_unknown_modes() -> None:
    wire = GradeRequest(submission_id=1, trial="t", content_hash="h", mode=Mode.SUBMIT, code="").to_wire()
    with pytest.raises(ProtocolError):
        GradeRequest.from_wire({k: v for k, v in wire.items() if k != "code"})
    with pytest.raises(ProtocolError):
        GradeRequest.from_wire(wire | {"mode": "cheat"})


def test_event_round_trip() -> None:
    event = GradeEvent(3, EventKind.METRIC, {"loss": 0.5}, 12.5)
    assert GradeEvent.from_wire(event.to_wire()) == event
