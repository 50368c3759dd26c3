"""Log lines that follow a submission: one JSON object per line, carrying the request id it belongs to.

Both sides use this module (standard library only): the web processes and the platform worker through
`huashen.ops.observability`, the graders through `workers.celery_app`. The id is the submission's
`request_id` (a UUID): the web side takes it from the HTTP request that created the submission, sends it
in the `GradeRequest`, the grader logs every line of that job with it and returns it in the
`GradeResult`, and the platform worker logs the recorded result with it. So

    grep 6f1c0d8e-... web.log grader.log platform-worker.log

follows one submission from the API through the grader back to its result.

    {"time": "2026-11-29T08:12:03.512Z", "level": "INFO", "logger": "workers.tasks",
     "message": "submission 42 graded: passed (100) in 1.41 s", "request_id": "6f1c...", "submission_id": 42}

`LOG_FORMAT=text` gives the same fields as a plain line, for a developer's terminal.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

LOG_FORMATS = ("json", "text")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("huashen_request_id", default="")
_submission_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "huashen_submission_id", default=None
)


def current_request_id() -> str:
    """The request id of the work in hand (an HTTP request, a grading job), or ""."""
    return _request_id.get()


def sane_request_id(value: str | None) -> str | None:
    """A client's or proxy's `X-Request-ID` in canonical form if it is a UUID (any spelling), else None.

    Only UUIDs are taken: the id is stored on the submission and written into every log line, so it must
    be short, unambiguous and free of anything a log parser would trip on.
    """
    if not value or len(value) > 64:
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def new_request_id() -> str:
    return str(uuid.uuid4())


@contextlib.contextmanager
def log_context(*, request_id: str | None = None, submission_id: int | None = None) -> Iterator[None]:
    """Within the block, every log record of this thread or task carries these ids."""
    tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = []
    if request_id is not None:
        tokens.append((_request_id, _request_id.set(request_id)))
    if submission_id is not None:
        tokens.append((_submission_id, _submission_id.set(submission_id)))
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


class ContextFilter(logging.Filter):
    """Puts the ids in hand on each record (`record.request_id`, `record.submission_id`).

    Attached to the handlers, so records of every logger (Django's, Celery's, ours) get them. A record
    that names its own ids (`extra={"request_id": ...}`) keeps them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = _request_id.get()
        if getattr(record, "submission_id", None) is None:
            record.submission_id = _submission_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ms), level, logger, message, and the ids when known."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }  # fmt: skip
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        submission_id = getattr(record, "submission_id", None)
        if submission_id is not None:
            entry["submission_id"] = submission_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ensure_ascii=False keeps Chinese messages readable; json.dumps escapes newlines, so a traceback
        # or a multi-line message never splits the object across lines.
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [request_id] message` for a terminal; the same fields as the JSON line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(ids)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [str(value) for value in (getattr(record, "request_id", ""),) if value]
        submission_id = getattr(record, "submission_id", None)
        if submission_id is not None:
            ids.append(f"#{submission_id}")
        record.ids = f"[{' '.join(ids)}] " if ids else ""
        return super().format(record)


def logging_config(*, log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: one stderr handler with the ids filter and the chosen format."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    formatter = "workers.logs.JsonFormatter" if log_format == "json" else "workers.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "workers.logs.ContextFilter"}},
        "formatters": {"huashen": {"()": formatter}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "huashen", "filters": ["context"]}
        },
        "root": {"handlers": ["console"], "level": level},
    }
