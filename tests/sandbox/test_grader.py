"""The grader over real sandboxes, without Celery: the verify step, artifacts, and the verdict mapping."""

import base64
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.golden.test_golden import grade_solution
from workers.events import ListSink
from workers.grader import Grader, grade
from workers.protocol import (
    GradeRequest,
    GradeResult,
    Limits,
    Mode,
    Verdict,
    bundle_content_hash,
    bundle_files,
)
from workers.staging import SANDBOX_KIT
from workers.verdicts import MESSAGES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "grading"
VERIFY = FIXTURES / "01-sandbox" / "02-verify"
VERIFY_BOUNDARY = FIXTURES / "01-sandbox" / "04-verify-boundary"
PROBE = FIXTURES / "01-sandbox" / "01-probe"


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(exercises_dir=FIXTURES, require_cgroups=True)


def write(tmp_path: Path, code: str) -> Path:
    path = tmp_path / "solution.py"
    path.write_text(code)
    return path


def test_the_verify_step_sees_the_first_runs_files_but_not_the_students_code(grader: Grader) -> None:
    _spec, result, sink = grade_solution(grader, VERIFY, VERIFY / "reference" / "solution.py")
    assert (result.verdict, result.score) == (Verdict.PASSED, 100.0), result
    statuses = [event.payload for event in sink.events if event.kind == "status"]
    assert statuses == [{"status": "running", "device": "cpu"}]
    _spec, wrong, _sink = grade_solution(grader, VERIFY, VERIFY / "wrong" / "wrong_value.py")
    assert wrong.verdict == Verdict.FAILED and "'42'" in wrong.checks[0].message["en"]


def test_a_boundary_trials_verify_step_gets_only_the_files_its_driver_vouched_for(grader: Grader) -> None:
    """The first run's driver reads back the file export() wrote and keeps it (out/files/value.txt); the
    verify step (a driver too) receives that and the driver's observations, nothing the student wrote."""
    _spec, result, _sink = grade_solution(
        grader, VERIFY_BOUNDARY, VERIFY_BOUNDARY / "reference" / "solution.py"
    )
    assert (result.verdict, result.score) == (Verdict.PASSED, 100.0), result
    assert "['files/value.txt', 'observations.json']" in result.checks[0].message["en"], result


def test_files_planted_in_out_never_reach_a_boundary_trials_verify_step(grader: Grader) -> None:
    """export() writes 42, plants 1729 in out/, out/files/ and out/arrays/ and keeps rewriting them (and
    its own file, after the driver read it) from a process in its own session: the verify step sees 42."""
    wrong = VERIFY_BOUNDARY / "wrong" / "plants_the_answer.py"
    _spec, result, _sink = grade_solution(grader, VERIFY_BOUNDARY, wrong)
    assert result.verdict == Verdict.FAILED, result
    seen = result.checks[0].message["en"]
    assert "'value': '42'" in seen and "planted" not in seen, seen
    assert "'received': ['files/value.txt', 'observations.json']" in seen, seen


def test_artifacts_come_back_as_checked_pngs(grader: Grader) -> None:
    _spec, result, _sink = grade_solution(grader, VERIFY, VERIFY / "reference" / "solution.py")
    assert [artifact["name"] for artifact in result.artifacts] == ["overlay"]
    assert base64.b64decode(result.artifacts[0]["data"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_planted_artifact_that_is_not_a_png_or_is_a_link_is_dropped(grader: Grader, tmp_path: Path) -> None:
    code = (
        "import os\n"
        "def export(folder):\n"
        "    (folder / 'value.txt').write_text('1729')\n"
        "    art = folder / 'artifacts'\n"
        "    art.mkdir(exist_ok=True)\n"
        "    (art / 'fake.png').write_bytes(b'not a png')\n"
        "    os.symlink('/etc/passwd', art / 'link.png')\n"
    )
    _spec, result, _sink = grade_solution(grader, VERIFY, write(tmp_path, code))
    assert {artifact["name"] for artifact in result.artifacts} <= {"overlay"}


@pytest.mark.parametrize(
    "code, verdict",
    [
        ("def answer():\n    return 1729\n", Verdict.PASSED),
        ("def answer():\n    return 7\n", Verdict.FAILED),
        ("raise RuntimeError('boom')\n", Verdict.ERROR),
        ("def answer():\n    while True: pass\n", Verdict.TIME_LIMIT),
        ("def answer():\n    x = bytearray(2 * 1024 ** 3)\n", Verdict.MEMORY_LIMIT),
        ("def answer():\n    print('y' * 10 ** 6)\n", Verdict.OUTPUT_LIMIT),
        (
            "import ctypes\ndef answer():\n    ctypes.CDLL(None).ptrace(0, 0, 0, 0)\n",
            Verdict.SANDBOX_VIOLATION,
        ),
    ],
)
def test_each_verdict_is_distinct(grader: Grader, tmp_path: Path, code: str, verdict: Verdict) -> None:
    _spec, result, _sink = grade_solution(grader, PROBE, write(tmp_path, code))
    assert result.verdict == verdict, result
    assert result.message["zh"] and result.message["en"]
    if verdict not in (Verdict.PASSED, Verdict.FAILED):
        assert result.score == 0.0


def test_a_grader_with_other_trial_content_refuses_to_grade(grader: Grader) -> None:
    request = GradeRequest(submission_id=5, trial="sandbox-probe", content_hash="0" * 64, mode=Mode.RUN,
                           code="def answer():\n    return 1729\n")  # fmt: skip
    sink = ListSink()
    result = grade(request, grader, sink)
    assert result.verdict == Verdict.INTERNAL_ERROR and sink.events == []  # nothing ran


def test_an_unknown_trial_is_an_internal_error(grader: Grader) -> None:
    request = GradeRequest(
        submission_id=6, trial="no-such-trial", content_hash="0" * 64, mode=Mode.RUN, code="x=1"
    )
    assert grade(request, grader, ListSink()).verdict == Verdict.INTERNAL_ERROR


# --- how a run ended, explained (cold path; tests/warm/test_grader_warm.py runs the same on the warm one)


@pytest.fixture(scope="module")
def cold_grader() -> Iterator[Grader]:
    cold = Grader(exercises_dir=FIXTURES, require_cgroups=True, warm=False)
    yield cold
    cold.close()


def grade_code(grader: Grader, code: str, *, limits: Limits | None = None) -> tuple[GradeResult, ListSink]:
    """`code` as a Submit of the fixture trial sandbox-probe, with its limits or `limits`."""
    spec = tomllib.loads((PROBE / "exercise.toml").read_text(encoding="utf-8"))
    request = GradeRequest(
        submission_id=0, trial=spec["slug"], content_hash=bundle_content_hash(bundle_files(PROBE), spec["realm"]),
        mode=Mode.SUBMIT, code=code, limits=limits or Limits(**spec["limits"]),
    )  # fmt: skip
    sink = ListSink()
    return grade(request, grader, sink), sink


# Each signal as a job gets it from a fault of its own: a real one where Python can cause it.
CRASHES = {
    "SIGSEGV": "import ctypes\ndef answer():\n    ctypes.string_at(0)\n",
    "SIGBUS": "import os, signal\ndef answer():\n    os.kill(os.getpid(), signal.SIGBUS)\n",
    "SIGABRT": "import os\ndef answer():\n    os.abort()\n",
    "SIGILL": "import os, signal\ndef answer():\n    os.kill(os.getpid(), signal.SIGILL)\n",
    "SIGFPE": "import os, signal\ndef answer():\n    os.kill(os.getpid(), signal.SIGFPE)\n",
}


def assert_crash_explained(result: GradeResult, name: str) -> None:
    assert result.verdict == Verdict.ERROR, result
    assert f"crashed ({name})" in result.message["en"] and f"（{name}）" in result.message["zh"], (
        result.message
    )
    assert result.score == 0.0 and result.checks == []  # the probe died with the job: nothing is scored


@pytest.mark.parametrize("name", list(CRASHES))
def test_a_crash_is_an_error_that_names_the_signal(cold_grader: Grader, name: str) -> None:
    result, _sink = grade_code(cold_grader, CRASHES[name])
    assert_crash_explained(result, name)


# A bomb that stops at the first refusal and returns: without the pids counter it would read as a
# wrong answer (or, for the probe, missing observations).
PIDS_BOMBS = {
    "threads": "import threading, time\ndef answer():\n    n = 0\n    try:\n        while True:\n"
    "            threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n            n += 1\n"
    "    except RuntimeError:\n        return n\n",
    "processes": "import os, time\ndef answer():\n    n = 0\n    try:\n        while True:\n"
    "            if os.fork() == 0:\n                time.sleep(30)\n                os._exit(0)\n            n += 1\n"
    "    except OSError:\n        return n\n",
}


# Room in memory for 48 processes forked from a warm run, each with its own page tables over the
# zygote's preloaded torch (about 2.3 MB apiece): the bomb meets the process limit first on both paths.
BOMB_LIMITS = Limits(wall_seconds=8, cpu_seconds=8, memory_mb=768, pids=48, output_kb=64, disk_mb=16)


def assert_pids_explained(result: GradeResult, limit: int) -> None:
    assert result.verdict == Verdict.ERROR, result
    assert f"processes/threads (limit {limit})" in result.message["en"], result.message
    assert f"（上限 {limit}）" in result.message["zh"], result.message


@pytest.mark.parametrize("bomb", list(PIDS_BOMBS))
def test_hitting_the_process_limit_is_explained(cold_grader: Grader, bomb: str) -> None:
    result, _sink = grade_code(cold_grader, PIDS_BOMBS[bomb], limits=BOMB_LIMITS)
    assert_pids_explained(result, BOMB_LIMITS.pids)


def test_an_honest_answer_is_not_mistaken_for_a_limit(cold_grader: Grader) -> None:
    result, _sink = grade_code(cold_grader, "def answer():\n    return 1729\n")
    assert (result.verdict, result.message) == (Verdict.PASSED, MESSAGES[Verdict.PASSED])


# What a job can find of the grading code: the kit's allowlist under /opt/huashen/lib, and no check code
# anywhere it can read (the trial's check.py is never staged; the kit's check side is not copied in).
LOOK_FOR_CHECK_CODE = """
import json, os, sys
def answer():
    kit = sorted(os.listdir("/opt/huashen/lib/exercises/kit"))
    found = []
    skip = {"/proc", "/sys", "/usr", "/dev", sys.prefix, sys.base_prefix}
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip]
        for name in files:
            path = os.path.join(top, name)
            try:
                with open(path, "rb") as handle:
                    text = handle.read(1 << 20)
            except OSError:
                continue
            if name in ("check.py", "tbevents.py", "generate.py") or b"def run_" + b"check" in text:
                found.append(path)
    print("LOOKED " + json.dumps({"kit": kit, "found": found}))
    return 0
"""


def looked(sink: ListSink) -> dict:
    text = "".join(event.payload for event in sink.events if event.kind == "stdout")
    return json.loads(text.split("LOOKED ", 1)[1].splitlines()[0])


def test_a_job_finds_the_probe_side_of_the_kit_and_no_check_code(cold_grader: Grader) -> None:
    result, sink = grade_code(cold_grader, LOOK_FOR_CHECK_CODE)
    assert result.verdict == Verdict.FAILED, result
    seen = looked(sink)
    assert seen["kit"] == sorted(SANDBOX_KIT) and seen["found"] == [], seen
