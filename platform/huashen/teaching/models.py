"""Reviews of hybrid and manual trials, and regrades. Written only through `huashen.teaching.services`."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huashen.curriculum.models import Exercise, ExerciseVersion
from huashen.grading.models import Submission


class Review(models.Model):
    """A reviewer's verdict on one submission of a hybrid or manual trial, by the version's rubric.

    `scores` maps each rubric criterion key to the points given; `final_score` is their sum scaled to
    0..100 (the scale of `Submission.score`). One review per submission: who reviewed what is kept.
    """

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="review")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_given"
    )
    scores = models.JSONField(_("各项得分"), default=dict)
    comment = models.TextField(_("评语"), blank=True)
    final_score = models.FloatField(_("最终得分"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("评审")
        verbose_name_plural = _("评审")

    def __str__(self) -> str:
        return f"review of #{self.submission_id} by {self.reviewer_id}: {self.final_score:.0f}"


class Regrade(models.Model):
    """One submission re-run against its trial's current version: the old score and, once graded, the new.

    The re-run is a submission of its own (`rerun`), sent at low priority; it never counts as an attempt
    and never changes the student's progress (see `huashen.grading.services.submission_create_rerun`).
    """

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="regrades")
    original = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="regrades")
    rerun = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="regrade_of")
    version = models.ForeignKey(ExerciseVersion, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="regrades_requested"
    )
    old_score = models.FloatField(null=True, blank=True)
    old_verdict = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("重新评测")
        verbose_name_plural = _("重新评测")

    def __str__(self) -> str:
        return f"regrade of #{self.original_id} as #{self.rerun_id}"

    @property
    def new_score(self) -> float | None:
        return self.rerun.score

    @property
    def new_verdict(self) -> str:
        return self.rerun.verdict
