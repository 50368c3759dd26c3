"""The curriculum: realms, trials (exercises) and their immutable content versions.

An Exercise is the stable identity of a trial (its slug, realm, tier, whether it is published). Its content
lives in ExerciseVersion rows, each an immutable snapshot of the bundle with a content hash; a submission
pins the version it was graded against, so editing a trial never rewrites history.
"""

from typing import Any

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def pick_language(zh: str, en: str, language: str | None = None) -> str:
    """The English text when the active (or given) language is English, else the Chinese."""
    language = language or get_language() or "zh-hans"
    return en if language.startswith("en") and en else zh


class Tier(models.IntegerChoices):
    SEEDLING = 1, _("🌱 入门")
    SPROUT = 2, _("🌿 进阶")
    BREAKTHROUGH = 3, _("🔥 突破")
    PERFECTION = 4, _("🌟 圆满")
    TRANSCENDENCE = 5, _("🛡️ 化神")


class GradingMode(models.TextChoices):
    AUTO = "auto", _("自动评分")
    HYBRID = "hybrid", _("自动检查 + 人工评审")
    MANUAL = "manual", _("人工评审")


class Device(models.TextChoices):
    CPU = "cpu", "CPU"
    GPU = "gpu", "GPU"


class Realm(models.Model):
    slug = models.SlugField(unique=True)
    order = models.PositiveSmallIntegerField()
    retired = models.BooleanField(default=False, help_text="its folder vanished from exercises/")
    name_zh = models.CharField(max_length=120)
    name_en = models.CharField(max_length=120)
    theme_zh = models.CharField(max_length=200)
    theme_en = models.CharField(max_length=200)
    summary_zh = models.TextField(blank=True)
    summary_en = models.TextField(blank=True)

    class Meta:
        ordering = ["order"]
        verbose_name = _("境界")
        verbose_name_plural = _("境界")
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(retired=False), name="one_realm_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name_zh} / {self.name_en}"

    @property
    def name(self) -> str:
        return pick_language(self.name_zh, self.name_en)

    @property
    def theme(self) -> str:
        return pick_language(self.theme_zh, self.theme_en)

    @property
    def summary(self) -> str:
        return pick_language(self.summary_zh, self.summary_en)


class Exercise(models.Model):
    slug = models.SlugField(unique=True)
    realm = models.ForeignKey(Realm, on_delete=models.PROTECT, related_name="exercises")
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    order = models.PositiveSmallIntegerField()
    is_published = models.BooleanField(_("已发布"), default=True)
    retired = models.BooleanField(default=False, help_text="its bundle vanished from exercises/")
    current_version = models.ForeignKey(
        "ExerciseVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["realm__order", "order"]
        verbose_name = _("试炼")
        verbose_name_plural = _("试炼")
        constraints = [
            models.UniqueConstraint(
                fields=["realm", "order"],
                condition=models.Q(retired=False),
                name="one_exercise_per_realm_order",
            ),
            models.UniqueConstraint(
                fields=["realm", "tier"],
                condition=models.Q(retired=False),
                name="one_exercise_per_realm_tier",
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class ExerciseVersion(models.Model):
    """One immutable snapshot of a trial's bundle. Never updated; a change makes a new version."""

    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    points = models.PositiveSmallIntegerField(default=100)
    grading = models.CharField(max_length=8, choices=GradingMode.choices, default=GradingMode.AUTO)
    device = models.CharField(max_length=4, choices=Device.choices, default=Device.CPU)
    limits = models.JSONField(default=dict)
    rubric = models.JSONField(default=list, blank=True)
    statement_zh = models.TextField()
    statement_en = models.TextField()
    hints = models.JSONField(default=list, blank=True, help_text="[{'zh': ..., 'en': ...}, ...] in order")
    starter_code = models.TextField()
    files = models.JSONField(default=dict, help_text="relative path → sha256 of every file in the bundle")
    source = models.CharField(max_length=20, default="sync", help_text="sync or admin")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("试炼版本")
        verbose_name_plural = _("试炼版本")
        ordering = ["exercise", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(fields=["exercise", "number"], name="unique_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.exercise.slug} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError("ExerciseVersion is immutable: create a new version instead")
        super().save(*args, **kwargs)

    @property
    def title(self) -> str:
        return pick_language(self.title_zh, self.title_en)

    @property
    def statement(self) -> str:
        return pick_language(self.statement_zh, self.statement_en)


class SyncReport(models.Model):
    """What one run of `sync_exercises` did, kept so admins can see errors without a shell."""

    created_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    errors = models.JSONField(default=list, help_text="[{'file', 'field', 'message'}, ...]")
    summary = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("同步报告")
        verbose_name_plural = _("同步报告")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"sync {self.created_at:%Y-%m-%d %H:%M} {'ok' if self.ok else f'{len(self.errors)} errors'}"
