"""The security suite: attack submissions sent through the real grading path, judged by what the host sees.

Threat model. A student (any signed-up account) submits arbitrary Python. It runs in the grader's
sandbox: bwrap launched by the unprivileged `huashen-sandbox` account from an empty environment, in
new user/PID/network/mount/IPC/UTS/cgroup namespaces, with a read-only system, a size-capped tmpfs work
dir, cgroup limits (memory, pids, CPU accounting), rlimits (CPU, file size, files) and a seccomp filter.
Then a trusted check runs *outside* the sandbox, as the grader's user (root in CI), over the files the
job left in out/, against expectations that never entered the sandbox. The attacker wants to:

- reach the network: the internet, the grader's Redis (the broker: forge results for anyone), the
  platform's PostgreSQL, host services and unix sockets;
- read secrets: the grader's or platform's environment (honeytokens planted here), the repository and
  its settings, the trial's hidden expectations, other students' work dirs, /etc/shadow, /root;
- write outside the work dir, or leave something for the next submission (persistence);
- make the host's trusted reader follow a symlink or hard link, hang on a FIFO, swallow a huge file,
  or unpickle a model or array (code execution as the grader);
- forge the grade without computing the answer;
- exhaust resources (memory, processes, CPU, disk, output) or leave processes behind;
- escape: signal host processes, ptrace, inject into a terminal, write kernel knobs, create nested
  namespaces, gain root, make forbidden or foreign-architecture syscalls, open VSOCK or raw sockets.

Every case goes service → Redis `cpu` queue → grader worker process → bwrap → check → `platform` queue →
platform worker process → PostgreSQL, and every assertion is about what the host observes: the verdict
and score in the database (an attack returns the hidden answer 1729 only if it *succeeded*, so a
`passed` verdict is a hole), files and processes on the host, listeners on the host, the grader's lib
copy, kernel knobs, and the honeytokens and canary secrets, which must appear nowhere: not in the
submission row, its Redis event stream, or either worker's log. See `tests/security/attacks.py` for the
cases and `tests/security/conftest.py` for the host side.
"""

import uuid

import pytest

from tests.security.attacks import (
    ARRAYS,
    DEV_PLACE,
    DEV_WRITE,
    ESCAPE,
    FORGING,
    GROUPS,
    NETWORK,
    OUT_FILES,
    PERSIST_READ,
    PERSIST_WRITE,
    PERSISTENCE_PLACES,
    PICKLES,
    POISON,
    PROBE,
    RESOURCES,
    SECRETS,
    VERIFY,
    WRITES,
    Attack,
)
from tests.security.conftest import FIXTURES, Attacker

# Real services, like the integration tests; and the same xdist group, so no two tests race for the
# `cpu` and `platform` queues of the shared Redis (a module marker, whatever order the hooks run in).
pytestmark = [pytest.mark.integration]

CONTROLS = [
    Attack(
        f"control-{trial}",
        'print("ran:__MARK__")\n'
        + (FIXTURES / "01-sandbox" / folder / "reference" / "solution.py").read_text(),
        verdicts=("passed",),
        trial=trial,
    )
    for trial, folder in ((PROBE, "01-probe"), (ARRAYS, "03-arrays"), (VERIFY, "02-verify"))
]


def cases(attacks: list[Attack]) -> list:
    return [pytest.param(attack, id=attack.name) for attack in attacks]


def test_the_suite_is_complete_and_no_attack_may_pass() -> None:
    names = [attack.name for attacks in GROUPS.values() for attack in attacks]
    assert len(names) == len(set(names)), "case names are unique"
    assert len(names) + len(PERSISTENCE_PLACES) >= 30
    assert all("passed" not in attack.verdicts for attacks in GROUPS.values() for attack in attacks)


@pytest.mark.parametrize("attack", cases(CONTROLS))
def test_control_the_honest_answer_passes(attacker: Attacker, attack: Attack) -> None:
    """Without this, every "not passed" below could be a broken pipeline rather than a sound sandbox."""
    outcome = attacker.submit(attack)
    assert outcome.submission.resources["confined"] is True


@pytest.mark.parametrize("attack", cases(NETWORK))
def test_network_egress(attacker: Attacker, attack: Attack) -> None:
    attacker.submit(attack)


@pytest.mark.parametrize("attack", cases(SECRETS))
def test_secrets(attacker: Attacker, attack: Attack) -> None:
    attacker.submit(attack)


@pytest.mark.parametrize("attack", cases(WRITES))
def test_writes_outside_the_work_dir(attacker: Attacker, attack: Attack) -> None:
    attacker.submit(attack)


@pytest.mark.parametrize("place", list(PERSISTENCE_PLACES))
def test_nothing_persists_into_the_next_submission(attacker: Attacker, place: str) -> None:
    path = PERSISTENCE_PLACES[place]
    first = Attack(f"persist-write-{place}", PERSIST_WRITE.replace("__PLACE__", path), host_paths=(path,))
    second = Attack(f"persist-read-{place}", PERSIST_READ.replace("__PLACE__", path), host_paths=(path,))
    mark = uuid.uuid4().hex[:12]  # the same file name in both: a pass means it survived
    attacker.submit(first, mark=mark)
    attacker.submit(second, mark=mark)


def test_dev_is_read_only_and_nothing_persists_there(attacker: Attacker) -> None:
    """A warm zygote's runs share its /dev: nothing written there may reach the next submission."""
    host_paths = (DEV_PLACE, DEV_PLACE + "-dir", DEV_PLACE + "-link")
    first = Attack("persist-write-dev", DEV_WRITE.replace("__PLACE__", DEV_PLACE), host_paths=host_paths)
    second = Attack("persist-read-dev", PERSIST_READ.replace("__PLACE__", DEV_PLACE), host_paths=host_paths)
    mark = uuid.uuid4().hex[:12]
    attacker.submit(first, mark=mark)
    attacker.submit(second, mark=mark)


@pytest.mark.parametrize("attack", cases(OUT_FILES))
def test_out_files_the_host_reads_back(attacker: Attacker, attack: Attack) -> None:
    attacker.submit(attack)


@pytest.mark.parametrize("attack", cases(FORGING))
def test_forging_the_grade(attacker: Attacker, attack: Attack) -> None:
    outcome = attacker.submit(attack)
    statuses = [event["payload"] for event in outcome.submission.log if event.get("kind") == "status"]
    claimed = [status for status in statuses if isinstance(status, dict) and "verdict" in status]
    assert [status["verdict"] for status in claimed] == [outcome.submission.verdict], statuses
    assert outcome.submission.resources.get("cpu_seconds", 0) > 0, "resources come from the host"
    assert outcome.submission.resources.get("confined") is True


@pytest.mark.parametrize("attack", cases(RESOURCES))
def test_resource_exhaustion(attacker: Attacker, attack: Attack) -> None:
    attacker.submit(attack)


@pytest.mark.parametrize("attack", cases(ESCAPE))
def test_escape_attempts(attacker: Attacker, attack: Attack) -> None:
    attacker.submit(attack)


@pytest.mark.parametrize("attack", cases(PICKLES))
def test_pickles_are_never_loaded_on_the_host(attacker: Attacker, attack: Attack) -> None:
    attacker.submit(attack)


@pytest.mark.parametrize("attack", cases(POISON))
def test_output_the_platform_must_still_store(attacker: Attacker, attack: Attack) -> None:
    attacker.submit(attack)
