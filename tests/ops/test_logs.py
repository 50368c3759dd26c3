"""workers.logs: one JSON object per line with the ids in hand; the text twin; the logging config."""

import json
import logging
import uuid

import pytest

from workers.logs import (
    ContextFilter,
    JsonFormatter,
    TextFormatter,
    current_request_id,
    log_context,
    logging_config,
    sane_request_id,
)


def record(message: str = "graded", *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("workers.tasks", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(made, key, value)
    ContextFilter().filter(made)
    return made


def test_a_json_line_has_time_level_logger_message_and_the_ids() -> None:
    with log_context(request_id="6f1c0d8e-0000-4000-8000-000000000001", submission_id=42):
        line = JsonFormatter().format(record("submission %s graded: %s", 42, "passed"))
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "workers.tasks"
    assert entry["message"] == "submission 42 graded: passed"
    assert entry["request_id"] == "6f1c0d8e-0000-4000-8000-000000000001"
    assert entry["submission_id"] == 42
    assert entry["time"].endswith("Z") and "T" in entry["time"]


def test_without_ids_the_line_names_none() -> None:
    entry = json.loads(JsonFormatter().format(record()))
    assert "request_id" not in entry and "submission_id" not in entry


def test_a_multi_line_message_and_its_traceback_stay_on_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        made = logging.LogRecord("x", logging.ERROR, __file__, 1, "first\nsecond 化神", (), sys.exc_info())
    ContextFilter().filter(made)
    line = JsonFormatter().format(made)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "first\nsecond 化神"
    assert "ValueError: boom" in entry["exception"]


def test_a_record_that_names_its_own_request_id_keeps_it() -> None:
    with log_context(request_id="outer"):
        made = record(request_id="own")
    assert made.request_id == "own"


def test_the_context_ends_with_its_block() -> None:
    with log_context(request_id="a", submission_id=1):
        with log_context(request_id="b"):
            assert current_request_id() == "b"
        assert current_request_id() == "a"
    assert current_request_id() == ""
    assert record().submission_id is None


def test_the_text_line_carries_the_same_ids() -> None:
    with log_context(request_id="rid", submission_id=7):
        line = TextFormatter().format(record("hello"))
    assert line.endswith("workers.tasks [rid #7] hello")
    assert TextFormatter().format(record("hello")).endswith("workers.tasks hello")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("6F1C0D8E-0000-4000-8000-000000000001", "6f1c0d8e-0000-4000-8000-000000000001"),
        ("6f1c0d8e000040008000000000000001", "6f1c0d8e-0000-4000-8000-000000000001"),  # nginx $request_id
        ("", None),
        (None, None),
        ("not-a-uuid", None),
        ('6f1c0d8e-0000-4000-8000-000000000001\n{"level": "CRITICAL"}', None),
        ("a" * 500, None),
    ],
)
def test_only_a_uuid_is_a_sane_request_id(given: str | None, expected: str | None) -> None:
    assert sane_request_id(given) == expected


def test_logging_config_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(log_format="xml")


def test_logging_config_writes_json_through_the_context_filter(capsys: pytest.CaptureFixture[str]) -> None:
    import logging.config

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logging.config.dictConfig(logging_config(log_format="json", level="INFO"))
        request_id = str(uuid.uuid4())
        with log_context(request_id=request_id, submission_id=3):
            logging.getLogger("huashen.test").info("recorded")
        entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    assert (entry["message"], entry["request_id"], entry["submission_id"]) == ("recorded", request_id, 3)
