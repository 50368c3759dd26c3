"""This grading process's one Grader: a Celery slot (a prefork child, or the solo/threads worker) makes it
on first use, from the grader's settings (`workers/env.py`), and keeps it, warm pool and all."""

from pathlib import Path

from workers import env
from workers.grader import Grader

_grader: Grader | None = None


def gpu_device_nodes(visible: str) -> tuple[str, ...]:
    """The /dev nodes a GPU grader binds into its jobs: the reserved GPUs' and the shared control nodes."""
    nodes = [f"/dev/nvidia{index}" for index in visible.split(",") if index.strip().isdigit()]
    if not any(Path(node).exists() for node in nodes):
        # In a container the reserved GPU keeps its host node name (/dev/nvidia3) while CUDA
        # numbers it 0: the container holds only the nodes of its own GPUs, so take those.
        nodes = sorted(str(node) for node in Path("/dev").glob("nvidia[0-9]*"))
    shared = ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"]
    return tuple(node for node in [*nodes, *shared] if Path(node).exists())


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
