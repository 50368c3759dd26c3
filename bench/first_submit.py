"""The newcomer's first Submit on `make run`: the embedded shape (daphne with the local executor, SQLite),
started fresh as `make run` starts it, then trial 1.1's reference solution submitted once the server
answers (or `--after` seconds later: a newcomer reads the statement first), followed over the WebSocket
to its verdict; then a second Submit for the steady state. Each scenario is a fresh server and database.
The baseline, in the same run: the embedded grader as it was before it started with the server (cold,
made at the first submission: HUASHEN_WARM_POOL=0, LOCAL_GRADER_START=0).

    .venv/bin/python bench/first_submit.py [--after 0 20]

Printed beside each figure: whether the embedded grader was confined (root: cgroups, and the warm pool
when it is on) or rlimits only, from the server's own log.
"""

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import ROOT, save, table
from latency import PASSWORD, SOLUTION, TRIAL, Process, free_port, wait_alive

WARM_READY = "the warm sandbox passed its self-test"


def embedded_env(var: Path, *, warm: bool) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE", "REDIS", "DJANGO_ALLOW", "HUASHEN_EXECUTOR"))
    }
    return {
        **environ,
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DJANGO_SETTINGS_MODULE": "huashen.settings",
        "HUASHEN_VAR_DIR": str(var),
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 44,
        "SECURE_COOKIES": "0",
        "TORCH_HOME": str(ROOT / "var" / "torch-home"),
        "LOCAL_GRADER_START": "1" if warm else "0",  # as make run sets it
        # The baseline: the embedded grader as it was, cold and made at the first submission.
        "HUASHEN_WARM_POOL": "1" if warm else "0",
    }


def prepare(env: dict[str, str], username: str) -> None:
    import subprocess

    for args in (["migrate", "--noinput", "-v0"], ["sync_exercises", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from huashen.accounts.services import user_create; "
         f"user_create(username={username!r}, password={PASSWORD!r})"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip


async def submit(server: str, token: str) -> tuple[float, str]:
    import httpx
    import websockets

    ws_base = server.replace("http://", "ws://")
    async with httpx.AsyncClient(
        base_url=server, headers={"Authorization": f"Token {token}"}, timeout=600
    ) as http:
        started = time.perf_counter()
        response = await http.post(
            "/api/v1/submissions/", json={"exercise": TRIAL, "code": SOLUTION.read_text()}
        )
        response.raise_for_status()
        submission_id = response.json()["id"]
        async with websockets.connect(
            f"{ws_base}/ws/submissions/{submission_id}/",
            additional_headers={"Authorization": f"Token {token}"},
            origin=server,
        ) as ws:
            import json

            async for message in ws:
                event = json.loads(message)
                payload = event.get("payload")
                if (
                    event.get("kind") == "status"
                    and isinstance(payload, dict)
                    and payload.get("status") == "done"
                ):
                    return time.perf_counter() - started, str(payload.get("verdict"))
    raise RuntimeError("the socket closed before the final event")


def scenario(after: float, *, warm: bool = True) -> dict:
    import httpx

    var = Path(tempfile.mkdtemp(prefix="huashen-bench-first-"))
    env = embedded_env(var, warm=warm)
    username = f"newcomer-{uuid.uuid4().hex[:6]}"
    prepare(env, username)
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    web = Process(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "huashen.asgi:application"],
        env, var / "web.log",
    )  # fmt: skip
    try:
        wait_alive(server, web)
        answering = time.perf_counter() - started
        token = httpx.post(
            f"{server}/api/v1/tokens/", auth=(username, PASSWORD), json={"name": "bench"}, timeout=60
        ).json()["token"]
        time.sleep(after)
        first, verdict = asyncio.run(submit(server, token))
        second, verdict2 = asyncio.run(submit(server, token))
        log = web.output()
    finally:
        web.stop()
    shutil.rmtree(var, ignore_errors=True)
    confined = "cgroups" if "EMBEDDED GRADING, CONFINED" in log else "rlimits only"
    return {
        "shape": "make run" if warm else "baseline: cold, made at first use",
        "submit_after_s": after,
        "server_answers_s": round(answering, 1),
        "first_submit_ms": round(first * 1000),
        "second_submit_ms": round(second * 1000),
        "verdicts": ",".join(sorted({verdict, verdict2})),
        "grader": confined + (", warm pool" if WARM_READY in log else ", cold"),
        "as_root": os.geteuid() == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--after", type=float, nargs="+", default=[0.0, 20.0])
    options = parser.parse_args()
    rows = [scenario(after) for after in options.after]
    rows += [scenario(after, warm=False) for after in options.after[:1]]
    table(
        "make run (embedded, SQLite): a newcomer's first and second Submit of 1.1's reference, POST to the "
        f"final WebSocket event, each scenario a fresh server (load average {os.getloadavg()[0]:.1f})",
        rows,
        [
            "shape",
            "submit_after_s",
            "server_answers_s",
            "first_submit_ms",
            "second_submit_ms",
            "verdicts",
            "grader",
            "as_root",
        ],
    )
    save(
        "first_submit",
        rows,
        notes=(
            "daphne + local executor as make run starts them (warm pool started with the server), and the "
            "baseline as it was (cold, made at the first submission), fresh SQLite per scenario"
        ),
    )


if __name__ == "__main__":
    main()
