"""Submit-to-verdict for trial 1.1 over the distributed shape: HTTP (daphne) + Celery + Redis + PostgreSQL.

One daphne, one platform worker, one grader worker with one slot. A student's token POSTs the reference
solution to /api/v1/submissions/, then follows /ws/submissions/<id>/ (as the trial page and the CLI do)
until the final event (status done); the clock runs from before the POST to that event. Submissions are
sequential. The grader runs warm (HUASHEN_WARM_POOL=1), then cold (=0) as the baseline, in the same run.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/latency.py [--count 50] [--cold-count 10]

(`make bench` starts its own PostgreSQL and Redis.)
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import ROOT, save, summary, table

TRIAL = "tensor-basics"
SOLUTION = ROOT / "exercises" / "01-tensors" / "01-tensor-basics" / "reference" / "solution.py"
PASSWORD = "bench-" + uuid.uuid4().hex
WARM_READY = "the warm sandbox passed its self-test"


class Process:
    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.log.name} exited:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def platform_env() -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DJANGO_SETTINGS_MODULE": "huashen.settings",
        "HUASHEN_EXECUTOR": "celery",
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 44,
        "SECURE_COOKIES": "0",
        "SUBMISSIONS_PER_MINUTE": "100000",
        "LOG_LEVEL": "WARNING",  # no access-log line per request in the measured path
    }


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=platform_env(), check=True)


def prepare(username: str) -> None:
    manage("migrate", "--noinput", "-v0")
    manage("sync_exercises", "-v0")
    manage(
        "shell", "-c",
        "from huashen.accounts.services import user_create; "
        f"user_create(username={username!r}, password={PASSWORD!r})",
    )  # fmt: skip


def start_web(port: int, log: Path) -> Process:
    argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "huashen.asgi:application"]
    return Process(argv, platform_env(), log)


def start_platform_worker(log: Path) -> Process:
    argv = [sys.executable, "-m", "celery", "-A", "huashen", "worker", "-Q", "platform", "-P", "solo",
            "-n", f"bench-platform-{uuid.uuid4().hex[:6]}@bench", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-l", "info"]  # fmt: skip
    return Process(argv, platform_env(), log)


def start_grader(redis_url: str, warm: bool, log: Path) -> tuple[Process, str]:
    name = f"bench-latency-{'warm' if warm else 'cold'}-{uuid.uuid4().hex[:6]}@bench"
    env = {
        **{
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE", "POSTGRES", "PG", "SECRET", "DJANGO"))
        },
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": redis_url,
        "HUASHEN_WARM_POOL": "1" if warm else "0",
        "LOG_FORMAT": "text",
    }
    argv = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "cpu", "-P", "prefork",
            "--concurrency", "1", "-n", name, "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-l", "info"]  # fmt: skip
    return Process(argv, env, log), name


def wait_alive(server: str, web: Process) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        web.alive()
        try:
            if httpx.get(f"{server}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the web server never answered:\n{web.output()[-4000:]}")


async def one_submission(
    http, ws_base: str, token: str, code: str, moments: list[tuple[float, float, float]]
) -> tuple[float, dict, int]:
    """POST the code, follow its socket to the final event; seconds from the POST to that event.

    `moments` gets the wall-clock (`time.time()`) moments of the POST, its answer and the final event's
    arrival: the events carry the grader's and the platform worker's `time.time()`, the same clock on
    this machine, so the stages are differences on one clock (perf_counter means nothing across
    processes, and the row's created_at is not when the grader could first see the job)."""
    import websockets

    started = time.perf_counter()
    posted = time.time()
    response = await http.post("/api/v1/submissions/", json={"exercise": TRIAL, "code": code})
    answered = time.time()
    if response.status_code != 201:
        raise RuntimeError(f"submit answered {response.status_code}: {response.text[:500]}")
    submission_id = response.json()["id"]
    url = f"{ws_base}/ws/submissions/{submission_id}/"
    headers = {"Authorization": f"Token {token}"}
    origin = ws_base.replace("ws://", "http://")  # the origin check wants one, as a browser sends
    async with websockets.connect(url, additional_headers=headers, origin=origin) as ws:  # type: ignore[arg-type]
        async for message in ws:
            event = json.loads(message)
            payload = event.get("payload")
            if (
                event.get("kind") == "status"
                and isinstance(payload, dict)
                and payload.get("status") == "done"
            ):
                elapsed = time.perf_counter() - started
                moments.append((posted, answered, time.time()))
                return elapsed, payload, submission_id
    raise RuntimeError(f"submission {submission_id}: the socket closed before the final event")


async def series(
    server: str,
    token: str,
    count: int,
    grader: Process,
    moments: list[tuple[float, float, float]] | None = None,
) -> tuple[list[float], list[str], list[int]]:
    import httpx

    code = SOLUTION.read_text()
    ws_base = server.replace("http://", "ws://")
    seconds: list[float] = []
    verdicts: list[str] = []
    ids: list[int] = []
    async with httpx.AsyncClient(
        base_url=server, headers={"Authorization": f"Token {token}"}, timeout=300
    ) as http:
        for _ in range(count):
            grader.alive()
            elapsed, payload, submission_id = await asyncio.wait_for(
                one_submission(http, ws_base, token, code, moments if moments is not None else []),
                timeout=300,
            )
            seconds.append(elapsed)
            verdicts.append(str(payload.get("verdict")))
            ids.append(submission_id)
    return seconds, verdicts, ids


def phases(ids: list[int], moments: list[tuple[float, float, float]]) -> dict:
    """Medians of where the time went, every moment on one clock: wall time (`time.time()`) as the
    grader's and the platform worker's events carry it and as this process read it around the POST and
    at the final event's arrival (one machine, one clock)."""
    snippet = (
        "import json; from huashen.grading.models import Submission; "
        f"print('ROWS', json.dumps([[s.log[0]['time'], s.log[-1]['time'], "
        f"s.resources.get('wall_seconds', 0)] for s in Submission.objects.filter(pk__in={ids!r}).order_by('pk')]))"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", snippet],
        cwd=ROOT, env=platform_env(), check=True, capture_output=True, text=True,
    )  # fmt: skip
    rows = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("ROWS "))[5:])
    split: dict[str, list[float]] = {"queue": [], "sandbox": [], "check_and_record": [], "http_and_ws": []}
    for (running, final, wall), (posted, answered, arrived) in zip(rows, moments, strict=True):
        split["queue"].append(running - answered)
        split["sandbox"].append(wall)
        split["check_and_record"].append(final - running - wall)
        split["http_and_ws"].append((answered - posted) + (arrived - final))
    return {name: round(statistics.median(values) * 1000, 1) for name, values in split.items()}


def run_path(server: str, token: str, redis_url: str, warm: bool, count: int, logs: Path) -> dict:
    import redis

    from workers.protocol import HEARTBEAT_KEY_PREFIX

    client = redis.Redis.from_url(redis_url)
    grader, name = start_grader(redis_url, warm, logs / f"grader-{'warm' if warm else 'cold'}.log")
    try:
        deadline = time.monotonic() + 180
        while not client.exists(HEARTBEAT_KEY_PREFIX + name):
            grader.alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the grader did not come up:\n{grader.output()[-3000:]}")
            time.sleep(0.2)
        # Warm-up, not counted: a warm slot starts its pool as its process starts and runs warm once the
        # pool passed its self-test; both paths get the same two jobs (first imports, first connections).
        asyncio.run(series(server, token, 2, grader))
        if warm:
            deadline = time.monotonic() + 180
            while WARM_READY not in grader.output():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the warm pool did not come up:\n{grader.output()[-3000:]}")
                time.sleep(0.2)
            asyncio.run(series(server, token, 1, grader))
        moments: list[tuple[float, float, float]] = []
        seconds, verdicts, ids = asyncio.run(series(server, token, count, grader, moments))
    finally:
        grader.stop()
    split = phases(ids, moments)
    stats = summary(seconds)
    row = {
        "grader": "warm" if warm else "cold",
        "n": stats["n"],
        "p50_ms": stats["median_ms"],
        "p95_ms": stats["p95_ms"],
        "min_ms": stats["min_ms"],
        "max_ms": stats["max_ms"],
        "verdicts": ",".join(sorted(set(verdicts))),
        **{f"{name}_ms": value for name, value in split.items()},
    }
    if warm:
        met = stats["median_ms"] <= 300 and stats["p95_ms"] <= 800
        row["target"] = "met" if met else "not met"
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--cold-count", type=int, default=10)
    options = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not (redis_url and os.environ.get("DATABASE_URL")):
        print("latency: DATABASE_URL and REDIS_URL are not set (make bench starts both); skipped")
        return
    import httpx
    import redis

    redis.Redis.from_url(redis_url).delete("cpu", "platform")
    logs = Path(tempfile.mkdtemp(prefix="huashen-bench-latency-"))
    username = f"bench-{uuid.uuid4().hex[:8]}"
    prepare(username)
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    web = start_web(port, logs / "web.log")
    worker = start_platform_worker(logs / "platform-worker.log")
    try:
        wait_alive(server, web)
        created = httpx.post(
            f"{server}/api/v1/tokens/", auth=(username, PASSWORD), json={"name": "bench"}, timeout=30
        )
        created.raise_for_status()
        token = created.json()["token"]
        rows = [
            run_path(server, token, redis_url, True, options.count, logs),
            run_path(server, token, redis_url, False, options.cold_count, logs),
        ]
    finally:
        worker.stop()
        web.stop()
    if rows[0]["p50_ms"]:
        rows[0]["x_faster"] = round(rows[1]["p50_ms"] / rows[0]["p50_ms"], 1)
    table(
        f"Trial 1.1 submit-to-verdict, reference solution, sequential (HTTP POST + WebSocket to the final "
        f"event; target warm: p50 <= 300 ms, p95 <= 800 ms) — logs in {logs}",
        rows,
        ["grader", "n", "p50_ms", "p95_ms", "min_ms", "max_ms", "verdicts", "x_faster", "target"],
    )
    table(
        "Where the time goes (medians, all on the wall clock the events carry): queue = the POST's answer "
        "to the grader's first event; sandbox = the run's wall time; check_and_record = the rest of the "
        "grader, the result hop and the platform worker's write + final event; http_and_ws = the POST "
        "until its answer plus the final event's trip to the socket",
        rows,
        ["grader", "p50_ms", "queue_ms", "sandbox_ms", "check_and_record_ms", "http_and_ws_ms"],
    )
    save(
        "latency",
        rows,
        notes=(
            "daphne (DEBUG=0) + platform worker (solo) + one grader slot (prefork, concurrency 1) on Celery/"
            "Redis/PostgreSQL; clock from before POST /api/v1/submissions/ to the final WebSocket event "
            "(status done), the socket opened right after the POST's answer (a token in the Authorization "
            f"header); warm n={options.count} after warm-up, cold baseline n={options.cold_count} (fewer "
            "samples: a cold verdict costs seconds)"
        ),
    )


if __name__ == "__main__":
    main()
