"""Grading one request: stage the job, run the probe in the sandbox, run the check outside, decide.

    grade(request, grader) -> GradeResult

The verdict never comes from exit status or from anything the job printed: limits and violations come
from what the runner observed (cgroups, signals, the clock), and pass/fail from the trusted check over
the observations the probe left behind.
"""

import contextlib
import functools
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from workers import env
from workers.checker import JOB_SEED_OPTION
from workers.events import EventSink
from workers.protocol import (
    CheckResult,
    EventKind,
    GradeRequest,
    GradeResult,
    Limits,
    Mode,
    Verdict,
    bundle_content_hash,
    bundle_files,
    clean_json,
    clean_text,
)
from workers.sandbox.policy import SandboxPolicy
from workers.sandbox.pool import PoolSetup, WarmPool, WarmUnavailable, warm_possible, warm_requested
from workers.sandbox.runner import SandboxOutcome, job_dir, job_name, run_sandboxed, sandbox_account
from workers.trusted_out import ResultManifest, copy_verified, is_boundary_trial

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
CHECK_TIMEOUT_SECONDS = 120

MESSAGES: dict[Verdict, dict[str, str]] = {
    Verdict.PASSED: {"zh": "全部检查通过。", "en": "Every check passed."},
    Verdict.FAILED: {
        "zh": "有检查未通过：看下面每一项的说明。",
        "en": "Some checks failed: see each one below.",
    },
    Verdict.ERROR: {
        "zh": "你的代码在运行时抛出了异常，见下面的回溯。",
        "en": "Your code raised an exception while running; see the traceback below.",
    },
    Verdict.TIME_LIMIT: {
        "zh": "运行超时：程序没有在时间限制内结束（可能是死循环、等待输入，或训练太久）。",
        "en": "Time limit: the program did not finish in time (an endless loop, waiting for input, or training too long).",
    },
    Verdict.MEMORY_LIMIT: {
        "zh": "内存超限：程序使用的内存超过了限制，试试更小的批大小或模型。",
        "en": "Memory limit: the program used more memory than allowed; try a smaller batch or model.",
    },
    Verdict.OUTPUT_LIMIT: {
        "zh": "输出超限：程序打印了太多内容，已被终止。",
        "en": "Output limit: the program printed too much and was stopped.",
    },
    Verdict.GPU_OUT_OF_MEMORY: {
        "zh": "显存不足：减小批大小或模型，或在不需要梯度时使用 torch.no_grad()。",
        "en": "GPU out of memory: reduce the batch or model size, or use torch.no_grad() where no gradients are needed.",
    },
    Verdict.SANDBOX_VIOLATION: {
        "zh": "违反沙箱规则：程序尝试了不允许的系统操作，已被终止。",
        "en": "Sandbox violation: the program attempted a forbidden system operation and was stopped.",
    },
    Verdict.INTERNAL_ERROR: {
        "zh": "平台内部出错了，这不是你的问题；我们已记录，请稍后重试。",
        "en": "Something went wrong on our side, not in your code; it has been logged. Please try again shortly.",
    },
}


def crash_message(signal_name: str) -> dict[str, str]:
    """The `error` verdict's explanation when the job died of a fault of its own (no Python traceback)."""
    return {
        "zh": f"你的程序崩溃了（{signal_name}）：进程被这个信号终止，所以没有 Python 回溯。"
        "这通常来自原生代码，例如通过 ctypes 或 numpy 越界访问内存、调用 abort()，或整数除以零。",
        "en": f"Your program crashed ({signal_name}): the process was killed by this signal, so there is no "
        "Python traceback. This usually comes from native code, such as reading memory out of bounds "
        "through ctypes or numpy, a call to abort(), or an integer division by zero.",
    }


def time_limit_message(limits: Limits, *, cpu: bool) -> dict[str, str]:
    """The `time_limit` verdict's explanation, naming the limit that was reached (wall clock or CPU)."""
    if cpu:
        return {
            "zh": f"运行超时：CPU 时间超过 {limits.cpu_seconds} 秒上限，程序被终止"
            "（可能是死循环，或训练太久：减少轮数或数据量）。",
            "en": f"Time limit: the program used more than the {limits.cpu_seconds} s of CPU time allowed and "
            "was stopped (an endless loop, or training too long: use fewer epochs or less data).",
        }
    return {
        "zh": f"运行超时：超过 {limits.wall_seconds} 秒上限，程序被终止"
        "（可能是死循环、等待输入，或训练太久）。",
        "en": f"Time limit: the program ran past the {limits.wall_seconds} s limit and was stopped "
        "(an endless loop, waiting for input, or training too long).",
    }


def pids_message(limit: int) -> dict[str, str]:
    """The `error` verdict's explanation when the job hit the trial's process/thread limit."""
    return {
        "zh": f"进程/线程过多（上限 {limit}）：程序试图启动超过允许数量的进程或线程。"
        "减少 DataLoader 的 num_workers 或你自己启动的线程、进程。",
        "en": f"Too many processes/threads (limit {limit}): the program tried to start more processes or "
        "threads than allowed. Use fewer DataLoader workers, or fewer threads or processes of your own.",
    }


class TrialNotFound(LookupError):
    pass


@dataclass
class Grader:
    """A grader's fixed setup: where trials live, the device it offers, whether cgroups are required."""

    exercises_dir: Path = REPO / "exercises"
    device: str = "cpu"
    require_cgroups: bool = True
    # The pretrained-weights cache bound read-only into the sandbox (realm 4): $TORCH_HOME when set.
    torch_home: Path | None = field(default_factory=env.torch_home)
    gpu_devices: tuple[str, ...] = ()
    threads: int = field(default_factory=env.sandbox_threads)
    # The warm sandbox pool (workers/sandbox/pool.py): HUASHEN_WARM_POOL=0 turns it off. Only a grader
    # that confines jobs with cgroups (root, require_cgroups) runs warm, and only once the pool passed
    # its own self-test; until then, and whenever the pool cannot take a job, jobs run cold.
    warm: bool = field(default_factory=warm_requested)
    _lib_dir: Path | None = field(default=None, init=False)
    _lib_cleanup: "weakref.finalize | None" = field(default=None, init=False, repr=False)
    _bundles: dict[str, Path] = field(default_factory=dict, init=False)
    _pool: WarmPool | None = field(default=None, init=False)
    _checker: "WarmChecker | None" = field(default=None, init=False)

    def bundle(self, slug: str) -> Path:
        if slug not in self._bundles:
            for toml in self.exercises_dir.glob("*/*/exercise.toml"):
                self._bundles.setdefault(_slug_of(toml), toml.parent)
        try:
            return self._bundles[slug]
        except KeyError:
            raise TrialNotFound(slug) from None

    def lib_dir(self) -> Path:
        """What the sandbox sees at /opt/huashen/lib: the harness, the probe side of the grading kit
        (`SANDBOX_KIT`), a minimal passwd. In $TMPDIR, named after this process (`LIB_PREFIX`): removed
        by `close()`, or at a later grader's start once this process is gone."""
        if self._lib_dir is None:
            reclaim_stale_lib_dirs()
            lib = Path(tempfile.mkdtemp(prefix=f"{LIB_PREFIX}{os.getpid()}-"))
            self._lib_cleanup = weakref.finalize(self, shutil.rmtree, lib, ignore_errors=True)
            shutil.copytree(REPO / "workers" / "harness", lib / "harness", ignore=_IGNORE)
            (lib / "exercises" / "kit").mkdir(parents=True)
            shutil.copy(REPO / "exercises" / "__init__.py", lib / "exercises" / "__init__.py")
            for name in SANDBOX_KIT:
                shutil.copy(REPO / "exercises" / "kit" / name, lib / "exercises" / "kit" / name)
            (lib / "etc").mkdir()
            (lib / "etc" / "passwd").write_text("sandbox:x:65534:65534:sandbox:/work:/usr/sbin/nologin\n")
            (lib / "etc" / "group").write_text("sandbox:x:65534:\n")
            for path in [lib, *lib.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            self._lib_dir = lib
        return self._lib_dir

    def warm_pool(self, *, wait: bool = False) -> WarmPool | None:
        """This grader's warm pool, started (in the background unless `wait`) at the first call; None
        when the warm path is off or impossible here."""
        if not (self.warm and self.require_cgroups):
            return None
        if self._pool is None:
            from workers.sandbox.selftest import warm_self_test

            reason = warm_possible()
            if reason is not None:
                logger.warning("the warm sandbox is off for this grader: %s", reason)
                self.warm = False
                return None
            setup = PoolSetup(
                lib_dir=self.lib_dir(),
                torch_home=self.torch_home,
                devices=self.gpu_devices if self.device == "gpu" else (),
                threads=self.threads,
            )
            self._pool = WarmPool(setup, self_test=warm_self_test)
            self._pool.start(wait=wait)
        elif wait and self._pool.ready() is None:
            self._pool.start(wait=True)
        return self._pool

    def warm_checker(self) -> "WarmChecker | None":
        """The long-lived checker, with the warm pool's setting (and only where the pool may run)."""
        if not (self.warm and self.require_cgroups):
            return None
        if self._checker is None:
            self._checker = WarmChecker(self.torch_home)
        return self._checker

    def close(self) -> None:
        """Stop the warm pool and checker and remove the lib dir. A grader process that exits without
        it removes the lib dir at exit; one killed outright leaves it to `reclaim_stale_lib_dirs`."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._checker is not None:
            self._checker.close()
            self._checker = None
        if self._lib_cleanup is not None:
            self._lib_cleanup()
            self._lib_cleanup = None
        self._lib_dir = None


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


_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def _slug_of(toml: Path) -> str:
    import tomllib

    try:
        return str(tomllib.loads(toml.read_text(encoding="utf-8")).get("slug", ""))
    except (OSError, ValueError):
        return ""


def _realm_of(bundle: Path) -> str:
    import tomllib

    return str(tomllib.loads((bundle / "exercise.toml").read_text(encoding="utf-8")).get("realm", ""))


def grade(request: GradeRequest, grader: Grader, sink: EventSink) -> GradeResult:
    """Grade one request. Never raises: anything unexpected is an internal error, logged for operators."""
    started = time.monotonic()
    try:
        result = _grade(request, grader, sink)
    except Exception:
        logger.exception("internal error grading submission %s", request.submission_id)
        result = _result(request, Verdict.INTERNAL_ERROR, grader)
    return _with_duration(result, time.monotonic() - started)


def _grade(request: GradeRequest, grader: Grader, sink: EventSink) -> GradeResult:
    try:
        bundle = grader.bundle(request.trial)
    except TrialNotFound:
        logger.error("submission %s: this grader has no trial %r", request.submission_id, request.trial)
        return _result(request, Verdict.INTERNAL_ERROR, grader)
    content_hash = bundle_content_hash(bundle_files(bundle), _realm_of(bundle))
    if content_hash != request.content_hash:
        logger.error(
            "submission %s: trial %s content differs (grader %s, platform %s)",
            request.submission_id, request.trial, content_hash[:12], request.content_hash[:12],
        )  # fmt: skip
        return _result(request, Verdict.INTERNAL_ERROR, grader)
    sink.emit(EventKind.STATUS, {"status": "running", "device": grader.device})
    if request.mode == Mode.TRY:
        return _try(request, grader, sink, bundle)  # the Try cell: no probe, no check
    # The job's secret seed: held-out inputs are drawn from it while staging and their labels from it in
    # the check, so it stays in this process and the checker's arguments and never enters the sandbox.
    job_seed = secrets.randbits(128)
    with job_dir(job_name(f"s{request.submission_id}"), size_mb=request.limits.disk_mb) as work:
        out = _stage(
            work, bundle, {"solution.py": request.code}, probe=bundle / "probe.py", job_seed=job_seed
        )
        # A boundary trial: the check reads only the files the driver vouched for (workers/trusted_out.py).
        manifest = ResultManifest() if is_boundary_trial(bundle) else None
        outcome, resources = _run_job(request, grader, sink, work, manifest=manifest)
        ended = _limit_verdict(outcome, request)
        if ended is not None:
            return _result(request, ended[0], grader, resources=resources, message=ended[1])
        if manifest is not None:
            checked = _run_trusted_check(request, grader, sink, bundle, out, manifest, job_seed, resources)
            if isinstance(checked, GradeResult):
                return checked
            report = checked
        elif (bundle / "verify.py").is_file():
            verified = _run_verify(request, grader, sink, bundle, out, job_seed, resources)
            if isinstance(verified, GradeResult):
                return verified
            report = verified
        else:
            report = _run_check(
                bundle, out, request.mode, torch_home=grader.torch_home, checker=grader.warm_checker(),
                job_seed=job_seed,
            )  # fmt: skip
    if report is None:
        return _result(request, Verdict.INTERNAL_ERROR, grader, resources=resources)
    if report.get("internal_errors"):
        logger.error("the check of %s reported: %s", request.trial, report["internal_errors"])
    if report.get("probe_error"):
        # The trial's own probe failed (not the student's code, which the kit reports separately).
        logger.error("the probe of %s failed on submission %s: %s", request.trial, request.submission_id,
                     str(report["probe_error"])[-2000:])  # fmt: skip
        return _result(request, Verdict.INTERNAL_ERROR, grader, resources=resources)
    checks = [CheckResult(**check) for check in report.get("checks", [])]
    if report.get("gpu_oom"):
        return _result(request, Verdict.GPU_OUT_OF_MEMORY, grader, checks=checks, resources=resources)
    if report.get("solution_error"):
        return _result(
            request, Verdict.ERROR, grader, checks=checks, resources=resources,
            traceback=clean_text(str(report["solution_error"]))[:20_000],
        )  # fmt: skip
    passed = bool(checks) and all(check.passed for check in checks)
    return _result(
        request, Verdict.PASSED if passed else Verdict.FAILED, grader, checks=checks, resources=resources,
        artifacts=list(report.get("artifacts", [])),
    )  # fmt: skip


def _try(request: GradeRequest, grader: Grader, sink: EventSink, bundle: Path) -> GradeResult:
    """The Try cell's snippet beside the student's code (`workers/scratch.py`): the same sandbox, limits
    and pool as a Run; the verdict says only how it ended, and nothing is scored."""
    from workers import scratch

    with job_dir(job_name(f"s{request.submission_id}-try"), size_mb=request.limits.disk_mb) as work:
        out = scratch.stage(work, bundle, code=request.code, snippet=request.snippet)
        outcome, resources = _run_job(request, grader, sink, work)
        ended = _limit_verdict(outcome, request)
        if ended is not None:
            return _result(request, ended[0], grader, resources=resources, message=ended[1])
        figures = scratch.figures(out)
    verdict, message = scratch.ending(outcome.exit_code)
    result = _result(request, verdict, grader, resources=resources, artifacts=figures, message=message)
    return replace(result, score=0.0)  # nothing was graded


def _run_trusted_check(
    request: GradeRequest,
    grader: Grader,
    sink: EventSink,
    bundle: Path,
    out: Path,
    manifest: ResultManifest,
    job_seed: int,
    resources: dict[str, Any],
) -> dict[str, Any] | GradeResult | None:
    """The check of a boundary trial, over a folder of the grader's holding only the out/ files whose
    sha256 the driver's manifest names; a verify step receives that folder, and nothing else of out/."""
    checked = Path(tempfile.mkdtemp(prefix="huashen-checked-"))
    try:
        problems = copy_verified(out, manifest, checked)
        if problems:
            logger.warning("submission %s: out/ files not checked: %s", request.submission_id, problems)
        if (bundle / "verify.py").is_file():
            return _run_verify(request, grader, sink, bundle, checked, job_seed, resources)
        return _run_check(
            bundle, checked, request.mode, torch_home=grader.torch_home, checker=grader.warm_checker(),
            job_seed=job_seed,
        )  # fmt: skip
    finally:
        shutil.rmtree(checked, ignore_errors=True)


def _run_verify(
    request: GradeRequest,
    grader: Grader,
    sink: EventSink,
    bundle: Path,
    first: Path,
    job_seed: int,
    resources: dict[str, Any],
) -> dict[str, Any] | GradeResult | None:
    """The verify step: a second, fresh sandbox with the trial's verify.py and the first run's out/
    files `first` (an exported model, say) but none of the student's code; then the check over both.
    A verify.py that defines `driver(ctx)` runs behind the boundary too, and the check reads only the
    files its manifest names. A GradeResult when the step ended on a limit, a violation or a crash."""
    with job_dir(job_name(f"s{request.submission_id}-verify"), size_mb=request.limits.disk_mb) as second:
        verify_out = _stage(
            second, bundle, {}, probe=bundle / "verify.py", first=first,
            max_first_bytes=request.limits.disk_mb * 1024 * 1024 // 2,
        )  # fmt: skip
        manifest = ResultManifest() if is_boundary_trial(bundle, "verify.py") else None
        outcome, _ = _run_job(request, grader, sink, second, manifest=manifest)
        ended = _limit_verdict(outcome, request)
        if ended is not None:
            return _result(request, ended[0], grader, resources=resources, message=ended[1])
        if manifest is None:
            return _run_check(
                bundle, first, request.mode, verify_out, torch_home=grader.torch_home,
                checker=grader.warm_checker(), job_seed=job_seed,
            )  # fmt: skip
        vouched = Path(tempfile.mkdtemp(prefix="huashen-verified-"))
        try:
            problems = copy_verified(verify_out, manifest, vouched)
            if problems:
                logger.warning(
                    "submission %s: verify out/ files not checked: %s", request.submission_id, problems
                )
            return _run_check(
                bundle, first, request.mode, vouched, torch_home=grader.torch_home,
                checker=grader.warm_checker(), job_seed=job_seed,
            )  # fmt: skip
        finally:
            shutil.rmtree(vouched, ignore_errors=True)


def _run_job(
    request: GradeRequest,
    grader: Grader,
    sink: EventSink,
    work: Path,
    *,
    manifest: ResultManifest | None = None,
) -> tuple[SandboxOutcome, dict[str, Any]]:
    """Run the harness in the sandbox over a staged work dir, streaming output and metrics to `sink`.
    With `manifest` (a boundary trial), the driver's result manifest is collected from the events."""
    policy = SandboxPolicy.for_job(
        work_dir=work,
        lib_dir=grader.lib_dir(),
        script="/opt/huashen/lib/harness/run.py",
        env={
            "HUASHEN_MODE": request.mode.value,
            "HUASHEN_DEVICE": grader.device,
            # One slot is one job: more math threads than its share of cores only fight each other.
            "OMP_NUM_THREADS": str(grader.threads),
            "MKL_NUM_THREADS": str(grader.threads),
        },
        tmp_bytes=request.limits.disk_mb * 1024 * 1024,
        devices=grader.gpu_devices if grader.device == "gpu" else (),
        torch_home=grader.torch_home,
    )
    reported: dict[str, Any] = {}

    def on_output(stream: str, text: str) -> None:
        sink.emit(EventKind.STDOUT if stream == "stdout" else EventKind.STDERR, clean_text(text))

    def on_event(event: dict[str, Any]) -> None:
        if manifest is not None and manifest.offer(event):
            return
        if event.get("kind") == "started":
            reported["harness_started"] = True
        elif isinstance(event.get("metrics"), dict):
            sink.emit(EventKind.METRIC, clean_json({"step": event.get("step"), "metrics": event["metrics"]}))
        elif isinstance(event.get("resources"), dict):
            reported.update(event["resources"])

    outcome = None
    pool = grader.warm_pool()
    if pool is not None:
        try:
            outcome = pool.run(
                policy, request.limits, job_name=work.name, on_output=on_output, on_event=on_event
            )
            logger.info("submission %s: warm sandbox run", request.submission_id)
        except WarmUnavailable as why:
            # Nothing of the job ran: the cold path takes it (the pool replaces its zygote meanwhile).
            logger.info("submission %s: cold sandbox run (%s)", request.submission_id, why)
    if outcome is None:
        outcome = run_sandboxed(
            policy, request.limits, job_name=work.name, on_output=on_output, on_event=on_event,
            require_cgroups=grader.require_cgroups,
        )  # fmt: skip
    if not reported.get("harness_started") and not outcome.launch_error and _plain_exit(outcome):
        # bwrap or the interpreter never got as far as the harness: ours, not the student's.
        outcome.launch_error = f"the harness never started (exit {outcome.exit_code})"
    return outcome, _resources(outcome, reported)


def _plain_exit(outcome: SandboxOutcome) -> bool:
    return not (
        outcome.timed_out or outcome.cpu_exceeded or outcome.memory_exceeded or outcome.output_exceeded
        or outcome.violation
    )  # fmt: skip


def _stage(
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
        shutil.copytree(bundle / "public", work / "public", ignore=_IGNORE)
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


def _limit_verdict(outcome: SandboxOutcome, request: GradeRequest) -> tuple[Verdict, dict[str, str]] | None:
    """The verdict and its explanation when the run ended on a limit, a violation or a crash (what the
    runner saw, never what the job said); None when the check decides."""
    if outcome.launch_error or not outcome.tree_dead:
        logger.error(
            "submission %s: sandbox failure (%s, tree dead: %s)",
            request.submission_id, outcome.launch_error or "no error text", outcome.tree_dead,
        )  # fmt: skip
        return Verdict.INTERNAL_ERROR, MESSAGES[Verdict.INTERNAL_ERROR]
    if outcome.violation:
        return Verdict.SANDBOX_VIOLATION, MESSAGES[Verdict.SANDBOX_VIOLATION]
    if outcome.pids_exceeded:
        # Before memory and the clock: a bomb's processes also take memory, and one that keeps retrying
        # runs out of time, but this is why.
        return Verdict.ERROR, pids_message(request.limits.pids)
    if outcome.memory_exceeded:
        return Verdict.MEMORY_LIMIT, MESSAGES[Verdict.MEMORY_LIMIT]
    if outcome.timed_out or outcome.cpu_exceeded:
        return Verdict.TIME_LIMIT, time_limit_message(
            request.limits, cpu=outcome.cpu_exceeded and not outcome.timed_out
        )
    if outcome.output_exceeded:
        return Verdict.OUTPUT_LIMIT, MESSAGES[Verdict.OUTPUT_LIMIT]
    if outcome.crash_signal:
        # The probe shares the job's process: it died too, and its missing observations mean nothing.
        return Verdict.ERROR, crash_message(outcome.crash_signal)
    return None


def _checker_env(torch_home: Path | None) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "HOME": str(Path(tempfile.gettempdir())),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        **({"TORCH_HOME": str(torch_home)} if torch_home else {}),
    }


class WarmChecker:
    """A long-lived trusted checker process (`workers.checker.serve`): torch imported once, a fresh fork
    per check. Same environment and user as the cold checker. On a timeout or any protocol trouble it
    is killed and the next check starts a new one; a check it cannot answer returns None and the
    grader runs that check cold."""

    def __init__(self, torch_home: Path | None) -> None:
        self.torch_home = torch_home
        self.process: subprocess.Popen[str] | None = None
        self.lock = threading.Lock()

    def _start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); "
             "from workers.checker import serve; sys.exit(serve())", str(REPO)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_checker_env(self.torch_home),
            start_new_session=True,
        )  # fmt: skip
        if _read_line(process, timeout=CHECK_TIMEOUT_SECONDS) != {"ready": True}:
            _kill(process)
            raise OSError("the warm checker did not start")
        return process

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str] | None:
        with self.lock:
            try:
                if self.process is None or self.process.poll() is not None:
                    self.process = self._start()
                assert self.process.stdin is not None
                self.process.stdin.write(json.dumps(argv) + "\n")
                self.process.stdin.flush()
                reply = _read_line(self.process, timeout=CHECK_TIMEOUT_SECONDS)
            except (OSError, ValueError) as error:
                logger.warning("the warm checker failed (%s); this check runs cold", error)
                reply = None
            if not isinstance(reply, dict) or not isinstance(reply.get("code"), int):
                if self.process is not None:
                    _kill(self.process)
                    self.process = None
                return None
            return subprocess.CompletedProcess(argv, reply["code"], str(reply.get("report", "")), "")

    def close(self) -> None:
        if self.process is not None:
            _kill(self.process)
            self.process = None


def _read_line(process: subprocess.Popen[str], *, timeout: float) -> Any:
    import select

    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise OSError(f"no answer in {timeout} s")
    line = process.stdout.readline()
    if not line:
        raise OSError("the warm checker exited")
    return json.loads(line)


def _kill(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _run_check(
    bundle: Path,
    out: Path,
    mode: Mode,
    verify_out: Path | None = None,
    *,
    torch_home: Path | None = None,
    checker: WarmChecker | None = None,
    job_seed: int | None = None,
) -> dict[str, Any] | None:
    argv = [str(bundle), str(out), mode.value, *([str(verify_out)] if verify_out else [])]
    if job_seed is not None:
        argv.append(f"{JOB_SEED_OPTION}{job_seed}")
    completed = checker.run(argv) if checker is not None else None
    if completed is None:
        try:
            completed = subprocess.run(
                [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); "
                 "from workers.checker import main; sys.exit(main(sys.argv[1:]))", str(REPO), *argv],
                capture_output=True, text=True, timeout=CHECK_TIMEOUT_SECONDS, env=_checker_env(torch_home),
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            logger.error("the check of %s timed out", bundle.name)
            return None
    if completed.returncode != 0:
        logger.error("the check of %s failed: %s", bundle.name, completed.stderr[-4000:])
        return None
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        logger.error("the check of %s printed no report: %s", bundle.name, completed.stdout[-2000:])
        return None
    return report if isinstance(report, dict) else None


def _resources(outcome: SandboxOutcome, reported: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "wall_seconds": round(outcome.wall_seconds, 3),
        "cpu_seconds": round(outcome.cpu_seconds, 3),
        "peak_memory_mb": round(outcome.peak_memory_mb, 1),
        "confined": outcome.confined,
    }
    gpu = reported.get("peak_gpu_memory_mb")
    if isinstance(gpu, int | float) and gpu >= 0:
        resources["peak_gpu_memory_mb"] = round(float(gpu), 1)  # reported from inside: display only
    return resources


@functools.cache
def _versions() -> dict[str, str]:
    """The versions a result reports; installed packages do not change under a running grader."""
    versions = {"python": sys.version.split()[0]}
    for package in ("torch", "torchvision"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _result(
    request: GradeRequest,
    verdict: Verdict,
    grader: Grader,
    *,
    checks: list[CheckResult] | None = None,
    resources: dict[str, Any] | None = None,
    traceback: str = "",
    artifacts: list[dict[str, str]] | None = None,
    message: dict[str, str] | None = None,
) -> GradeResult:
    checks = checks or []
    earned = sum(check.score for check in checks)
    possible = sum(check.max_score for check in checks)
    score = (
        round(100.0 * earned / possible, 2)
        if possible and verdict in (Verdict.PASSED, Verdict.FAILED)
        else 0.0
    )
    if verdict == Verdict.PASSED:
        score = 100.0 if not possible else score
    return GradeResult(
        submission_id=request.submission_id,
        verdict=verdict,
        score=max(0.0, min(100.0, score)),
        checks=checks,
        resources=resources or {},
        device=grader.device,
        versions=dict(_versions()),
        traceback=traceback,
        message=message or MESSAGES[verdict],
        artifacts=artifacts or [],
    )


def _with_duration(result: GradeResult, duration: float) -> GradeResult:
    return replace(result, duration=round(duration, 3))
