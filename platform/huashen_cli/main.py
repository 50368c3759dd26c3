"""`huashen` commands: login, logout, realms, status, exercise, submit, history.

Exit codes: 0 success (for `submit`, a passing verdict), 1 the thing asked for failed (a failing
verdict, an unknown trial, an unreachable server), 2 usage or authentication problems.
"""

import argparse
import getpass
import socket
import sys
from pathlib import Path
from typing import Any

from huashen_cli import config as config_file
from huashen_cli.client import EXIT_FAILED, EXIT_OK, EXIT_USAGE, ApiClient, CliError, normalise_server
from huashen_cli.live import Event, Follower
from huashen_cli.messages import Language
from huashen_cli.terminal import Terminal, error


def build_parser(say: Language) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="huashen", description=say("help_description"), epilog=say("help_epilog")
    )
    parser.add_argument("--no-color", action="store_true", help=say("help_no_color"))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser("login", help=say("help_login"))
    login.add_argument("server", help=say("help_server"))
    login.add_argument("--username", "-u", help=say("help_username"))
    login.add_argument("--password-stdin", action="store_true", help=say("help_password_stdin"))
    login.add_argument("--token", help=say("help_token"))
    login.add_argument("--name", help=say("help_name"))

    commands.add_parser("logout", help=say("help_logout"))
    commands.add_parser("realms", help=say("help_realms"))
    commands.add_parser("status", help=say("help_status"))

    exercise = commands.add_parser("exercise", help=say("help_exercise"))
    exercise.add_argument("slug", help=say("help_slug"))
    exercise.add_argument("--output", "-o", type=Path, help=say("help_output"))

    submit = commands.add_parser("submit", help=say("help_submit"))
    submit.add_argument("slug", help=say("help_slug"))
    submit.add_argument("file", type=Path, help=say("help_file"))
    submit.add_argument("--run", action="store_true", help=say("help_run"))

    history = commands.add_parser("history", help=say("help_history"))
    history.add_argument("slug", nargs="?", help=say("help_history_slug"))
    history.add_argument("--limit", type=int, default=20, help=say("help_limit"))
    return parser


def main(argv: list[str] | None = None) -> int:
    settings = config_file.load()
    say = Language(settings.language or None)
    arguments = build_parser(say).parse_args(argv)  # exits 2 on a usage error, as argparse does
    out = Terminal(colour=False if arguments.no_color else None)
    try:
        return COMMANDS[arguments.command](arguments, settings, say, out)
    except CliError as failure:
        out.clear_progress()
        error(failure.message)
        return failure.exit_code
    except KeyboardInterrupt:
        out.clear_progress()
        return 130


def _client(settings: config_file.Config, say: Language) -> ApiClient:
    if not settings.server or not settings.token:
        raise CliError(say("not_logged_in"), EXIT_USAGE)
    return ApiClient(settings.server, settings.token, say)


# --- login / logout -------------------------------------------------------------------------------------
def cmd_login(
    arguments: argparse.Namespace, settings: config_file.Config, say: Language, out: Terminal
) -> int:
    server = normalise_server(arguments.server)
    token_id: int | None = None
    if arguments.token:
        token = arguments.token.strip()
    else:
        username = arguments.username or input(say("username_prompt")).strip()
        password = _password(arguments, say)
        name = arguments.name or f"huashen-cli on {socket.gethostname()}"
        anonymous = ApiClient(server, "", say)
        try:
            created = anonymous.post("tokens/", {"name": name[:64]}, auth=(username, password))
        finally:
            anonymous.close()
        token, token_id = created["token"], created["id"]
    api = ApiClient(server, token, say)
    try:
        me = api.get("me/")
    finally:
        api.close()
    saved = config_file.Config(
        server=server, token=token, token_id=token_id, username=me["username"], language=me["language"]
    )
    path = config_file.save(saved)
    say = Language(me["language"])
    out.line(say("logged_in", server=server, username=me["username"], role=me["role"], path=path), "green")
    return EXIT_OK


def _password(arguments: argparse.Namespace, say: Language) -> str:
    if arguments.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise CliError(say("no_password"), EXIT_USAGE)
    return getpass.getpass(say("password_prompt"))


def cmd_logout(
    arguments: argparse.Namespace, settings: config_file.Config, say: Language, out: Terminal
) -> int:
    api = _client(settings, say)
    try:
        if settings.token_id is not None:
            api.delete(f"tokens/{settings.token_id}/")
    finally:
        api.close()
    config_file.forget()
    out.line(say("logged_out"))
    return EXIT_OK


# --- realms / status ------------------------------------------------------------------------------------
def cmd_realms(
    arguments: argparse.Namespace, settings: config_file.Config, say: Language, out: Terminal
) -> int:
    api = _client(settings, say)
    try:
        realms = api.get("realms/")
    finally:
        api.close()
    for realm in realms:
        lock = "" if realm["unlocked"] else say("locked")
        out.line(
            say("realm_line", order=realm["order"], name=say.pick(realm["name"]), passed=realm["passed"],
                total=realm["total"], lock=lock),
            "bold" if realm["unlocked"] else "dim",
        )  # fmt: skip
        for trial in realm["trials"]:
            out.line(
                f"   {trial['slug']:<32} {say.pick(trial['title'])}", None if realm["unlocked"] else "dim"
            )
    return EXIT_OK


_STATE_STYLE = {"passed": "green", "attempted": "yellow", "open": None, "locked": "dim"}


def cmd_status(
    arguments: argparse.Namespace, settings: config_file.Config, say: Language, out: Terminal
) -> int:
    api = _client(settings, say)
    try:
        realms = api.get("realms/")
    finally:
        api.close()
    passed = total = 0
    for realm in realms:
        passed, total = passed + realm["passed"], total + realm["total"]
        lock = "" if realm["unlocked"] else say("locked")
        out.line(
            say("realm_line", order=realm["order"], name=say.pick(realm["name"]), passed=realm["passed"],
                total=realm["total"], lock=lock),
            "bold",
        )  # fmt: skip
        for trial in realm["trials"]:
            state = trial["state"]
            best = say("best", score=trial["best_score"]) if state in ("attempted", "passed") else ""
            out.line(f"   {say('state_' + state):<10} {trial['slug']:<32} {best}", _STATE_STYLE.get(state))
    out.line(say("status_total", passed=passed, total=total))
    return EXIT_OK


# --- exercise -------------------------------------------------------------------------------------------
def cmd_exercise(
    arguments: argparse.Namespace, settings: config_file.Config, say: Language, out: Terminal
) -> int:
    api = _client(settings, say)
    try:
        exercise = api.get(f"exercises/{arguments.slug}/")
    finally:
        api.close()
    out.line(f"{exercise['slug']} · {say.pick(exercise['title'])}", "bold")
    out.line(
        say("points", points=exercise["points"], device=exercise["device"], hints=exercise["hint_count"]),
        "dim",
    )
    out.line()
    out.line(say.pick(exercise["statement"]).rstrip())
    out.line()
    target = arguments.output or Path(f"{exercise['slug']}.py")
    if target.exists():
        out.line(say("starter_kept", path=target), "yellow")
    else:
        target.write_text(exercise["starter_code"], encoding="utf-8")
        out.line(say("starter_written", path=target), "green")
    return EXIT_OK


# --- submit ---------------------------------------------------------------------------------------------
def cmd_submit(
    arguments: argparse.Namespace, settings: config_file.Config, say: Language, out: Terminal
) -> int:
    code = _read_code(arguments.file, say)
    api = _client(settings, say)
    try:
        mode = "run" if arguments.run else "submit"
        created = api.post("submissions/", {"exercise": arguments.slug, "code": code, "mode": mode})
        out.line(say("submitted", id=created["id"], mode=mode, exercise=created["exercise"]), "bold")
        show_coach(created.get("coach"), api.server, say, out)
        view = _LiveView(say, out)
        Follower(api, settings.token, created["id"], view.on_event, view.on_wait, view.on_notice).run()
        submission = api.get(f"submissions/{created['id']}/")
    finally:
        api.close()
    _show_result(submission, say, out)
    out.line(say("details", url=f"{api.server}/submissions/{submission['id']}/"), "dim")
    return EXIT_OK if submission["verdict"] == "passed" else EXIT_FAILED


def show_coach(coach: object, server: str, say: Language, out: Terminal) -> None:
    """The coach's findings on the submitted code, as the editor shows them (advice; nothing if none)."""
    if not isinstance(coach, dict):
        return
    findings = [finding for finding in coach.get("findings") or [] if isinstance(finding, dict)]
    if not findings:
        return
    out.line(say("coach_heading", count=len(findings)), "yellow")
    for finding in findings:
        out.line(
            say("coach_finding", line=finding.get("line"), title=say.pick(finding.get("title"))), "yellow"
        )
        trial = finding.get("trial")
        url = trial.get("url", "") if isinstance(trial, dict) else ""
        out.line(say("coach_learn", why=say.pick(finding.get("why")), url=f"{server}{url}"), "dim")


def _read_code(path: Path, say: Language) -> str:
    try:
        raw = path.read_bytes()
    except OSError as failure:
        raise CliError(
            say("file_missing", path=path, reason=failure.strerror or failure), EXIT_USAGE
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(say("file_not_utf8", path=path), EXIT_USAGE) from None


class _LiveView:
    """How events look: program output as it is, stderr in red, the grader's own lines dimmed."""

    def __init__(self, say: Language, out: Terminal) -> None:
        self.say = say
        self.out = out
        self.running = False
        self.at_line_start = True

    def on_event(self, event: Event) -> None:
        kind, payload = event.get("kind"), event.get("payload")
        if kind in ("stdout", "stderr", "log") and isinstance(payload, str):
            self._text(payload, {"stdout": None, "stderr": "red", "log": "dim"}[kind])
        elif kind == "metric" and isinstance(payload, dict):
            metrics = payload.get("metrics") or {}
            text = " ".join(f"{key}={_number(value)}" for key, value in metrics.items())
            step = f"step {payload['step']}: " if payload.get("step") is not None else ""
            self._line(self.say("metric", text=step + text), "blue")
        elif kind == "artifact" and isinstance(payload, dict):
            self._line(self.say("artifact", name=payload.get("name", "")), "blue")
        elif kind == "status" and isinstance(payload, dict) and payload.get("status") == "running":
            self.running = True
            self._line(self.say("running", device=payload.get("device", "cpu")), "dim")

    def on_wait(self, seconds: int) -> None:
        if not self.running:
            self.out.progress(self.say("queued_for", seconds=seconds))

    def on_notice(self, text: str) -> None:
        self._line(text, "yellow")

    def _text(self, text: str, style: str | None) -> None:
        self.out.write(text, style)
        self.at_line_start = text.endswith("\n")

    def _line(self, text: str, style: str | None) -> None:
        if not self.at_line_start:
            self.out.write("\n")
            self.at_line_start = True
        self.out.line(text, style)


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _show_result(submission: dict[str, Any], say: Language, out: Terminal) -> None:
    verdict = submission["verdict"]
    score = "—" if submission["score"] is None else f"{submission['score']:.0f}"
    out.line()
    out.line(
        say("verdict", verdict=say.verdict(verdict), score=score), "green" if verdict == "passed" else "red"
    )
    message = say.pick(submission.get("message"))
    if message:
        out.line(message)
    for check in submission.get("checks") or []:
        mark = "✓" if check["passed"] else "✗"
        out.line(
            say("check_line", mark=mark, title=say.pick(check["title"]) or check["key"],
                score=_number(check["score"]), max_score=_number(check["max_score"])),
            "green" if check["passed"] else "red",
        )  # fmt: skip
        detail = say.pick(check.get("message"))
        if detail and not check["passed"]:
            out.line(f"    {detail}")
    if submission.get("traceback") and verdict != "passed":
        out.line(submission["traceback"].rstrip(), "dim")


# --- history --------------------------------------------------------------------------------------------
def cmd_history(
    arguments: argparse.Namespace, settings: config_file.Config, say: Language, out: Terminal
) -> int:
    if arguments.limit < 1:
        raise CliError(say("limit_too_small"), EXIT_USAGE)
    api = _client(settings, say)
    try:
        page = api.get("submissions/", exercise=arguments.slug, page_size=min(arguments.limit, 100))
    finally:
        api.close()
    rows = page["results"][: arguments.limit]
    if not rows:
        out.line(say("history_empty"))
        return EXIT_OK
    out.line(_history_row(*say("history_columns").split("|")), "dim")
    for row in rows:
        score = "" if row["score"] is None else f"{row['score']:.0f}"
        style = {"passed": "green", None: "dim"}.get(row["verdict"], "red")
        when = (row["created_at"] or "")[:19].replace("T", " ")
        verdict = say.verdict(row["verdict"]) if row["verdict"] else ""
        cells = (f"#{row['id']}", row["exercise"], row["mode"], row["status"], verdict, score, when)
        out.line(_history_row(*cells), style)
    return EXIT_OK


def _history_row(*cells: str) -> str:
    number, trial, mode, status, verdict, score, when = cells
    return f"{number:<7} {trial:<28} {mode:<6} {status:<7} {verdict:<10} {score:>5}  {when}"


COMMANDS = {
    "login": cmd_login,
    "logout": cmd_logout,
    "realms": cmd_realms,
    "status": cmd_status,
    "exercise": cmd_exercise,
    "submit": cmd_submit,
    "history": cmd_history,
}

if __name__ == "__main__":
    raise SystemExit(main())
