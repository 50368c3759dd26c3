"""Fingerprints of students' Submits and the pairs of them that look alike, with instructors' decisions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huashen.curriculum.models import Exercise
from huashen.grading.models import Submission


class CodeFingerprint(models.Model):
    """The winnowed hashes of one Submit's code, boilerplate of its pinned version removed."""

    submission = models.OneToOneField(
        Submission, on_delete=models.CASCADE, primary_key=True, related_name="fingerprint"
    )
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    algorithm = models.PositiveSmallIntegerField()
    hashes = models.JSONField(default=list, help_text="sorted winnowed hashes (63-bit integers)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["exercise", "user"])]

    def __str__(self) -> str:
        return f"fingerprint of submission {self.submission_id}"


class Decision(models.TextChoices):
    NONE = "", _("未处理")
    FINE = "fine", _("已查看，没问题")
    FLAGGED = "flagged", _("已标记")


class SimilarPair(models.Model):
    """Two students' Submits of one trial whose fingerprints overlap; `first` is the older submission.

    Stored only at or above `services.STORE_AT_LEAST`; a cohort's page shows the pairs of its students.
    """

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="+")
    first = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    first_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    second_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="the larger of the two shares, 0..1")
    first_share = models.FloatField(help_text="share of the first's fingerprints found in the second")
    second_share = models.FloatField(help_text="share of the second's fingerprints found in the first")
    decision = models.CharField(max_length=8, choices=Decision.choices, blank=True, default="")
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    compared_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="similar_pair_once"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="similar_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["exercise", "-score"])]

    def __str__(self) -> str:
        return f"submissions {self.first_id} ~ {self.second_id}: {self.score:.2f}"
