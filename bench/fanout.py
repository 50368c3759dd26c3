"""WebSocket fan-out: many browsers following running submissions on one web process (daphne), or spread
over several (`--web-processes 2`), or on another ASGI server (`--server uvicorn`, when installed).

Submissions in status running (created with the ORM, owned by the followers' user) get a stdout line every
`--interval` seconds, appended to their Redis stream exactly as a grader does it (workers.events.
RedisStreamSink, from a separate producer process); each line carries its send time. Followers are
websockets clients in one asyncio process, each on /ws/submissions/<id>/ with a token; the delay is from
the append to the client receiving the line. A follower the server asks to resume (4008, 4503) or that
loses its connection reconnects with ?after=<last seq>, as the browser does. At the end each submission
gets its final event (status done) and every follower counts the lines it got, and any it got twice.

Two servers in the same run, one after the other, on fresh submissions: the per-follower path as it was
before the stream hub (`WS_STREAM_HUB=0 WS_AUTH_CACHE_SECONDS=0`: each socket its own XREAD, every
handshake's token and access lookups in the database) as the baseline, then the stream hub with the
handshake cache (the defaults). `connect_s` is the time for all the followers' handshakes (20 at a time).

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/fanout.py [--submissions 50] [--followers 20]

(`make bench` starts its own PostgreSQL and Redis.)
"""

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from common import ROOT, save, table
from latency import PASSWORD, Process, free_port, platform_env, prepare, wait_alive

TRIAL = "tensor-basics"
MARK = "sent="


def create_running(username: str, count: int) -> list[int]:
    """`count` submissions of `username` in status running; their ids."""
    snippet = (
        "import datetime as dt, json; from django.utils import timezone; "
        "from huashen.accounts.models import User; from huashen.curriculum.models import Exercise; "
        "from huashen.grading.models import Mode, Status, Submission; "
        f"user = User.objects.get(username={username!r}); exercise = Exercise.objects.get(slug={TRIAL!r}); "
        "now = timezone.now(); "
        "made = Submission.objects.bulk_create([Submission(user=user, exercise=exercise, "
        "version=exercise.current_version, code='print(1)', mode=Mode.SUBMIT, status=Status.RUNNING, "
        f"device='cpu', started_at=now, deadline=now + dt.timedelta(hours=1)) for _ in range({count})]); "
        "print('IDS', json.dumps([s.pk for s in made]))"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", snippet],
        cwd=ROOT, env=platform_env(), check=True, capture_output=True, text=True,
    )  # fmt: skip
    line = next(line for line in done.stdout.splitlines() if line.startswith("IDS "))
    return list(json.loads(line[4:]))


def produce(
    redis_url: str, ids: list[int], lines: int, interval: float, start_at: float, cpu: "Any" = None
) -> None:
    """Producer process: every `interval`, one stdout line per submission (staggered), then the final events.
    Its CPU seconds go to `cpu` (a shared double) when given."""
    import redis

    from workers.events import RedisStreamSink
    from workers.protocol import EventKind

    client = redis.Redis.from_url(redis_url)
    sinks = {submission_id: RedisStreamSink(client, submission_id) for submission_id in ids}
    # Runs are not in step: submission k prints at k/len of the interval, so lines arrive evenly spread.
    schedule = sorted(
        (start_at + number * interval + index * interval / len(ids), index, number)
        for number in range(lines)
        for index in range(len(ids))
    )
    order = list(sinks.values())
    for when, index, number in schedule:
        time.sleep(max(0.0, when - time.time()))
        order[index].emit(EventKind.STDOUT, f"step {number} {MARK}{time.time()!r}\n")
    for sink in sinks.values():
        sink.emit(EventKind.STATUS, {"status": "done", "verdict": "passed", "score": 100.0})
    if cpu is not None:
        cpu.value = time.process_time()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process and its live descendants (a server's workers) have used
    so far (Linux /proc)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    family, ticks = {pid}, 0
    while True:
        grown = family | {child for child, (parent, _) in stats.items() if parent in family}
        if grown == family:
            break
        family = grown
    ticks = sum(stats[member][1] for member in family if member in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def redis_pid(redis_url: str) -> int:
    import redis

    return int(redis.Redis.from_url(redis_url).info("server")["process_id"])


RESUME_CODES = (4008, 4503, 1006, 1011)  # reconnect with ?after=N, as the browser does


async def follow(
    url: str,
    token: str,
    origin: str,
    delays: list[float],
    last: list[float],
    retries: list[int],
    ready: asyncio.Event,
    gate: asyncio.Semaphore,
    unfinished: list[int | None],
    *,
    batch: bool = False,
) -> tuple[int, int]:
    """One follower: the delay of every line it gets, until the final event; (lines, lines got twice).
    With `batch` it asks for batched messages (`&batch=1`, as the browser does) and reads arrays."""
    import websockets

    got = 0
    repeated = 0
    seen: set[int] = set()
    after = 0
    headers = {"Authorization": f"Token {token}"}
    while True:
        ws = None
        for attempt in range(5):
            await gate.acquire()  # a limited number of handshakes at a time: a burst of them is not measured
            try:
                ws = await websockets.connect(
                    f"{url}?after={after}{'&batch=1' if batch else ''}",
                    additional_headers=headers,
                    origin=origin,
                    open_timeout=120,
                    max_queue=None,  # type: ignore[arg-type]
                    ping_interval=None,  # as a browser: it answers the server's pings, sends none of its own
                )
                break
            except (websockets.exceptions.InvalidHandshake, OSError, TimeoutError):
                # daphne drops a handshake its application has not accepted within 5 s (a loaded server):
                # the browser's client reconnects, and ?after=N replays whatever was missed.
                retries[0] += 1
                if attempt == 4:
                    ready.set()
                    raise
            finally:
                gate.release()
            await asyncio.sleep(0.5)
        assert ws is not None
        ready.set()
        finished = False
        try:
            async with ws:
                async for message in ws:
                    received = time.time()
                    decoded = json.loads(message)
                    for event in decoded if isinstance(decoded, list) else [decoded]:
                        seq, payload = event.get("seq", 0), event.get("payload")
                        if seq in seen:
                            repeated += 1
                            continue
                        seen.add(seq)
                        after = max(after, seq)
                        if event.get("kind") == "stdout" and isinstance(payload, str) and MARK in payload:
                            delays.append(received - float(payload.rsplit(MARK, 1)[1]))
                            last[0] = max(last[0], received)
                            got += 1
                        elif (
                            event.get("kind") == "status"
                            and isinstance(payload, dict)
                            and payload.get("status") == "done"
                        ):
                            finished = True
                    if finished:
                        break
        except websockets.exceptions.ConnectionClosed:
            pass
        code = ws.close_code
        if finished:
            return got, repeated
        if code not in RESUME_CODES:
            unfinished.append(code)  # closed for good before the final event: what it missed is lost
            return got, repeated
        retries[0] += 1


async def fan_out(
    servers: list[str],
    token: str,
    redis_url: str,
    ids: list[int],
    followers: int,
    lines: int,
    interval: float,
    *,
    batch: bool = False,
    web_pids: tuple[int, ...] = (),
) -> dict:
    ws_bases = [server.replace("http://", "ws://") for server in servers]
    delays: list[float] = []
    last = [0.0]  # the latest receive time of any line
    retries = [0]  # handshakes tried again
    unfinished: list[int | None] = []  # close codes of followers that ended before the final event
    gate = asyncio.Semaphore(20)
    readies: list[asyncio.Event] = []
    tasks = []
    started = time.monotonic()
    for submission_id in ids:
        for number in range(followers):
            ready = asyncio.Event()
            readies.append(ready)
            # a stream's followers spread over the web processes, so each process's hub reads every stream
            ws_base, server = ws_bases[number % len(servers)], servers[number % len(servers)]
            url = f"{ws_base}/ws/submissions/{submission_id}/"
            tasks.append(
                asyncio.create_task(
                    follow(url, token, server, delays, last, retries, ready, gate, unfinished, batch=batch)
                )
            )
    waiting = [asyncio.create_task(ready.wait()) for ready in readies]
    done, _pending = await asyncio.wait(waiting, timeout=300)
    connect_s = time.monotonic() - started
    if len(done) < len(readies):
        raise RuntimeError(f"only {len(done)} of {len(readies)} followers connected in 300 s")
    await asyncio.sleep(5.0)  # every consumer past its first database read and replay, blocked on XREAD
    start_at = time.time() + 0.5
    context = multiprocessing.get_context("fork")
    producer_cpu = context.Value("d", 0.0)
    # Where the machine's cores go while the lines flow: each side's CPU seconds over the same window.
    watched = {"web": list(web_pids), "redis": [redis_pid(redis_url)]}
    cpu_before = {side: sum(map(cpu_seconds, pids)) for side, pids in watched.items()}
    client_before, window_start = time.process_time(), time.monotonic()
    producer = context.Process(target=produce, args=(redis_url, ids, lines, interval, start_at, producer_cpu))
    producer.start()
    results = await asyncio.wait_for(
        asyncio.gather(*tasks, return_exceptions=True), timeout=lines * interval + 180
    )
    window = time.monotonic() - window_start
    cpu = {side: sum(map(cpu_seconds, pids)) - cpu_before[side] for side, pids in watched.items()}
    cpu["client"] = time.process_time() - client_before
    producer.join(timeout=60)
    cpu["producer"] = producer_cpu.value
    errors = [result for result in results if isinstance(result, BaseException)]
    received = sum(result[0] for result in results if isinstance(result, tuple))
    repeated = sum(result[1] for result in results if isinstance(result, tuple))
    short = sum(1 for result in results if isinstance(result, tuple) and result[0] < lines)
    not_stored = _not_stored(redis_url, ids, lines)
    expected = len(ids) * followers * lines
    ordered = sorted(delays)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else 0.0

    return {
        "followers": len(ids) * followers,
        "submissions": len(ids),
        "lines_sent": len(ids) * lines,
        "deliveries": received,
        "lost": expected - received,
        "duplicated": repeated,
        "errors": len(errors),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else 0.0,
        "p99_ms": pick(0.99),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else 0.0,
        "line_every_ms": round(interval * 1000),
        "msgs_per_s": round(received / max(last[0] - start_at, 1e-3)),
        "connect_s": round(connect_s, 1),
        "reconnects": retries[0],
        "short": short,  # followers that got fewer lines than were sent
        "not_stored": not_stored,  # lines the streams never held (the producer's side of a loss)
        # CPU seconds per side over the window, and all of them against the machine's cores
        "cpu_web_s": round(cpu["web"], 1),
        "cpu_client_s": round(cpu["client"], 1),
        "cpu_redis_s": round(cpu["redis"], 1),
        "cpu_producer_s": round(cpu["producer"], 1),
        "cores_busy": f"{sum(cpu.values()) / (window * (os.cpu_count() or 1)):.0%}",
        "unfinished": " ".join(
            f"{code}×{count}" for code, count in sorted(collections.Counter(map(str, unfinished)).items())
        )
        or "0",
        "_first_error": repr(errors[0])[:300] if errors else "",
    }


def _not_stored(redis_url: str, ids: list[int], lines: int) -> int:
    """How many of the lines sent the submissions' streams do not hold (each also holds its final event)."""
    import redis

    from workers.protocol import event_stream_key

    client = redis.Redis.from_url(redis_url)
    return sum(max(0, lines + 1 - int(client.xlen(event_stream_key(submission_id)))) for submission_id in ids)


def _forget_streams(redis_url: str, ids: list[int]) -> None:
    """Remove streams left under these ids by an earlier database on the same Redis (tests, benches)."""
    import redis

    from workers.protocol import event_stream_key

    client = redis.Redis.from_url(redis_url)
    client.delete(*[event_stream_key(submission_id) for submission_id in ids])


PATHS = {
    # before the stream hub: each socket reads its own stream, each handshake asks the database, and
    # daphne buffers each frame until its reactor's next turn
    "per-follower": {"WS_STREAM_HUB": "0", "WS_AUTH_CACHE_SECONDS": "0", "DAPHNE_WRITE_THROUGH": "0"},
    "hub": {"WS_STREAM_HUB": "1", "WS_AUTH_CACHE_SECONDS": "5"},
    # the same server; its clients take what waits for them as one message (`&batch=1`, as the browser does)
    "hub-batched": {"WS_STREAM_HUB": "1", "WS_AUTH_CACHE_SECONDS": "5"},
    # the batched hub with daphne's own buffered writes (huashen.daphne_writes off)
    "hub-batched-buffered": {"WS_STREAM_HUB": "1", "WS_AUTH_CACHE_SECONDS": "5", "DAPHNE_WRITE_THROUGH": "0"},
}


SERVERS = {
    "daphne": lambda port: [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                            "huashen.asgi:application"],
    # Neither is a dependency: `pip install uvicorn uvloop httptools granian` into the venv to measure them.
    "uvicorn": lambda port: [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
                             "--ws", "websockets-sansio", "--loop", "uvloop", "--http", "httptools",
                             "--no-access-log", "huashen.asgi:application"],
    "granian": lambda port: [sys.executable, "-m", "granian", "--interface", "asginl", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1", "--no-access-log",
                             "huashen.asgi:application"],
}  # fmt: skip


def server_argv(server: str, port: int) -> list[str]:
    return SERVERS[server](port)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--followers", type=int, default=20, help="per submission")
    parser.add_argument("--lines", type=int, default=100, help="per submission")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between a submission's lines")
    parser.add_argument(
        "--slow-interval", type=float, default=0.0, help="also a fan-out at this line rate (0: not run)"
    )
    parser.add_argument(
        "--paths", default="per-follower,hub,hub-batched", help="which server paths, in order"
    )
    parser.add_argument(
        "--web-processes", type=int, default=1, help="web processes the followers spread over"
    )
    parser.add_argument("--server", choices=sorted(SERVERS), default="daphne", help="the ASGI server")
    options = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not (redis_url and os.environ.get("DATABASE_URL")):
        print("fanout: DATABASE_URL and REDIS_URL are not set (make bench starts both); skipped")
        return
    import httpx

    # Every follower is a socket here and a socket plus a Redis connection in daphne (which inherits this).
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = options.submissions * options.followers * 3 + 1024
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(want, _soft)), hard))

    logs = Path(tempfile.mkdtemp(prefix="huashen-bench-fanout-"))
    username = f"bench-{uuid.uuid4().hex[:8]}"
    prepare(username)
    paths = [path for path in options.paths.split(",") if path]
    cases = [(options.interval, options.lines)]
    if options.slow_interval > 0:
        cases.append(
            (options.slow_interval, max(1, round(options.lines * options.interval / options.slow_interval)))
        )
    ids = create_running(username, len(paths) * len(cases) * options.submissions)  # fresh ones per case
    _forget_streams(redis_url, ids)
    rows = []
    for path in paths:
        servers, webs = [], []
        for number in range(options.web_processes):
            port = free_port()
            servers.append(f"http://127.0.0.1:{port}")
            webs.append(
                Process(server_argv(options.server, port), {**platform_env(), **PATHS[path]},
                        logs / f"web-{path}-{number}.log")
            )  # fmt: skip
        try:
            for server, web in zip(servers, webs, strict=True):
                wait_alive(server, web)
            created = httpx.post(
                f"{servers[0]}/api/v1/tokens/", auth=(username, PASSWORD), json={"name": "bench"}, timeout=30
            )
            created.raise_for_status()
            token = created.json()["token"]
            for interval, lines in cases:
                chosen, ids = ids[: options.submissions], ids[options.submissions :]
                load_before = os.getloadavg()[0]
                row = asyncio.run(
                    fan_out(servers, token, redis_url, chosen, options.followers, lines, interval,
                            batch="-batched" in path,
                            web_pids=tuple(web.process.pid for web in webs))
                )  # fmt: skip
                row["case"] = path
                row["server"] = f"{options.server}×{options.web_processes}"
                row["load_1m"] = f"{load_before:.1f}→{os.getloadavg()[0]:.1f}"
                rows.append(row)
            for web in webs:
                web.alive()
        finally:
            for web in webs:
                web.stop()
    for row in rows:
        if error := row.pop("_first_error"):
            print(f"fanout: {row['errors']} followers failed, e.g. {error}")
        if options.web_processes > 1:  # the target for several web processes
            met = row["p99_ms"] <= 500 and row["lost"] == 0 and row["duplicated"] == 0
        else:
            met = row["p99_ms"] <= 200 and row["p50_ms"] <= 50 and row["lost"] == 0 and row["duplicated"] == 0
        row["target"] = "met" if met else "not met"
        row["connect_target"] = "met" if row["connect_s"] <= 5 else "not met"
    table(
        f"WebSocket fan-out on {options.web_processes} × {options.server}, {os.cpu_count()} cores: a line every line_every_ms per running "
        f"submission for {options.lines * options.interval:.0f} s (targets: "
        f"{'p99 <= 500 ms' if options.web_processes > 1 else 'p99 <= 200 ms, p50 <= 50 ms'}, 0 lost, "
        f"0 duplicated; {options.submissions * options.followers} handshakes <= 5 s); load_1m = load average "
        f"before→after — logs in {logs}",
        rows,
        ["case", "server", "followers", "submissions", "line_every_ms", "lines_sent", "deliveries", "lost", "duplicated",
         "errors", "p50_ms", "p99_ms", "max_ms", "msgs_per_s", "connect_s", "reconnects", "short", "not_stored", "unfinished", "cpu_web_s", "cpu_client_s", "cpu_redis_s", "cpu_producer_s",
         "cores_busy", "load_1m", "target",
         "connect_target"],
    )  # fmt: skip
    name = (
        "fanout"
        if (options.server, options.web_processes) == ("daphne", 1)
        else "fanout-" + "-".join([options.server, f"x{options.web_processes}"])
    )
    save(
        name,
        rows,
        notes=(
            "one daphne (DEBUG=0) per path, one after the other on fresh submissions: per-follower = "
            "WS_STREAM_HUB=0 WS_AUTH_CACHE_SECONDS=0 (the path before the hub), hub = the defaults; "
            "lines appended with workers.events.RedisStreamSink from a producer process, "
            "each submission's lines offset by k/50 of the interval (runs not in step), "
            "the send time in the line; followers are websockets clients in one asyncio process on this "
            "machine (Authorization: Token), so client and server share its cores; delay = receive - send; "
            "msgs_per_s = deliveries / (last receive - first send); connect_s = all handshakes, 20 at a time; "
            "a follower told to resume (4008/4503) or cut off reconnects with ?after=N"
        ),
    )


if __name__ == "__main__":
    main()
