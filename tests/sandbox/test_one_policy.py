"""One policy object, two paths: the cold path's bwrap and prlimit arguments and the warm path's zygote
and run spec are rendered from the same `SandboxPolicy` and `Limits`, so they name the same mounts, tmpfs
sizes, rlimits, environment and working directory, and a change to the object shows in both."""

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workers.protocol import Limits
from workers.sandbox import cgroups, runner
from workers.sandbox.policy import (
    RUN_NAMESPACES,
    WORK,
    ZYGOTE_CAPS,
    ZYGOTE_DIR,
    CgroupLimits,
    Rlimits,
    SandboxPolicy,
    bwrap_argv,
    gpu_device_nodes,
    thread_env,
    warm_run_spec,
    zygote_policy,
)
from workers.sandbox.runner import SandboxOutcome, launch_chain, run_confined
from workers.sandbox.warm import zygote
from workers.sandbox.warm.pool import ZYGOTE_CONFIG, PoolSetup, WarmPool, WarmUnavailable, Zygote

REPO = Path(__file__).resolve().parents[2]
LIMITS = Limits(wall_seconds=9, cpu_seconds=7, memory_mb=900, pids=33, output_kb=64, disk_mb=3)
DEVICES = ("/dev/nvidia0", "/dev/nvidiactl")


def job_policy(tmp_path: Path, **changes: object) -> SandboxPolicy:
    policy = SandboxPolicy.for_job(
        work_dir=tmp_path / "work", lib_dir=tmp_path / "lib", script="/opt/huashen/lib/harness/run.py",
        env={"HUASHEN_MODE": "submit", **thread_env(2)}, tmp_bytes=32 << 20, devices=DEVICES,
        torch_home=tmp_path / "torch",
    )  # fmt: skip
    return dataclasses.replace(policy, **changes)


def flag_values(argv: list[str], flag: str, arity: int) -> list[tuple[str, ...]]:
    return [tuple(argv[i + 1 : i + 1 + arity]) for i, value in enumerate(argv) if value == flag]


def cold_view(policy: SandboxPolicy, limits: Limits) -> dict[str, object]:
    """What the cold launch chain's arguments say, in the warm run spec's terms."""
    chain = launch_chain(policy, limits, drop_to=None)
    rlimits = {}
    for arg in chain[1 : chain.index("--")]:
        name, _, value = arg.removeprefix("--").partition("=")
        soft, _, hard = value.partition(":")
        rlimits[name] = [int(soft), int(hard or soft)]
    argv = chain[chain.index("bwrap") :]
    sizes = [argv[i + 1] for i, value in enumerate(argv) if value == "--size"]
    scratch = [argv[i + 3] for i, value in enumerate(argv) if value == "--size"]
    return {
        "env": dict(flag_values(argv, "--setenv", 2)),
        "script": argv[-1],
        "cwd": argv[argv.index("--chdir") + 1],
        "tmpfs": [[target, int(size)] for target, size in zip(scratch, sizes, strict=True)],
        "rlimits": rlimits,
        "threads": int(dict(flag_values(argv, "--setenv", 2)).get("OMP_NUM_THREADS", "1")),
    }


def test_the_cold_arguments_and_the_warm_spec_say_the_same(tmp_path: Path) -> None:
    policy = job_policy(tmp_path)
    spec = warm_run_spec(policy, LIMITS)
    assert spec == cold_view(policy, LIMITS)
    assert spec["tmpfs"] == [["/tmp", 32 << 20], ["/dev/shm", 32 << 20]]
    assert spec["rlimits"] == {"cpu": [7, 8], "fsize": [3 << 20] * 2, "nofile": [512, 512], "core": [0, 0]}
    assert spec["cwd"] == WORK and spec["threads"] == 2
    assert json.loads(json.dumps(spec)) == spec  # data the zygote reads as JSON, nothing else


@pytest.mark.parametrize(
    ("changes", "limits"),
    [
        ({"tmp_bytes": 5 << 20, "shm_bytes": 1 << 20}, LIMITS),
        ({"env": {"HUASHEN_MODE": "run", "OMP_NUM_THREADS": "3"}}, LIMITS),
        ({"cwd": "/work/out"}, LIMITS),
        ({}, dataclasses.replace(LIMITS, cpu_seconds=40, disk_mb=11)),
    ],
    ids=["tmpfs", "env", "cwd", "rlimits"],
)
def test_a_change_to_the_policy_shows_on_both_paths(
    tmp_path: Path, changes: dict[str, object], limits: Limits
) -> None:
    before = warm_run_spec(job_policy(tmp_path), LIMITS)
    changed = job_policy(tmp_path, **changes)
    spec = warm_run_spec(changed, limits)
    assert spec != before
    assert spec == cold_view(changed, limits)


def test_the_zygote_has_the_jobs_mounts_and_only_its_own_files_more(tmp_path: Path) -> None:
    job = job_policy(tmp_path)
    files = tmp_path / "zygote-files"
    sandbox, config = zygote_policy(
        lib_dir=job.lib_dir, torch_home=job.torch_home, devices=job.devices, threads=2, files=files
    )
    job_argv, zygote_argv = bwrap_argv(job), bwrap_argv(sandbox)
    assert flag_values(zygote_argv, "--ro-bind", 2) == [
        *flag_values(job_argv, "--ro-bind", 2),
        (str(files), ZYGOTE_DIR),
    ]
    for flag, arity in (("--dev-bind", 2), ("--symlink", 2), ("--remount-ro", 1), ("--hostname", 1)):
        assert flag_values(zygote_argv, flag, arity) == flag_values(job_argv, flag, arity), flag
    assert job.inherited() == sandbox.inherited()
    assert flag_values(zygote_argv, "--cap-add", 1) == [(cap,) for cap in ZYGOTE_CAPS]
    # What the zygote reads from its file: the job's clean environment (without the job's own settings)
    # and the namespaces each run makes.
    assert config["env"] == {k: v for k, v in job.env.items() if k != "HUASHEN_MODE"}
    assert config["namespaces"] == list(RUN_NAMESPACES)
    assert config["hostname"] == job_argv[job_argv.index("--hostname") + 1]
    assert f"{ZYGOTE_DIR}/{ZYGOTE_CONFIG}" == zygote.CONFIG  # where the pool writes it, the zygote reads it
    # A job whose mounts differ is not the zygote's to run.
    assert job_policy(tmp_path, devices=()).inherited() != sandbox.inherited()
    assert job_policy(tmp_path, lib_dir=tmp_path / "other").inherited() != sandbox.inherited()


def test_the_pool_refuses_a_job_whose_mounts_are_not_its_zygotes(tmp_path: Path) -> None:
    job = job_policy(tmp_path)
    setup = PoolSetup(lib_dir=job.lib_dir, torch_home=job.torch_home, devices=job.devices, threads=2)
    unstarted = Zygote(setup)
    try:
        assert unstarted.policy.inherited() == job.inherited()
        pool = WarmPool(setup)
        with pytest.raises(WarmUnavailable, match="mounts differ"):
            pool.run(
                job_policy(tmp_path, devices=()), LIMITS, job_name="x", on_output=lambda stream, text: None,
                on_event=lambda event: None, zygote=unstarted,
            )  # fmt: skip
    finally:
        shutil.rmtree(unstarted.dir, ignore_errors=True)


APPLY = """
import json, resource, sys
from workers.sandbox.warm import zygote
zygote._set_limits(json.loads(sys.argv[1]))
print(json.dumps({name: list(resource.getrlimit(number)) for name, number in zygote.RLIMITS.items()}))
"""


def test_the_zygote_applies_the_rlimits_and_namespaces_the_policy_names(tmp_path: Path) -> None:
    rlimits = warm_run_spec(job_policy(tmp_path), LIMITS)["rlimits"]
    assert set(zygote.RLIMITS) == {field.name for field in dataclasses.fields(Rlimits)}
    # In a child process (limits are for good): what it has after applying them is what the policy said.
    applied = subprocess.run(
        [sys.executable, "-c", APPLY, json.dumps(rlimits)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(applied.stdout) == rlimits
    # Fail closed: a limit the zygote does not know, or one missing, is an error, never skipped.
    with pytest.raises(ValueError, match="rlimits"):
        zygote._set_limits({**rlimits, "nproc": [1, 1]})
    with pytest.raises(ValueError, match="rlimits"):
        zygote._set_limits({name: value for name, value in rlimits.items() if name != "cpu"})
    linux = zygote.linux
    assert zygote._namespace_flags(list(RUN_NAMESPACES)) == (
        linux.CLONE_NEWNS | linux.CLONE_NEWPID | linux.CLONE_NEWNET | linux.CLONE_NEWIPC | linux.CLONE_NEWUTS
    )
    with pytest.raises(ValueError, match="user"):
        zygote._namespace_flags(["user"])


def test_both_paths_confine_with_the_policys_cgroup_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[int, int]] = []

    class Refused(cgroups.JobCgroup):
        def __enter__(self) -> "cgroups.JobCgroup":
            made.append((self.memory_bytes, self.pids))
            raise cgroups.CgroupError("not in this test")

    monkeypatch.setattr(runner.cgroups, "JobCgroup", Refused)

    def launch(cgroup: cgroups.JobCgroup | None) -> SandboxOutcome:
        return SandboxOutcome(exit_code=0, wall_seconds=0.0, cpu_seconds=0.0, peak_memory_mb=0.0)

    for preloaded in (0, 280 << 20):  # a cold run, a warm one charged for its zygote's torch
        run_confined(LIMITS, job_name="x", require_cgroups=False, launch=launch, preloaded_bytes=preloaded)
    cold, warm = (CgroupLimits.for_limits(LIMITS, preloaded_bytes=p) for p in (0, 280 << 20))
    assert made == [(cold.memory_bytes, cold.pids), (warm.memory_bytes, warm.pids)]
    assert cold.memory_bytes - warm.memory_bytes == 280 << 20 and cold.pids == warm.pids == 33


def test_gpu_nodes_are_the_reserved_gpus_and_the_shared_control_nodes(tmp_path: Path) -> None:
    for name in ("nvidia0", "nvidia1", "nvidia3", "nvidiactl", "nvidia-uvm"):
        (tmp_path / name).touch()
    assert gpu_device_nodes("1", dev=tmp_path) == tuple(
        str(tmp_path / name) for name in ("nvidia1", "nvidiactl", "nvidia-uvm")
    )
    assert gpu_device_nodes("0, 1", dev=tmp_path)[:2] == (
        str(tmp_path / "nvidia0"),
        str(tmp_path / "nvidia1"),
    )
    # A container numbers its one GPU 0 while its node keeps the host's name: the nodes it holds.
    (tmp_path / "nvidia0").unlink()
    (tmp_path / "nvidia1").unlink()
    assert gpu_device_nodes("0", dev=tmp_path)[0] == str(tmp_path / "nvidia3")
    assert gpu_device_nodes("", dev=tmp_path / "none") == ()
