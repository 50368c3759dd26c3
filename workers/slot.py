"""This grading process's one Grader: a Celery slot (a prefork child, or the solo/threads worker) makes it
on first use, from the grader's settings (`workers/env.py`), and keeps it, warm pool and all."""

from workers import env
from workers.grader import Grader
from workers.sandbox.policy import gpu_device_nodes

_grader: Grader | None = None


def grader() -> Grader:
    global _grader
    if _grader is None:
        device = env.device()
        _grader = Grader(
            device=device,
            require_cgroups=env.require_cgroups(),
            gpu_devices=gpu_device_nodes(env.cuda_visible_devices()) if device == "gpu" else (),
        )
        exercises = env.exercises_dir()
        if exercises:
            _grader.exercises_dir = exercises
    return _grader
