"""`huashen` against a live server: daphne on the test database, a real grader and platform worker.

The client runs as a subprocess (bin/huashen) with its own home directory, so its config file, its
starter files and its exit codes are exactly what a student gets.
"""

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from huashen.accounts.models import ApiToken
from huashen.accounts.services import user_create
from huashen.accounts.tokens import api_token_create
from huashen.curriculum.services import exercises_sync
from tests.cli.conftest import ROOT, Run
from tests.conftest import PASSWORD
from tests.integration.conftest import start_grader, start_platform_worker
from workers.protocol import event_stream_key

pytestmark = pytest.mark.integration

TRIAL = "tensor-basics"
TRIAL_DIR = ROOT / "exercises" / "01-tensors" / "01-tensor-basics"


@pytest.fixture
def curriculum_and_alice(transactional_db: None, services: dict) -> None:
    # A fresh test database numbers submissions from 1 again: an event stream an earlier run left in
    # Redis under the same id would be replayed as this run's live log.
    broker = redis.Redis.from_url(services["redis"])
    for key in broker.scan_iter(event_stream_key(0).replace(":0:", ":*:")):
        broker.delete(key)
    result = exercises_sync()  # the real curriculum, as the grader sees it
    assert result.ok, result.errors
    user_create(username="alice", password=PASSWORD)


def test_a_student_logs_in_reads_a_trial_and_submits_wrong_then_right(
    daphne_server: str, services: dict, curriculum_and_alice: None, huashen: Callable[..., Run], home: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    platform = start_platform_worker(services, tmp_path / "platform-worker.log")
    grader = start_grader(services, ROOT / "exercises", tmp_path / "grader.log")
    try:
        # login: a password turns into a named token, saved for the owner only
        login = huashen(
            "login", daphne_server, "--username", "alice", "--password-stdin", stdin=PASSWORD + "\n"
        )
        assert login.code == 0, login
        assert "Logged in" in login.out and "alice" in login.out
        config = home / ".config" / "huashen" / "config.json"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        token = ApiToken.objects.get(user__username="alice")
        assert token.name.startswith("huashen-cli on ") and token.prefix in config.read_text()

        # realms: the realms and their trials
        realms = huashen("realms")
        assert realms.code == 0, realms
        assert TRIAL in realms.out and "passed 0/" in realms.out

        # exercise: the statement, and the starter file written once
        exercise = huashen("exercise", TRIAL)
        assert exercise.code == 0, exercise
        statement = (TRIAL_DIR / "statement.en.md").read_text().strip().splitlines()[0].lstrip("# ").strip()
        assert statement in exercise.out
        starter = home / "work" / f"{TRIAL}.py"
        assert starter.read_text() == (TRIAL_DIR / "starter.py").read_text()
        starter.write_text("# my work\n")
        again = huashen("exercise", TRIAL)
        assert again.code == 0 and "left as it is" in again.out and starter.read_text() == "# my work\n"

        # submit a wrong solution: the live log, a failing verdict, the failing checks, exit code 1
        wrong = huashen("submit", TRIAL, str(TRIAL_DIR / "wrong" / "ignores_dtype.py"), timeout=240)
        assert wrong.code == 1, (wrong, grader.output()[-3000:])
        assert "Submitted #" in wrong.out and "Running (cpu)" in wrong.out  # streamed over the WebSocket
        assert "Verdict: failed" in wrong.out and "✗" in wrong.out
        assert "\033[" not in wrong.out  # not a terminal: no colour codes

        # submit the reference solution: passed, every check ticked, exit code 0
        right = huashen("submit", TRIAL, str(TRIAL_DIR / "reference" / "solution.py"), timeout=240)
        assert right.code == 0, (right, grader.output()[-3000:])
        assert "Running (cpu)" in right.out and "Verdict: passed" in right.out
        assert "✓" in right.out and "✗" not in right.out

        # history: both, newest first
        history = huashen("history", TRIAL)
        assert history.code == 0, history
        rows = [line for line in history.out.splitlines() if line.startswith("#")]
        assert len(rows) == 2 and "passed" in rows[0] and "failed" in rows[1]

        # status: the trial is passed now
        status = huashen("status")
        assert status.code == 0 and any(
            TRIAL in line and "passed" in line for line in status.out.splitlines()
        )
    finally:
        grader.stop()
        platform.stop()


def test_clear_errors_for_a_wrong_password_an_unknown_trial_and_a_revoked_token(
    daphne_server: str, curriculum_and_alice: None, huashen: Callable[..., Run]
) -> None:
    # a wrong password: exit 2 and a plain sentence, no traceback
    wrong = huashen("login", daphne_server, "-u", "alice", "--password-stdin", stdin="nope\n")
    assert wrong.code == 2 and "Wrong username or password" in wrong.err and "Traceback" not in wrong.err

    # a token made on the tokens page works with --token
    from huashen.accounts.models import User

    new = api_token_create(user=User.objects.get(username="alice"), name="page")
    assert huashen("login", daphne_server, "--token", new.secret).code == 0

    # an unknown trial: exit 1 with the server's message
    missing = huashen("exercise", "no-such-trial")
    assert missing.code == 1 and missing.err.strip() and "Traceback" not in missing.err

    # the token revoked (on the page, say): exit 2, log in again
    ApiToken.objects.filter(pk=new.token.pk).delete()
    revoked = huashen("realms")
    assert revoked.code == 2 and "revoked" in revoked.err


def test_chinese_by_default_and_logout_revokes_the_token(
    daphne_server: str, curriculum_and_alice: None, huashen: Callable[..., Run], home: Path
) -> None:
    login = huashen(
        "login",
        daphne_server,
        "-u",
        "alice",
        "--password-stdin",
        stdin=PASSWORD + "\n",
        env={"HUASHEN_LANG": ""},
    )
    assert login.code == 0 and "已登录" in login.out
    assert ApiToken.objects.filter(user__username="alice").count() == 1
    # logout revokes the token on the server and forgets it here
    logout = huashen("logout", env={"HUASHEN_LANG": ""})
    assert logout.code == 0 and "令牌已撤销" in logout.out
    assert not ApiToken.objects.exists()
    assert not (home / ".config" / "huashen" / "config.json").exists()
