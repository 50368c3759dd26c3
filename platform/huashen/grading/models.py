"""Submissions and progress. Written only through `huashen.grading.services`."""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huashen.curriculum.models import Exercise, ExerciseVersion


class Mode(models.TextChoices):
    RUN = "run", _("运行")
    SUBMIT = "submit", _("提交")
    # The Try cell's snippet run beside the code: never graded, never an attempt, never listed with the
    # student's Runs and Submits (huashen.grading.scratch).
    TRY = "try", _("试运行")


def run_or_submit_choices() -> list[tuple[str, Any]]:
    """The modes a student sends to the submissions endpoint (a try has an endpoint of its own); the
    labels stay lazy, read in the language of whoever reads them."""
    return [(mode.value, mode.label) for mode in (Mode.RUN, Mode.SUBMIT)]


class Purpose(models.TextChoices):
    """Why a submission exists: a student's own Run or Submit, or a staff regrade's re-run (never counted)."""

    ATTEMPT = "attempt", _("学员的尝试")
    RERUN = "rerun", _("重新评测")


class Status(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    DONE = "done", _("已完成")


class Verdict(models.TextChoices):
    PASSED = "passed", _("通过")
    FAILED = "failed", _("未通过")
    ERROR = "error", _("运行出错")
    TIME_LIMIT = "time_limit", _("超时")
    MEMORY_LIMIT = "memory_limit", _("内存超限")
    OUTPUT_LIMIT = "output_limit", _("输出超限")
    GPU_OUT_OF_MEMORY = "gpu_oom", _("显存不足")
    SANDBOX_VIOLATION = "sandbox_violation", _("违反沙箱规则")
    INTERNAL_ERROR = "internal_error", _("平台内部错误")


class Submission(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="submissions")
    version = models.ForeignKey(ExerciseVersion, on_delete=models.PROTECT, related_name="submissions")
    code = models.TextField()
    snippet = models.TextField(
        blank=True, default="", help_text="a Try's snippet, run with the code as `solution`"
    )
    mode = models.CharField(max_length=8, choices=Mode.choices)
    purpose = models.CharField(
        max_length=8,
        choices=Purpose.choices,
        default=Purpose.ATTEMPT,
        help_text="a re-run's result is stored but never counted as an attempt",
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    score = models.FloatField(null=True, blank=True, help_text="0..100")
    checks = models.JSONField(default=list, blank=True)
    resources = models.JSONField(default=dict, blank=True)
    device = models.CharField(max_length=16, blank=True)
    versions = models.JSONField(default=dict, blank=True)
    message = models.JSONField(default=dict, blank=True)
    traceback = models.TextField(blank=True)
    log = models.JSONField(default=list, blank=True, help_text="the run's events, copied in when it ends")
    artifacts = models.JSONField(
        default=list, blank=True, help_text="PNG images the run produced: [{name, media_type, data (base64)}]"
    )
    request_id = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(help_text="after this the reaper may fail the submission")
    claim = models.PositiveBigIntegerField(
        default=0, help_text="the fencing token of the newest grader claim seen; older holders are refused"
    )
    recoveries = models.PositiveSmallIntegerField(
        default=0, help_text="times it was sent again because its grader's claim ran out (the grader died)"
    )

    class Meta:
        verbose_name = _("提交")
        verbose_name_plural = _("提交")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "exercise", "-created_at"]),
            models.Index(fields=["status", "deadline"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.exercise.slug} by {self.user} ({self.status})"


class ExerciseProgress(models.Model):
    """A student's standing on one trial. Only Submit-mode results count."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress")
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="progress")
    attempts = models.PositiveIntegerField(default=0)
    best_score = models.FloatField(default=0.0)
    passed_at = models.DateTimeField(null=True, blank=True, help_text="the first passing submission")
    last_submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("试炼进度")
        verbose_name_plural = _("试炼进度")
        constraints = [models.UniqueConstraint(fields=["user", "exercise"], name="one_progress_per_trial")]

    def __str__(self) -> str:
        return f"{self.user} on {self.exercise}: {self.best_score:.0f}"

    @property
    def passed(self) -> bool:
        return self.passed_at is not None


class Dispatch(models.Model):
    """The outbox: a submission whose GradeRequest has not yet been handed to the graders.

    Written in the same transaction as its submission, so a committed submission always has either a
    request on its way or this row; `dispatch.dispatch_send` hands the request over (on commit, and the
    periodic sweep for whatever that missed: a broker outage, a crash between commit and send) and
    deletes the row. The request itself is rebuilt from the submission, which holds everything in it.
    """

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="dispatch")
    priority = models.PositiveSmallIntegerField(default=0, help_text="0: live; higher: a regrade's re-run")
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0, help_text="failed hand-overs so far")

    class Meta:
        verbose_name = _("待派发的评测")
        verbose_name_plural = _("待派发的评测")
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"dispatch of #{self.submission_id} ({self.attempts} failed attempts)"
