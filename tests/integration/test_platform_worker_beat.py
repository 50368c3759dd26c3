"""The platform worker's embedded beat dies with its worker, so a killed and restarted worker never
leaves two beats sending every periodic task twice; and the test Redis keeps its queues over a restart,
as a deployment's does."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

from tests.integration.conftest import ROOT, WorkerProcess, worker_database_url


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is `pid`, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_embedded_beat_dies_with_a_killed_worker(services: dict, transactional_db: None, tmp_path: Path):
    # given a platform worker with its embedded beat (-B), as docker-compose runs it
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": services["redis"],
    }
    argv = [sys.executable, "-m", "celery", "-A", "huashen", "worker", "-Q", "platform", "-P", "solo",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
            "-B", "-s", str(tmp_path / "beat-schedule")]  # fmt: skip
    worker = WorkerProcess(argv, env, tmp_path / "worker.log")
    beats: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not beats:
            assert worker.process.poll() is None, worker.output()[-4000:]
            if "beat: Starting" in worker.output():
                beats = _children(worker.process.pid)
            time.sleep(0.2)
        assert len(beats) == 1, f"no beat process under the worker:\n{worker.output()[-4000:]}"
        # when the worker is killed outright (an OOM kill, kill -9): no warm shutdown stops its beat
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(timeout=10)
        # then the beat goes with it (bound: a few seconds, the kernel signals at once)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(beats[0]):
            time.sleep(0.1)
        assert not _alive(beats[0]), "the beat outlived its worker: a restarted worker would make two"
    finally:
        if worker.process.poll() is None:
            worker.process.kill()
        for pid in beats + _children(worker.process.pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        worker._log_file.close()


def test_the_test_redis_keeps_its_queues_over_a_restart() -> None:
    # given Redis started by scripts/services.sh, with work waiting in a queue (under var/: PostgreSQL's
    # account cannot enter root's private temporary directories)
    directory = ROOT / "var" / f"svc-restart-{uuid.uuid4().hex[:8]}"
    subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "start", str(directory)], check=True)
    try:
        env = dict(
            line.removeprefix("export ").split("=", 1)
            for line in (directory / "env").read_text().split("\n")
            if line
        )
        client = redis.Redis.from_url(env["REDIS_URL"])
        client.lpush("cpu", "a queued grade request")
        time.sleep(1.2)  # appendfsync everysec: what a restart may lose is the last second
        # when it is stopped and started again
        subprocess.run([str(directory / "redis-ctl"), "stop"], check=True)
        subprocess.run([str(directory / "redis-ctl"), "start"], check=True)
        # then the queued work is still there
        assert client.lrange("cpu", 0, -1) == [b"a queued grade request"]
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "stop", str(directory)], check=True)
