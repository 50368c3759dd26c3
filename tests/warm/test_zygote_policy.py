"""The zygote's bwrap command line against a job's, as data (no sandbox needed)."""

import dataclasses
from pathlib import Path

from workers.sandbox.policy import SandboxPolicy, bwrap_argv
from workers.sandbox.warm.pool import ZYGOTE_CAPS, ZYGOTE_DIR


def job_policy(work_dir: Path | None) -> SandboxPolicy:
    return SandboxPolicy.for_job(
        work_dir=work_dir, lib_dir=Path("/srv/lib"), script="/work/job.py", env={}, tmp_bytes=1 << 20
    )


def test_a_job_never_gets_capabilities_and_the_zygote_only_inside_its_user_namespace() -> None:
    job = bwrap_argv(job_policy(Path("/srv/job")))
    assert "--cap-add" not in job
    zygote = bwrap_argv(
        dataclasses.replace(
            job_policy(None), env={}, caps=ZYGOTE_CAPS, extra_binds=((Path("/srv/zygote"), ZYGOTE_DIR),)
        )
    )
    added = [zygote[index + 1] for index, arg in enumerate(zygote) if arg == "--cap-add"]
    assert added == ["CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SETPCAP"]
    # Every isolation flag of a job is there too: the capabilities exist only in the new user namespace.
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--clearenv"):
        assert flag in zygote
    assert zygote[zygote.index("--uid") + 1] == "65534"
    # No job's work dir: an empty /work the runs' own mounts go on; the zygote's files read-only.
    assert "--dir" in zygote and zygote[zygote.index("--dir") + 1] == "/work" and "--bind" not in zygote
    assert zygote[zygote.index("/srv/zygote") - 1 :][:3] == ["--ro-bind", "/srv/zygote", ZYGOTE_DIR]
    assert "--setenv" not in zygote  # its environment comes from a file: /proc/PID/environ stays empty
