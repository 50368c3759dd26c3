"""The versioned message contract between the platform and grader workers (standard library only).

The platform sends a GradeRequest by Celery task name; a grader streams GradeEvents and answers with a
GradeResult. Messages are plain JSON-able dicts on the wire; `from_wire` refuses a message of another
protocol version rather than guess at it.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_VERSION = 1
GRADE_TASK = "huashen.grade"
RESULT_TASK = "huashen.record_result"
MARK_RUNNING_TASK = "huashen.mark_running"  # a grader's "running" note, on the platform queue


class ProtocolError(ValueError):
    """A message that does not match this version of the contract."""


class Mode(enum.StrEnum):
    RUN = "run"  # visible checks on public inputs, does not count for progress
    SUBMIT = "submit"  # every check, counts
    # Added within version 1: the Try cell's snippet run beside the student's code (`GradeRequest.snippet`),
    # no check and no verdict on the code; a grader that predates it refuses the request as malformed.
    TRY = "try"


class Verdict(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the student's code raised
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    GPU_OUT_OF_MEMORY = "gpu_oom"
    SANDBOX_VIOLATION = "sandbox_violation"
    INTERNAL_ERROR = "internal_error"  # ours, never the student's


class EventKind(enum.StrEnum):
    LOG = "log"
    STDOUT = "stdout"
    STDERR = "stderr"
    METRIC = "metric"
    STATUS = "status"
    ARTIFACT = "artifact"


@dataclass(frozen=True)
class Limits:
    wall_seconds: int = 60
    cpu_seconds: int = 120
    memory_mb: int = 2048
    pids: int = 64
    output_kb: int = 1024
    disk_mb: int = 256
    gpu_memory_mb: int = 4096


@dataclass(frozen=True)
class GradeRequest:
    submission_id: int
    trial: str  # the exercise slug
    content_hash: str  # the pinned version's; a grader with other content refuses
    mode: Mode
    code: str
    limits: Limits = field(default_factory=Limits)
    device: str = "cpu"
    request_id: str = ""
    # Added within version 1: what a `try` request runs, with `code` importable as `solution`.
    snippet: str = ""
    version: int = PROTOCOL_VERSION

    def to_wire(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> GradeRequest:
        _expect_version(data)
        try:
            return cls(
                submission_id=int(data["submission_id"]),
                trial=str(data["trial"]),
                content_hash=str(data["content_hash"]),
                mode=Mode(data["mode"]),
                code=str(data["code"]),
                limits=Limits(**data.get("limits", {})),
                device=str(data.get("device", "cpu")),
                request_id=str(data.get("request_id", "")),
                snippet=str(data.get("snippet", "")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ProtocolError(f"malformed GradeRequest: {error}") from error


@dataclass(frozen=True)
class GradeEvent:
    seq: int
    kind: EventKind
    payload: Any
    time: float

    def to_wire(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind.value, "payload": self.payload, "time": self.time}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> GradeEvent:
        try:
            return cls(int(data["seq"]), EventKind(data["kind"]), data["payload"], float(data["time"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ProtocolError(f"malformed GradeEvent: {error}") from error


@dataclass(frozen=True)
class CheckResult:
    key: str
    passed: bool
    score: float  # the points this check earned
    max_score: float
    title: dict[str, str]  # {"zh": ..., "en": ...}
    message: dict[str, str]
    visible: bool = True


@dataclass(frozen=True)
class GradeResult:
    submission_id: int
    verdict: Verdict
    score: float  # 0..100, the percentage of the checks' points earned
    checks: list[CheckResult] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)  # wall_seconds, cpu_seconds, peak_memory_mb, ...
    device: str = "cpu"
    versions: dict[str, str] = field(default_factory=dict)  # python, torch, ...
    duration: float = 0.0
    traceback: str = ""
    message: dict[str, str] = field(default_factory=dict)  # a plain explanation of the verdict
    # Images the run produced for the student (a Grad-CAM overlay): {"name", "media_type", "data" (base64)}.
    artifacts: list[dict[str, str]] = field(default_factory=list)
    # Added within version 1 (optional, so either side may be the older one): the submission's request id,
    # so the platform logs the recorded result under the id the API and the grader used, and the Celery
    # node name of the grader that ran it.
    request_id: str = ""
    grader: str = ""
    # Added within version 1: the fencing token of the grader's claim on the submission (`claim_key`);
    # the platform refuses a result from a holder whose claim a newer one replaced. 0: unfenced (embedded).
    claim: int = 0
    version: int = PROTOCOL_VERSION

    def to_wire(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> GradeResult:
        _expect_version(data)
        try:
            score = float(data["score"])
            if not 0.0 <= score <= 100.0:
                raise ValueError(f"score {score} outside 0..100")
            return cls(
                submission_id=int(data["submission_id"]),
                verdict=Verdict(data["verdict"]),
                score=score,
                checks=[CheckResult(**check) for check in data.get("checks", [])],
                resources=dict(data.get("resources", {})),
                device=str(data.get("device", "cpu")),
                versions=dict(data.get("versions", {})),
                duration=float(data.get("duration", 0.0)),
                traceback=str(data.get("traceback", "")),
                message=dict(data.get("message", {})),
                artifacts=[_artifact(item) for item in data.get("artifacts", [])][:MAX_ARTIFACTS],
                request_id=str(data.get("request_id", ""))[:64],
                grader=str(data.get("grader", ""))[:200],
                claim=int(data.get("claim", 0)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ProtocolError(f"malformed GradeResult: {error}") from error


MAX_ARTIFACTS = 4
MAX_ARTIFACT_BASE64 = 700_000  # 512 KiB encoded


def _artifact(item: dict[str, Any]) -> dict[str, str]:
    name, media_type, data = str(item["name"]), str(item["media_type"]), str(item["data"])
    if (
        media_type != "image/png"
        or len(data) > MAX_ARTIFACT_BASE64
        or not name.replace("-", "").replace("_", "").isalnum()
    ):
        raise ValueError(f"unacceptable artifact {name!r}")
    return {"name": name[:40], "media_type": media_type, "data": data}


def _expect_version(data: dict[str, Any]) -> None:
    version = data.get("version")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version!r}, this side speaks {PROTOCOL_VERSION}")


# --- Live events: one Redis Stream per submission ------------------------------------------------------
# The grader appends, the platform replays and follows. Entry ids are "0-<seq>", so "after N" is simply
# the id "0-N" and a reconnecting client gets exactly the events after the last one it saw.
EVENT_STREAM_MAXLEN = 20_000  # events kept per submission (logs beyond this are cut, with a notice)
EVENT_STREAM_TTL_SECONDS = 24 * 3600
HEARTBEAT_KEY_PREFIX = "huashen:grader:"
HEARTBEAT_TTL_SECONDS = 60


def event_stream_key(submission_id: int) -> str:
    return f"huashen:submission:{submission_id}:events"


# --- Claims: one grading per submission at a time ------------------------------------------------------
# Before running a request a grader claims its submission: it takes the next fencing token from
# `fence_key` (INCR) and sets `claim_key` to that token for CLAIM_LEASE_SECONDS, renewing it while the
# run lasts. A copy of the request that finds the claim taken (a redelivery, a recovery) is acknowledged
# without running. The platform sets the claim to CLAIM_DONE once the result is recorded (or reaped), so
# a copy restored later never runs either. Event writes and results carry the token: a holder whose
# claim was replaced has its writes refused. A claim whose lease ran out (its grader died) is how the
# platform knows to send the request again.
CLAIM_LEASE_SECONDS = 30
CLAIM_DONE = "done"
CLAIM_DONE_TTL_SECONDS = EVENT_STREAM_TTL_SECONDS


def claim_key(submission_id: int, request_id: str = "") -> str:
    """Keyed by the submission's request id too: unlike ids, it never repeats across databases (a test
    database, a restored one) sharing one Redis, so a stale "done" never stops a new submission."""
    return f"huashen:submission:{submission_id}:{request_id}:claim"


def fence_key(submission_id: int, request_id: str = "") -> str:
    return f"huashen:submission:{submission_id}:{request_id}:fence"


def fence_key_of(claim: str) -> str:
    """The fence key beside a claim key."""
    return claim.removesuffix(":claim") + ":fence"


def event_stream_id(seq: int) -> str:
    return f"0-{seq}"


def encode_event(event: GradeEvent) -> dict[str, str]:
    """The fields of a stream entry (Redis stores strings)."""
    import json

    return {
        "kind": event.kind.value,
        "payload": json.dumps(event.payload, ensure_ascii=False),
        "time": repr(event.time),
    }


def decode_event(entry_id: str | bytes, fields: dict[Any, Any]) -> GradeEvent:
    import json

    def text(value: Any) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    plain = {text(key): text(value) for key, value in fields.items()}
    seq = int(text(entry_id).split("-", 1)[1])
    try:
        return GradeEvent(seq, EventKind(plain["kind"]), json.loads(plain["payload"]), float(plain["time"]))
    except (KeyError, ValueError) as error:
        raise ProtocolError(f"malformed event entry {text(entry_id)}: {error}") from error


def bundle_content_hash(files: dict[str, str], realm: str) -> str:
    """A trial's content identity from its files' sha256 digests and its realm; both sides compute it."""
    import hashlib

    digest = hashlib.sha256()
    for path, file_digest in sorted({**files, "@realm": realm}.items()):
        digest.update(f"{path}\0{file_digest}\n".encode())
    return digest.hexdigest()


def bundle_files(folder: Any) -> dict[str, str]:
    """relative path → sha256 of every file of a bundle folder (caches and hidden files left out)."""
    import hashlib
    from pathlib import Path

    files = {}
    root = Path(folder)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part == "__pycache__" or part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and path.suffix != ".pyc":
            files[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def clean_text(text: str) -> str:
    """Text a database and a browser can hold: no NUL characters, no lone surrogates."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def clean_json(value: Any, depth: int = 0) -> Any:
    """A JSON value with every string cleaned and every non-finite number replaced by None.

    Whatever crosses from a job to the platform passes through here, so a student who prints a NUL or
    reports NaN cannot make the result unstorable (PostgreSQL's jsonb rejects both).
    """
    import math

    if depth > 64:
        return None
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_json(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(item, depth + 1) for item in value]
    return value
