"""The graders' Celery app. No Django, no database: a grader needs only REDIS_URL.

    celery -A workers.celery_app worker -Q cpu      (or -Q gpu, one worker process per GPU)

At start the worker runs the sandbox self-test and refuses to consume anything if it fails; while it
runs it publishes a heartbeat (queues, device, load) that the platform's routing, /readyz and the
operations page read.
"""

import json
import logging
import os
import socket
import threading
import time
from typing import Any

from celery import Celery, signals

from workers import env
from workers.logs import logging_config
from workers.protocol import HEARTBEAT_KEY_PREFIX, HEARTBEAT_TTL_SECONDS

logger = logging.getLogger(__name__)

REDIS_URL = env.redis_url()
# Just above the longest hard limit, so Redis never redelivers a task a live worker is still running.
HARD_LIMIT_SECONDS = env.hard_limit_seconds()

app = Celery("huashen-grader", broker=REDIS_URL)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_transport_options={"visibility_timeout": HARD_LIMIT_SECONDS + 60},
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    imports=["workers.tasks"],
)


@signals.setup_logging.connect
def configure_logging(loglevel: Any = None, **_kwargs: Any) -> None:
    """Our own handler instead of Celery's: JSON lines with the job's request id (`LOG_FORMAT=text`
    for a terminal). Connecting this signal is what stops Celery from configuring logging itself."""
    import logging.config

    level = loglevel if isinstance(loglevel, str) else logging.getLevelName(loglevel or logging.INFO)
    logging.config.dictConfig(logging_config(log_format=env.log_format(), level=level))


def redis_client() -> Any:
    import redis

    return redis.Redis.from_url(REDIS_URL)


@signals.worker_init.connect
def refuse_an_unsound_sandbox(**_kwargs: Any) -> None:
    from workers.sandbox.runner import reclaim_stale_jobs
    from workers.sandbox.selftest import self_test
    from workers.sandbox.warm.pool import reclaim_stale_zygotes
    from workers.staging import reclaim_stale_lib_dirs

    # A dead grader's zygote cgroups are named like jobs and go with them; its zygote and lib files here.
    reclaimed = reclaim_stale_jobs() + reclaim_stale_zygotes() + reclaim_stale_lib_dirs()
    if reclaimed:
        logger.warning("reclaimed %d leftovers of jobs whose grader died: %s", len(reclaimed), reclaimed)
    problems = self_test(require_cgroups=env.require_cgroups())
    if problems:
        for problem in problems:
            logger.critical("sandbox self-test failed: %s", problem)
        # Fail closed: never consume the queue with a sandbox that is not sound.
        raise SystemExit("huashen grader: the sandbox self-test failed; refusing to consume any queue")
    logger.info("sandbox self-test passed")


def start_warm_pool() -> None:
    """Start this grading process's warm pool now, in the background, so that its first job finds a
    zygote already up instead of starting one (and running cold meanwhile). Off or impossible here
    (HUASHEN_WARM_POOL=0, no cgroups), it does nothing: jobs run cold as before."""
    from workers.slot import grader

    try:
        grader().warm_pool()
    except Exception:  # the cold path still grades; the first job tries the pool again
        logger.exception("the warm pool did not start with the grader process")


@signals.worker_process_init.connect
def warm_pool_with_the_process(**_kwargs: Any) -> None:
    """Each prefork child is one grading slot with its own grader: its pool starts as the child does.
    In the background: a child must report itself alive within seconds."""
    start_warm_pool()


class Heartbeat(threading.Thread):
    def __init__(self, hostname: str, queues: list[str], device: str, concurrency: int) -> None:
        super().__init__(name="huashen-heartbeat", daemon=True)
        self.hostname, self.queues, self.device, self.concurrency = hostname, queues, device, concurrency
        self.stopped = threading.Event()

    def beat(self) -> None:
        payload = {
            "hostname": self.hostname,
            "queues": self.queues,
            "device": self.device,
            "slots": self.concurrency,
            "load": os.getloadavg()[0],
            "time": time.time(),
        }
        redis_client().set(
            HEARTBEAT_KEY_PREFIX + self.hostname, json.dumps(payload), ex=HEARTBEAT_TTL_SECONDS
        )

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.beat()
            except Exception:  # a missed beat is not fatal; readiness notices the silence
                logger.warning("heartbeat failed", exc_info=True)
            self.stopped.wait(10)


@signals.worker_ready.connect
def start_heartbeat(sender: Any = None, **_kwargs: Any) -> None:
    consumer = getattr(sender, "controller", None) or sender
    queues = sorted(q.name for q in getattr(getattr(sender, "task_consumer", None), "queues", []) or [])
    if not queues:
        queues = sorted(app.amqp.queues.keys())
    hostname = getattr(sender, "hostname", None) or socket.gethostname()
    concurrency = getattr(getattr(consumer, "pool", None), "limit", 1) or 1
    heartbeat = Heartbeat(hostname, queues, env.device(), int(concurrency))
    heartbeat.beat()
    heartbeat.start()
    pool = getattr(consumer, "pool", None)
    if pool is not None and "prefork" not in type(pool).__module__:
        start_warm_pool()  # solo or threads: jobs run in this process, which no child start announces
