"""The sandbox policy as data: every isolation flag is unconditional, no host secret leaks into argv."""

import os
from pathlib import Path

import pytest

from workers.protocol import Limits
from workers.sandbox.policy import INSIDE_UID, LIB, WORK, SandboxPolicy, bwrap_argv
from workers.sandbox.runner import launch_chain


@pytest.fixture
def policy(tmp_path: Path) -> SandboxPolicy:
    return SandboxPolicy.for_job(
        work_dir=tmp_path / "work", lib_dir=tmp_path / "lib", script="/opt/huashen/lib/harness/run.py",
        env={"HUASHEN_MODE": "submit"}, tmp_bytes=32 * 1024 * 1024,
    )  # fmt: skip


def pairs(argv: list[str], flag: str) -> list[tuple[str, ...]]:
    arity = {"--ro-bind": 2, "--bind": 2, "--setenv": 2, "--tmpfs": 1, "--symlink": 2, "--dev-bind": 2}[flag]
    return [tuple(argv[i + 1 : i + 1 + arity]) for i, value in enumerate(argv) if value == flag]


def test_every_namespace_and_hardening_flag_is_present(policy: SandboxPolicy) -> None:
    argv = bwrap_argv(policy)
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
                 "--clearenv"):  # fmt: skip
        assert flag in argv
    assert argv[argv.index("--uid") + 1] == str(INSIDE_UID)
    assert argv[argv.index("--gid") + 1] == str(INSIDE_UID)
    assert "--share-net" not in argv
    assert argv[argv.index("--") + 1 :] == list(policy.command)
    assert policy.command[1:4] == (
        "-I",
        "-B",
        "-u",
    )  # isolated mode: no PYTHON* variables, no cwd on sys.path


def test_the_system_is_read_only_and_only_the_work_dir_is_writable(policy: SandboxPolicy) -> None:
    argv = bwrap_argv(policy)
    assert ("/usr", "/usr") in pairs(argv, "--ro-bind")
    assert pairs(argv, "--bind") == [(str(policy.work_dir), WORK)]
    assert (str(policy.lib_dir), LIB) in pairs(argv, "--ro-bind")
    remounted = [argv[i + 1] for i, value in enumerate(argv) if value == "--remount-ro"]
    assert remounted == [*map(str, policy.masked), "/dev", "/"]
    assert [p for p in pairs(argv, "--tmpfs")] == [
        *[(str(m),) for m in policy.masked],
        ("/tmp",),
        ("/dev/shm",),
    ]
    sizes = [argv[i + 1] for i, value in enumerate(argv) if value == "--size"]
    assert sizes == [str(policy.tmp_bytes), str(policy.shm_bytes)]


def test_no_host_secrets_and_no_host_home(policy: SandboxPolicy) -> None:
    argv = bwrap_argv(policy)
    bound = {source for source, _target in pairs(argv, "--ro-bind")}
    for forbidden in ("/root", "/home", "/etc", "/var", "/proc", "/sys", "/run"):
        assert forbidden not in bound
    assert not any(src.startswith(("/etc/shadow", "/etc/ssh", "/root", "/var/run")) for src in bound)
    names = {name for name, _value in pairs(argv, "--setenv")}
    assert names <= {"PATH", "HOME", "LANG", "TMPDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME", "PYTHONDONTWRITEBYTECODE",
                     "TORCH_HOME", "HUASHEN_MODE", "HUASHEN_DEVICE"}  # fmt: skip
    os.environ["HUASHEN_HONEYTOKEN_POLICY"] = "should-never-appear"
    try:
        assert "should-never-appear" not in " ".join(bwrap_argv(policy))
    finally:
        del os.environ["HUASHEN_HONEYTOKEN_POLICY"]


def test_bundled_datasets_are_masked(policy: SandboxPolicy) -> None:
    assert any(str(path).endswith("sklearn/datasets/data") for path in policy.masked)


def test_gpu_device_nodes_only_when_assigned(tmp_path: Path) -> None:
    gpu = SandboxPolicy.for_job(
        work_dir=tmp_path, lib_dir=tmp_path, script="/x.py", env={}, tmp_bytes=1,
        devices=("/dev/nvidia0", "/dev/nvidiactl"),
    )  # fmt: skip
    assert pairs(bwrap_argv(gpu), "--dev-bind") == [
        ("/dev/nvidia0", "/dev/nvidia0"),
        ("/dev/nvidiactl", "/dev/nvidiactl"),
    ]
    cpu = SandboxPolicy.for_job(work_dir=tmp_path, lib_dir=tmp_path, script="/x.py", env={}, tmp_bytes=1)
    assert pairs(bwrap_argv(cpu), "--dev-bind") == []


def test_the_launch_chain_drops_privileges_before_bwrap(policy: SandboxPolicy) -> None:
    limits = Limits(cpu_seconds=7, disk_mb=3)
    chain = launch_chain(policy, limits, drop_to="huashen-sandbox")
    assert chain[0] == "prlimit"
    assert "--cpu=7:8" in chain and f"--fsize={3 * 1024 * 1024}" in chain and "--core=0" in chain
    setpriv = chain.index("setpriv")
    assert {"--reuid=huashen-sandbox", "--regid=huashen-sandbox", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all"} <= set(chain[setpriv:chain.index("env")])  # fmt: skip
    assert chain[chain.index("env") + 1] == "-i"  # bwrap starts from an empty environment
    assert chain.index("setpriv") < chain.index("env") < chain.index("bwrap")


def test_a_non_root_chain_has_no_privilege_step(policy: SandboxPolicy) -> None:
    chain = launch_chain(policy, Limits(), drop_to=None)
    assert "setpriv" not in chain and chain[chain.index("env") + 1] == "-i"


def test_the_seccomp_filter_compiles(tmp_path: Path) -> None:
    from workers.sandbox.seccomp import write_filter

    target = tmp_path / "filter.bpf"
    with target.open("wb") as handle:
        write_filter(handle)
    size = target.stat().st_size
    assert size > 0 and size % 8 == 0  # classic BPF instructions are 8 bytes each


def test_dev_is_read_only_once_its_nodes_and_shm_are_in_place(tmp_path: Path) -> None:
    """/dev is remounted read-only after everything that goes in it, for a job and for the warm path's
    zygote alike (its runs share its /dev: a writable one would be a channel between students' jobs)."""
    import dataclasses

    from workers.sandbox.warm.pool import ZYGOTE_CAPS

    gpu = SandboxPolicy.for_job(
        work_dir=tmp_path, lib_dir=tmp_path, script="/x.py", env={}, tmp_bytes=1, devices=("/dev/nvidia0",)
    )
    zygote = dataclasses.replace(gpu, work_dir=None, caps=ZYGOTE_CAPS)
    for argv in (bwrap_argv(gpu), bwrap_argv(zygote)):
        read_only = argv.index("/dev", argv.index("--dev") + 2) - 1
        assert argv[read_only : read_only + 2] == ["--remount-ro", "/dev"]
        assert argv.index("--dev") < argv.index("/dev/shm") < read_only
        assert argv.index("--dev-bind") < read_only
        # Nothing is mounted in it later.
        assert not any(arg.startswith("/dev/") for arg in argv[read_only + 2 :])
