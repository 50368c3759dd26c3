"""The grader's Celery task: unpack the request, grade it, send the result to the platform queue."""

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from workers.celery_app import HARD_LIMIT_SECONDS, app, redis_client
from workers.events import RedisStreamSink
from workers.grader import Grader, grade
from workers.logs import log_context
from workers.protocol import GRADE_TASK, RESULT_TASK, GradeRequest, GradeResult, Verdict

logger = logging.getLogger(__name__)

_grader: Grader | None = None


def grader() -> Grader:
    global _grader
    if _grader is None:
        device = os.environ.get("HUASHEN_DEVICE", "cpu")
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
        gpu_nodes: tuple[str, ...] = ()
        if device == "gpu":
            nodes = [f"/dev/nvidia{index}" for index in visible.split(",") if index.strip().isdigit()]
            if not any(Path(node).exists() for node in nodes):
                # In a container the reserved GPU keeps its host node name (/dev/nvidia3) while CUDA
                # numbers it 0: the container holds only the nodes of its own GPUs, so take those.
                nodes = sorted(str(node) for node in Path("/dev").glob("nvidia[0-9]*"))
            shared = ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"]
            gpu_nodes = tuple(node for node in [*nodes, *shared] if Path(node).exists())
        _grader = Grader(
            device=device,
            require_cgroups=os.environ.get("HUASHEN_REQUIRE_CGROUPS", "1") != "0",
            gpu_devices=gpu_nodes,
        )
        exercises = os.environ.get("HUASHEN_EXERCISES_DIR")
        if exercises:
            _grader.exercises_dir = Path(exercises)
    return _grader


@app.task(
    name=GRADE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=HARD_LIMIT_SECONDS - 30,
    time_limit=HARD_LIMIT_SECONDS,
)
def grade_task(wire: dict[str, Any]) -> None:
    request = GradeRequest.from_wire(wire)
    hostname = str(grade_task.request.hostname or "")
    # Every line this job logs (ours, the grader's, the sandbox runner's) carries the submission's ids.
    with log_context(request_id=request.request_id, submission_id=request.submission_id):
        logger.info("grading submission %s: %s (%s) on %s", request.submission_id, request.trial,
                    request.mode.value, hostname)  # fmt: skip
        app.send_task("huashen.mark_running", args=[request.submission_id], queue="platform")
        try:
            result = grade(request, grader(), RedisStreamSink(redis_client(), request.submission_id))
        except SoftTimeLimitExceeded:
            logger.error("submission %s exceeded the task's soft time limit", request.submission_id)
            result = GradeResult(
                submission_id=request.submission_id, verdict=Verdict.INTERNAL_ERROR, score=0.0
            )
        result = dataclasses.replace(result, request_id=request.request_id, grader=hostname)
        logger.info("submission %s graded: %s (%.0f) in %.2f s", request.submission_id,
                    result.verdict.value, result.score, result.duration)  # fmt: skip
        app.send_task(RESULT_TASK, args=[result.to_wire()], queue="platform")
