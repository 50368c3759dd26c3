"""Per-job control groups: memory, process count and CPU accounting, on cgroup v1 and v2.

Only a root grader (or one with a delegated cgroup subtree) can create them. A job's cgroups are
children of the grader's own, so a grader that is itself confined (a container, a session) stays so.
"""

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


class CgroupError(RuntimeError):
    pass


def _own_path(controller: str) -> str:
    """This process's cgroup path for `controller` ('' for the v2 unified hierarchy)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _number, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controller == "" and controllers == ""):
            return path
    raise CgroupError(f"no {controller or 'unified'} cgroup for this process")


def version() -> int:
    return 2 if (ROOT / "cgroup.controllers").exists() else 1


@dataclass
class Usage:
    peak_memory_bytes: int
    cpu_seconds: float
    oom_killed: bool
    pids_limit_hit: bool = False  # a fork or thread creation was refused at pids.max


class JobCgroup:
    """The cgroups of one job. Use as a context manager: created on enter, emptied and removed on exit."""

    def __init__(self, name: str, *, memory_bytes: int, pids: int) -> None:
        self.name = name
        self.memory_bytes = memory_bytes
        self.pids = pids
        self.version = version()
        self.dirs: dict[str, Path] = {}

    # --- lifecycle ----------------------------------------------------------------------------------
    def __enter__(self) -> "JobCgroup":
        parents = _job_parents()
        if not parents:
            raise CgroupError("cannot find this process's own cgroups")
        try:
            if self.version == 2:
                parent = parents["unified"]
                self._enable_v2_controllers(parent)
                self.dirs["unified"] = self._make(parent / self.name)
                self._write("unified", "memory.max", self.memory_bytes)
                self._write("unified", "memory.swap.max", 0, optional=True)
                self._write("unified", "pids.max", self.pids)
            else:
                for controller, parent in parents.items():
                    self.dirs[controller] = self._make(parent / self.name)
                self._write("memory", "memory.limit_in_bytes", self.memory_bytes)
                self._write("memory", "memory.memsw.limit_in_bytes", self.memory_bytes, optional=True)
                self._write("memory", "memory.swappiness", 0, optional=True)
                self._write("pids", "pids.max", self.pids)
        except OSError as error:
            self.remove()
            raise CgroupError(f"cannot create the job's cgroups: {error}") from error
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill_all()
        self.remove()

    def procs_files(self) -> list[str]:
        """The cgroup.procs files a process writes its pid into to join every controller."""
        return [str(path / "cgroup.procs") for path in self.dirs.values()]

    def pids_in(self) -> list[int]:
        path = self.dirs.get("unified") or self.dirs.get("pids")
        if path is None:
            return []
        try:
            return [int(pid) for pid in (path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def kill_all(self, timeout: float = 10.0) -> bool:
        """SIGKILL every process in the job until none is left. True when the tree is dead."""
        deadline = time.monotonic() + timeout
        unified = self.dirs.get("unified")
        while time.monotonic() < deadline:
            pids = self.pids_in()
            if not pids:
                return True
            if unified is not None and (unified / "cgroup.kill").exists():
                (unified / "cgroup.kill").write_text("1")
            else:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        return not self.pids_in()

    def remove(self) -> None:
        for path in self.dirs.values():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)

    # --- measurements ------------------------------------------------------------------------------
    def usage(self) -> Usage:
        if self.version == 2:
            peak = self._read_int("unified", "memory.peak")
            cpu = self._read_keyed("unified", "cpu.stat").get("usage_usec", 0) / 1e6
            oom = self._read_keyed("unified", "memory.events").get("oom_kill", 0) > 0
            # The pids controller counts each fork or clone it refused at pids.max ("max" in pids.events).
            pids_hit = self._read_keyed("unified", "pids.events").get("max", 0) > 0
        else:
            peak = self._read_int("memory", "memory.max_usage_in_bytes")
            cpu = self._read_int("cpuacct", "cpuacct.usage") / 1e9
            oom = self._read_keyed("memory", "memory.oom_control").get("oom_kill", 0) > 0
            pids_hit = self._read_keyed("pids", "pids.events").get("max", 0) > 0
        return Usage(peak_memory_bytes=peak, cpu_seconds=cpu, oom_killed=oom, pids_limit_hit=pids_hit)

    # --- helpers -------------------------------------------------------------------------------------
    @staticmethod
    def _make(path: Path) -> Path:
        path.mkdir()
        return path

    @staticmethod
    def _enable_v2_controllers(parent: Path) -> None:
        wanted = {"memory", "pids", "cpu"}
        available = set((parent / "cgroup.controllers").read_text().split())
        missing = wanted - available
        if missing:
            raise CgroupError(
                f"cgroup v2 controllers not delegated to {parent}: {', '.join(sorted(missing))}"
            )
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
        for controller in wanted - enabled:
            (parent / "cgroup.subtree_control").write_text(f"+{controller}")

    def _write(self, key: str, name: str, value: int, *, optional: bool = False) -> None:
        try:
            (self.dirs[key] / name).write_text(str(value))
        except OSError:
            if not optional:
                raise

    def _read_int(self, key: str, name: str) -> int:
        try:
            return int((self.dirs[key] / name).read_text().split()[0])
        except (OSError, ValueError, IndexError, KeyError):
            return 0

    def _read_keyed(self, key: str, name: str) -> dict[str, int]:
        values = {}
        try:
            for line in (self.dirs[key] / name).read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1].lstrip("-").isdigit():
                    values[parts[0]] = int(parts[1])
        except (OSError, KeyError):
            pass
        return values


V1_CONTROLLERS = ("memory", "pids", "cpuacct")


def _job_parents() -> dict[str, Path]:
    """Where job cgroups are created, keyed like JobCgroup.dirs ('unified', or the v1 controller)."""
    try:
        if version() == 2:
            return {"unified": ROOT / _own_path("").lstrip("/")}
        return {
            controller: ROOT / controller / _own_path(controller).lstrip("/") for controller in V1_CONTROLLERS
        }
    except (CgroupError, OSError):
        return {}


def stale_job_groups() -> set[str]:
    """Names of the job cgroups under this process's own cgroups (live or not)."""
    names: set[str] = set()
    for parent in _job_parents().values():
        if parent.is_dir():
            names.update(
                path.name for path in parent.iterdir() if path.is_dir() and path.name.startswith("job-")
            )
    return names


def remove_job_group(name: str) -> None:
    """Kill whatever is left in a job's cgroups and remove them."""
    group = JobCgroup(name, memory_bytes=0, pids=0)
    group.dirs = {key: parent / name for key, parent in _job_parents().items() if (parent / name).is_dir()}
    group.kill_all(timeout=5)
    group.remove()


def available() -> str | None:
    """None when this process can create job cgroups; otherwise why not."""
    probe = f"huashen-probe-{os.getpid()}"
    try:
        with JobCgroup(probe, memory_bytes=64 * 1024 * 1024, pids=8):
            return None
    except (CgroupError, OSError) as error:
        return str(error)
