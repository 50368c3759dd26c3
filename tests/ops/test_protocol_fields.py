"""GradeResult's request_id and grader fields: added within protocol version 1, optional both ways."""

from workers.protocol import PROTOCOL_VERSION, GradeResult, Verdict


def test_they_travel_with_the_result() -> None:
    result = GradeResult(
        submission_id=3, verdict=Verdict.PASSED, score=100.0, request_id="rid", grader="gpu-0@host"
    )
    back = GradeResult.from_wire(result.to_wire())
    assert (back.request_id, back.grader) == ("rid", "gpu-0@host")


def test_a_result_from_an_older_grader_still_reads() -> None:
    wire = GradeResult(submission_id=3, verdict=Verdict.FAILED, score=0.0).to_wire()
    del wire["request_id"], wire["grader"]
    back = GradeResult.from_wire(wire)
    assert (back.request_id, back.grader, back.version) == ("", "", PROTOCOL_VERSION)


def test_oversized_values_are_cut() -> None:
    wire = GradeResult(submission_id=3, verdict=Verdict.FAILED, score=0.0).to_wire()
    wire |= {"request_id": "r" * 1000, "grader": "g" * 1000}
    back = GradeResult.from_wire(wire)
    assert (len(back.request_id), len(back.grader)) == (64, 200)
