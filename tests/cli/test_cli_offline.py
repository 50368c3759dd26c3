"""The client's own behaviour, no server needed: usage errors, an unreachable server, its config file,
colour rules and its two languages. (The live behaviour is in test_cli_live.py.)"""

import io
import re
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from huashen_cli import config as config_file
from huashen_cli.live import is_final, websocket_url
from huashen_cli.messages import MESSAGES, VERDICTS, Language
from huashen_cli.terminal import Terminal
from tests.cli.conftest import Run


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends: nothing listens there


def test_without_a_login_a_command_says_how_to_log_in_and_exits_2(huashen: Callable[..., Run]) -> None:
    result = huashen("realms")
    assert result.code == 2
    assert "huashen login" in result.err and "Traceback" not in result.err


def test_an_unknown_command_is_a_usage_error(huashen: Callable[..., Run]) -> None:
    result = huashen("conquer")
    assert result.code == 2 and "usage: huashen" in result.err


def test_an_unreachable_server_is_a_clear_error(huashen: Callable[..., Run]) -> None:
    server = f"http://127.0.0.1:{_closed_port()}"
    result = huashen("login", server, "--token", "hs_whatever")
    assert result.code == 1
    assert f"Cannot reach the server {server}" in result.err and "Traceback" not in result.err


def test_the_environment_can_name_the_server_and_token(huashen: Callable[..., Run]) -> None:
    server = f"http://127.0.0.1:{_closed_port()}"
    result = huashen("history", env={"HUASHEN_SERVER": server, "HUASHEN_TOKEN": "hs_x"})
    assert result.code == 1 and "Cannot reach the server" in result.err


def test_a_missing_file_is_a_usage_error_before_anything_is_sent(huashen: Callable[..., Run]) -> None:
    server = f"http://127.0.0.1:{_closed_port()}"
    result = huashen(
        "submit", "tensor-basics", "nope.py", env={"HUASHEN_SERVER": server, "HUASHEN_TOKEN": "hs_x"}
    )
    assert result.code == 2 and "nope.py" in result.err


def test_messages_speak_chinese_by_default(huashen: Callable[..., Run]) -> None:
    result = huashen("realms", env={"HUASHEN_LANG": ""})
    assert result.code == 2 and "尚未登录" in result.err


def test_the_config_file_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("HUASHEN_TOKEN", raising=False)
    monkeypatch.delenv("HUASHEN_SERVER", raising=False)
    path = config_file.save(config_file.Config(server="http://x", token="hs_secret", token_id=3))
    assert path == tmp_path / "huashen" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    loaded = config_file.load()
    assert (loaded.server, loaded.token, loaded.token_id) == ("http://x", "hs_secret", 3)


class _FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert Terminal(_FakeTty()).paint("ok", "green") == "\033[32mok\033[0m"
    assert Terminal(io.StringIO()).paint("ok", "green") == "ok"
    monkeypatch.setenv("NO_COLOR", "1")
    assert Terminal(_FakeTty()).paint("ok", "green") == "ok"


def test_the_queue_progress_line_is_drawn_in_place_on_a_terminal_only() -> None:
    tty, pipe = _FakeTty(), io.StringIO()
    for stream in (tty, pipe):
        terminal = Terminal(stream, colour=False)
        terminal.progress("Waiting in the queue… 1s")
        terminal.progress("Waiting in the queue… 2s")
        terminal.line("Running (cpu)")
    assert tty.getvalue().count("\r\033[2K") == 3 and tty.getvalue().endswith("Running (cpu)\n")
    assert pipe.getvalue() == "Running (cpu)\n"


@pytest.mark.parametrize(
    "server, expected",
    [
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws/submissions/7/?after=3"),
        ("https://huashen.example.edu", "wss://huashen.example.edu/ws/submissions/7/?after=3"),
        ("https://example.edu/huashen", "wss://example.edu/huashen/ws/submissions/7/?after=3"),
    ],
)
def test_the_websocket_address_follows_the_server(server: str, expected: str) -> None:
    assert websocket_url(server, 7, 3) == expected


def test_only_the_platforms_done_event_is_final() -> None:
    assert is_final({"kind": "status", "payload": {"status": "done", "verdict": "passed", "score": 100}})
    assert not is_final({"kind": "status", "payload": {"status": "running"}})
    assert not is_final({"kind": "stdout", "payload": "done"})


def test_every_message_exists_in_both_languages_with_the_same_placeholders() -> None:
    for key, (zh, en) in MESSAGES.items():
        assert zh and en, key
        assert sorted(re.findall(r"{(\w+)", zh)) == sorted(re.findall(r"{(\w+)", en)), key
    for verdict, (zh, en) in VERDICTS.items():
        assert zh and en, verdict


def test_a_bilingual_field_falls_back_to_the_other_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUASHEN_LANG", "en")
    assert Language().pick({"zh": "张量", "en": ""}) == "张量"
    assert Language().pick({"zh": "张量", "en": "Tensors"}) == "Tensors"


@pytest.mark.parametrize(
    "language, expected",
    [("en", "submit a solution and follow its grading live"), ("", "提交答案并实时查看评测")],
)
def test_the_help_speaks_both_languages(huashen: Callable[..., Run], language: str, expected: str) -> None:
    result = huashen("--help", env={"HUASHEN_LANG": language})
    assert result.code == 0 and expected in result.out


def test_the_console_script_names_the_clients_main() -> None:
    import importlib
    import tomllib

    from tests.cli.conftest import ROOT

    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["huashen"]
    module, function = target.split(":")
    assert callable(getattr(importlib.import_module(module), function))


def test_the_client_loads_no_django_and_nothing_of_the_server() -> None:
    import subprocess
    import sys

    from tests.cli.conftest import ROOT

    probe = "import sys, huashen_cli.main; print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'huashen', 'workers', 'rest_framework', 'channels'}))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(ROOT / "platform")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
