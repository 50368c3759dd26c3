"""Grading one request: stage the job, run the probe in the sandbox, run the check outside, decide.

    grade(request, grader) -> GradeResult

The verdict never comes from exit status or from anything the job printed: limits and violations come
from what the runner observed (cgroups, signals, the clock), and pass/fail from the trusted check over
the observations the probe left behind.
"""

import functools
import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from exercises.kit import instruments
from workers import env
from workers.checking import WarmChecker, run_check
from workers.events import EventSink
from workers.protocol import (
    CheckResult,
    EventKind,
    GradeRequest,
    GradeResult,
    Mode,
    Verdict,
    bundle_content_hash,
    bundle_files,
    clean_json,
    clean_text,
)
from workers.sandbox.policy import SandboxPolicy, thread_env
from workers.sandbox.runner import SandboxOutcome, job_dir, job_name, run_sandboxed
from workers.sandbox.warm.pool import PoolSetup, WarmPool, WarmUnavailable, warm_possible, warm_requested
from workers.staging import IGNORE, LIB_PREFIX, SANDBOX_KIT, reclaim_stale_lib_dirs, stage
from workers.trusted_out import ResultManifest, copy_verified, is_boundary_exercise
from workers.verdicts import MESSAGES, limit_verdict

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]


class ExerciseNotFound(LookupError):
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
    # The warm sandbox pool (workers/sandbox/warm/pool.py): HUASHEN_WARM_POOL=0 turns it off. Only a grader
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
            raise ExerciseNotFound(slug) from None

    def lib_dir(self) -> Path:
        """What the sandbox sees at /opt/huashen/lib: the harness, the probe side of the grading kit
        (`SANDBOX_KIT`), a minimal passwd. In $TMPDIR, named after this process (`LIB_PREFIX`): removed
        by `close()`, or at a later grader's start once this process is gone."""
        if self._lib_dir is None:
            reclaim_stale_lib_dirs()
            lib = Path(tempfile.mkdtemp(prefix=f"{LIB_PREFIX}{os.getpid()}-"))
            self._lib_cleanup = weakref.finalize(self, shutil.rmtree, lib, ignore_errors=True)
            shutil.copytree(REPO / "workers" / "harness", lib / "harness", ignore=IGNORE)
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
    except ExerciseNotFound:
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
        out = stage(work, bundle, {"solution.py": request.code}, probe=bundle / "probe.py", job_seed=job_seed)
        # A boundary trial: the check reads only the files the driver vouched for (workers/trusted_out.py).
        manifest = ResultManifest() if is_boundary_exercise(bundle) else None
        outcome, resources = _run_job(request, grader, sink, work, manifest=manifest)
        ended = limit_verdict(outcome, request)
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
            report = run_check(
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
        ended = limit_verdict(outcome, request)
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
        return run_check(
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
        verify_out = stage(
            second, bundle, {}, probe=bundle / "verify.py", first=first,
            max_first_bytes=request.limits.disk_mb * 1024 * 1024 // 2,
        )  # fmt: skip
        manifest = ResultManifest() if is_boundary_exercise(bundle, "verify.py") else None
        outcome, _ = _run_job(request, grader, sink, second, manifest=manifest)
        ended = limit_verdict(outcome, request)
        if ended is not None:
            return _result(request, ended[0], grader, resources=resources, message=ended[1])
        if manifest is None:
            return run_check(
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
            return run_check(
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
            **thread_env(grader.threads),
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
        elif instruments.SUMMARY_KEY in event:
            summary = instruments.clean(event[instruments.SUMMARY_KEY])  # the latest well-formed one counts
            if summary is not None:
                reported[instruments.SUMMARY_KEY] = summary

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
    # What the kit's instruments measured in the student's process (advice for the coach, never a verdict
    # input), as `instruments.clean` rebuilt it.
    summary = reported.get(instruments.SUMMARY_KEY)
    if summary is not None:
        resources[instruments.SUMMARY_KEY] = summary
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
