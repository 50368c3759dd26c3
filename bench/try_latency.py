"""The Try cell's latency over the distributed shape, beside a Run of the same trial on the same warm pool.

One daphne, one platform worker, one grader worker (one slot, warm pool on). A student's token POSTs a
small snippet to /api/v1/exercises/tensor-basics/try/ (with 1.1's reference solution as the code), then
follows /ws/submissions/<id>/ to the final event; the baseline is a Run of the same code on the same
grader (POST /api/v1/submissions/, mode run), sent alternately with the tries so both see the same load.
The clock runs from before the POST to the final event. Target: a try's p50 <= 300 ms.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/try_latency.py [--count 30]

(`make bench` starts its own PostgreSQL and Redis.)
"""

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from common import save, summary, table
from latency import (
    PASSWORD,
    SOLUTION,
    TRIAL,
    WARM_READY,
    Process,
    free_port,
    prepare,
    start_grader,
    start_platform_worker,
    start_web,
    wait_alive,
)

SNIPPET = "import torch\nx = torch.arange(6.0).reshape(2, 3)\nprint(x.sum().item())\nx.T\n"


async def one(http, ws_base: str, token: str, url: str, body: dict) -> tuple[float, str]:
    """POST, follow the socket to the final event: seconds and the verdict."""
    import websockets

    started = time.perf_counter()
    response = await http.post(url, json=body)
    if response.status_code != 201:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:500]}")
    submission_id = response.json()["id"]
    origin = ws_base.replace("ws://", "http://")
    headers = {"Authorization": f"Token {token}"}
    async with websockets.connect(
        f"{ws_base}/ws/submissions/{submission_id}/", additional_headers=headers, origin=origin
    ) as ws:
        async for message in ws:
            event = json.loads(message)
            payload = event.get("payload")
            if (
                event.get("kind") == "status"
                and isinstance(payload, dict)
                and payload.get("status") == "done"
            ):
                return time.perf_counter() - started, str(payload.get("verdict"))
    raise RuntimeError(f"submission {submission_id}: the socket closed before the final event")


async def alternate(server: str, token: str, count: int, grader: Process) -> dict[str, tuple[list, list]]:
    import httpx

    code = SOLUTION.read_text()
    ws_base = server.replace("http://", "ws://")
    kinds = {
        "try": (f"/api/v1/exercises/{TRIAL}/try/", {"code": code, "snippet": SNIPPET}),
        "run": ("/api/v1/submissions/", {"exercise": TRIAL, "code": code, "mode": "run"}),
    }
    results: dict[str, tuple[list, list]] = {kind: ([], []) for kind in kinds}
    async with httpx.AsyncClient(
        base_url=server, headers={"Authorization": f"Token {token}"}, timeout=300
    ) as http:
        for _ in range(count):
            for kind, (url, body) in kinds.items():
                grader.alive()
                seconds, verdict = await asyncio.wait_for(one(http, ws_base, token, url, body), timeout=300)
                results[kind][0].append(seconds)
                results[kind][1].append(verdict)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=30)
    options = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not (redis_url and os.environ.get("DATABASE_URL")):
        print("try latency: DATABASE_URL and REDIS_URL are not set (make bench starts both); skipped")
        return
    import httpx
    import redis

    from workers.protocol import HEARTBEAT_KEY_PREFIX

    client = redis.Redis.from_url(redis_url)
    client.delete("cpu", "platform")
    logs = Path(tempfile.mkdtemp(prefix="huashen-bench-try-"))
    username = f"bench-{uuid.uuid4().hex[:8]}"
    prepare(username)
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    os.environ["TRIES_PER_MINUTE"] = "100000"  # read by the web process platform_env() copies from here
    web = start_web(port, logs / "web.log")
    worker = start_platform_worker(logs / "platform-worker.log")
    grader, name = start_grader(redis_url, True, logs / "grader-warm.log")
    try:
        wait_alive(server, web)
        created = httpx.post(
            f"{server}/api/v1/tokens/", auth=(username, PASSWORD), json={"name": "bench"}, timeout=30
        )
        created.raise_for_status()
        token = created.json()["token"]
        deadline = time.monotonic() + 180
        while not client.exists(HEARTBEAT_KEY_PREFIX + name) or WARM_READY not in grader.output():
            grader.alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the warm grader did not come up:\n{grader.output()[-3000:]}")
            time.sleep(0.2)
        asyncio.run(alternate(server, token, 2, grader))  # warm-up, not counted
        results = asyncio.run(alternate(server, token, options.count, grader))
    finally:
        grader.stop()
        worker.stop()
        web.stop()
    rows = []
    for kind, (seconds, verdicts) in results.items():
        stats = summary(seconds)
        rows.append(
            {
                "kind": "try (snippet)" if kind == "try" else "run of 1.1 (baseline)",
                "n": stats["n"],
                "p50_ms": stats["median_ms"],
                "p95_ms": stats["p95_ms"],
                "min_ms": stats["min_ms"],
                "max_ms": stats["max_ms"],
                "verdicts": ",".join(sorted(set(verdicts))),
            }
        )
    rows[0]["target"] = "met" if rows[0]["p50_ms"] <= 300 else "not met"
    table(
        f"The Try cell: a small snippet beside 1.1's reference solution vs a Run of it, alternating, warm pool, "
        f"POST to the final WebSocket event (target try p50 <= 300 ms; load average {os.getloadavg()[0]:.1f})"
        f" — logs in {logs}",
        rows,
        ["kind", "n", "p50_ms", "p95_ms", "min_ms", "max_ms", "verdicts", "target"],
    )
    save(
        "try_latency",
        rows,
        notes=(
            "daphne (DEBUG=0) + platform worker (solo) + one warm grader slot (prefork, concurrency 1) on "
            "Celery/Redis/PostgreSQL; a try of a 4-line torch snippet and a Run of trial 1.1's reference, "
            f"alternating, n={options.count} each after two of each as warm-up"
        ),
    )


if __name__ == "__main__":
    main()
