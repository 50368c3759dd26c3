"""Throughput: N realm-1 submissions queued at once on this machine, drained by one grader worker
(Celery over Redis, prefork, one slot per core), cold against warm in the same run; each must come back
exactly once and pass. The web side and PostgreSQL are not in this loop: requests go straight onto the
grader queue and results are read off the platform queue.

    REDIS_URL=... .venv/bin/python bench/drain.py [--count 100] [--slots 2]

(`make bench` starts its own Redis.)
"""

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import ROOT, save, table
from reference_grading import request_for

from workers.protocol import GRADE_TASK, HEARTBEAT_KEY_PREFIX, RESULT_TASK, GradeRequest


def start_worker(redis_url: str, warm: bool, slots: int, log: Path) -> tuple[subprocess.Popen, str]:
    name = f"bench-{'warm' if warm else 'cold'}-{uuid.uuid4().hex[:6]}@bench"
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DATABASE", "SECRET"))},
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": redis_url,
        "HUASHEN_WARM_POOL": "1" if warm else "0",
        "LOG_FORMAT": "text",
    }
    argv = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "cpu", "-P", "prefork",
            "--concurrency", str(slots), "-n", name, "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-l", "info"]  # fmt: skip
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return process, name


def results(client, count: int, timeout: float) -> list[dict]:
    """Record-result messages off the platform queue (kombu's JSON envelope over a Redis list)."""
    found: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        item = client.blpop("platform", timeout=1)
        if item is None:
            continue
        envelope = json.loads(item[1])
        if envelope.get("headers", {}).get("task") != RESULT_TASK:
            continue
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        found.append(args[0])
    return found


# Submission ids no benchmark database reaches: a run's events stay in Redis under its submission id, and a
# later benchmark on the same Redis (latency.py's real submissions 1, 2, …) would continue those streams.
FIRST_ID = 10**9
WARM_UP_ID = FIRST_ID + 10**6


def forget_streams(redis_url: str, ids: list[int]) -> None:
    """Remove the event streams these submission ids left."""
    import redis

    from workers.protocol import event_stream_key

    client = redis.Redis.from_url(redis_url)
    for start in range(0, len(ids), 500):
        client.delete(*[event_stream_key(submission_id) for submission_id in ids[start : start + 500]])


def drain(redis_url: str, warm: bool, requests: list[GradeRequest], slots: int, log: Path) -> dict:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete("cpu", "platform")
    from workers.celery_app import app

    worker, name = start_worker(redis_url, warm, slots, log)
    try:
        deadline = time.monotonic() + 120
        while not client.exists(HEARTBEAT_KEY_PREFIX + name):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the grader did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        # Warm-up, not counted: one job per slot (a warm slot starts its pool as its process starts and
        # runs warm once the pool passed its self-test).
        for index in range(slots * 2):
            app.send_task(GRADE_TASK, args=[_with_id(requests[0], WARM_UP_ID + index).to_wire()], queue="cpu")
        results(client, slots * 2, timeout=300)
        if warm:
            deadline = time.monotonic() + 180
            while log.read_text().count("the warm sandbox passed its self-test") < slots:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the warm pools did not come up:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        client.delete("platform")
        started = time.monotonic()
        for index, request in enumerate(requests):
            app.send_task(GRADE_TASK, args=[_with_id(request, FIRST_ID + index).to_wire()], queue="cpu")
        found = results(client, len(requests), timeout=1800)
        seconds = time.monotonic() - started
        time.sleep(1)
        found += results(client, 10**6, timeout=1)  # anything delivered twice
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
    ids = [result["submission_id"] for result in found]
    verdicts = sorted({result["verdict"] for result in found})
    return {
        "path": "warm" if warm else "cold",
        "submissions": len(requests),
        "drain_s": round(seconds, 1),
        "per_second": round(len(requests) / seconds, 2),
        "results": len(ids),
        "exactly_once": sorted(ids) == list(range(FIRST_ID, FIRST_ID + len(requests))),
        "verdicts": ",".join(verdicts),
    }


def _with_id(request: GradeRequest, submission_id: int) -> GradeRequest:
    """A copy with its own submission and request ids: a grader claims each (submission, request) once,
    so the warm path must not reuse the cold path's ids (it would acknowledge them without running)."""
    from dataclasses import replace

    return replace(request, submission_id=submission_id, request_id=uuid.uuid4().hex)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--slots", type=int, default=os.cpu_count() or 2)
    options = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        print("drain: REDIS_URL is not set (make bench starts a Redis); skipped")
        return
    bundles = sorted(toml.parent for toml in (ROOT / "exercises" / "01-tensors").glob("*/exercise.toml"))
    templates = [request_for(bundle) for bundle in bundles]
    requests = [templates[index % len(templates)] for index in range(options.count)]
    logs = Path(tempfile.mkdtemp(prefix="huashen-bench-"))
    rows = []
    for warm in (False, True):
        rows.append(drain(redis_url, warm, requests, options.slots, logs / f"grader-{warm}.log"))
        forget_streams(
            redis_url,
            [FIRST_ID + index for index in range(len(requests))]
            + [WARM_UP_ID + index for index in range(options.slots * 2)],
        )
    if rows[1]["drain_s"]:
        rows[1]["speedup"] = round(rows[0]["drain_s"] / rows[1]["drain_s"], 1)
    table(
        f"{options.count} realm-1 submissions queued at once, one grader with {options.slots} slots "
        "(target: <= 30 s warm, exactly once)",
        rows, ["path", "submissions", "drain_s", "per_second", "results", "exactly_once", "verdicts", "speedup"],
    )  # fmt: skip
    save("drain", rows, notes="Celery + Redis + grader; the web side and PostgreSQL are not in this loop")


if __name__ == "__main__":
    main()
