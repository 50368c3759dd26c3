"""Staging a job: the grader's read-only lib folder (the harness and the probe side of the kit), and a job's
work folder with exactly what the job may see — its code, the probe, the trial's public data — never
check.py or hidden/. A verify step's copy of the first run's files is made here, by descriptor."""

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workers.sandbox.runner import sandbox_account

# The grading kit's modules that enter the sandbox: what the harness, the trials' probes and verify
# steps and students' code import. The check side (check.py and the modules only it and the grader
# use) stays outside, with the expectations it scores against. tests/sandbox/test_kit_allowlist.py keeps
# this list equal to what the probe side imports.
SANDBOX_KIT = (
    "__init__.py",
    "agent.py",
    "boundary.py",
    "data.py",
    "devices.py",
    "digits.py",
    "driver.py",
    "instruments.py",
    "messages.py",
    "observations.py",
    "oddfiles.py",
    "probe.py",
    "report.py",
    "sequences.py",
    "shapes.py",
    "weights.py",
)


LIB_PREFIX = "huashen-lib-p"  # $TMPDIR/huashen-lib-p<grader pid>-*: a grader's /opt/huashen/lib


def reclaim_stale_lib_dirs() -> list[str]:
    """Remove the lib dirs of grader processes that are gone. Returns the names removed."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{LIB_PREFIX}*"):
        owner = path.name.removeprefix(LIB_PREFIX).split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists() and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def stage(
    work: Path,
    bundle: Path,
    files: dict[str, str],
    *,
    probe: Path,
    first: Path | None = None,
    max_first_bytes: int = 0,
    job_seed: int | None = None,
) -> Path:
    """Files the job may see: its code, the probe, the trial's public data. Never check.py or hidden/.

    For a verify step, `first` is the first run's out/ folder: its regular files (no links, no devices,
    within the job's disk cap) are copied to /work/first/, never followed or executed on the host.
    With `job_seed`, a trial that scores per-job held-out inputs (`exercises.kit.heldout`) gets this
    job's inputs in its staged public/ folder; the seed itself is not staged.
    """
    for name, text in files.items():
        (work / name).write_text(text, encoding="utf-8")
    shutil.copy(probe, work / "probe.py")
    if first is not None:
        _copy_first_run(first, work / "first", max_bytes=max_first_bytes)
    if (bundle / "public").is_dir():
        shutil.copytree(bundle / "public", work / "public", ignore=IGNORE)
        if job_seed is not None:
            from exercises.kit.heldout import stage as stage_held_out

            stage_held_out(bundle, work / "public", job_seed)
    out = work / "out"
    out.mkdir()
    account = sandbox_account()
    if os.geteuid() == 0 and account is not None:
        os.chown(out, account.pw_uid, account.pw_gid)
        out.chmod(0o700)
    else:
        out.chmod(0o777)
    for path in work.rglob("*"):
        if path != out and path.parent != out:
            path.chmod(0o755 if path.is_dir() else 0o644)
    return out


@dataclass
class _CopyBudget:
    entries: int = 256  # files and folders together
    bytes: int = 0
    depth: int = 8


def _copy_first_run(source: Path, target: Path, *, max_bytes: int) -> None:
    """Copy the regular files of the first run's out/ to `target`, by descriptor, never following a link.

    The job owned that folder: it may have replaced it or anything in it by a symlink to a host path, a
    FIFO, a device, a hardlink, a sparse giant or a maze of empty folders. Only regular, singly-linked
    files within the entry, depth and byte budgets are copied; anything else, or any error, is skipped.
    """
    target.mkdir()
    try:
        fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        _copy_folder(fd, target, _CopyBudget(bytes=max_bytes), depth=0)
    finally:
        os.close(fd)


def _copy_folder(folder_fd: int, target: Path, budget: _CopyBudget, *, depth: int) -> None:
    import stat

    try:
        names = sorted(os.listdir(folder_fd))
    except OSError:
        return
    for name in names:
        if budget.entries <= 0 or budget.bytes <= 0:
            return
        budget.entries -= 1
        try:
            info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode) and depth < budget.depth:
                child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder_fd)
                try:
                    (target / name).mkdir()
                    _copy_folder(child, target / name, budget, depth=depth + 1)
                finally:
                    os.close(child)
            elif stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and info.st_size <= budget.bytes:
                file_fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
                with os.fdopen(file_fd, "rb") as handle, (target / name).open("wb") as copy:
                    data = handle.read(budget.bytes + 1)
                    if len(data) <= budget.bytes:
                        copy.write(data)
                        budget.bytes -= len(data)
        except (OSError, ValueError):
            continue
