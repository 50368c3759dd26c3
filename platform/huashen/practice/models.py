"""Drafts, hint reveals and activity events. Written only through `huashen.practice.services`."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huashen.curriculum.models import Exercise


class Draft(models.Model):
    """The code a student is working on for a trial, saved by the editor: one per student and trial."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="drafts")
    code = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("草稿")
        verbose_name_plural = _("草稿")
        constraints = [models.UniqueConstraint(fields=["user", "exercise"], name="one_draft_per_trial")]

    def __str__(self) -> str:
        return f"{self.user} on {self.exercise}"


class HintReveal(models.Model):
    """A student revealed hint number `index` (0-based) of a trial. Hints are revealed in order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hint_reveals")
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="hint_reveals")
    index = models.PositiveSmallIntegerField()
    revealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index"]
        verbose_name = _("已看提示")
        verbose_name_plural = _("已看提示")
        constraints = [
            models.UniqueConstraint(fields=["user", "exercise", "index"], name="one_reveal_per_hint"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.exercise}: hint {self.index + 1}"


class ActivityKind(models.TextChoices):
    OPENED = "opened", _("打开试炼")
    DRAFT_SAVED = "draft_saved", _("保存草稿")
    HINT_REVEALED = "hint_revealed", _("查看提示")
    RUN = "run", _("运行")
    SUBMIT = "submit", _("提交")


class ActivityEvent(models.Model):
    """One thing a student did on a trial, for time-on-task reports. Append-only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity")
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="activity")
    kind = models.CharField(max_length=16, choices=ActivityKind.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("学习活动")
        verbose_name_plural = _("学习活动")
        indexes = [models.Index(fields=["exercise", "user", "at"], name="activity_trial_user_at")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.exercise} at {self.at:%Y-%m-%d %H:%M}"
