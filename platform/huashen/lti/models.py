"""What Huashen keeps of its LMS links, on top of django-lti's registrations, deployments and contexts.

django-lti (`lti_tool`) stores the platforms (LtiRegistration: issuer, client id, URLs), their deployments,
the tool's signing keys, and what launches told it (LtiUser by issuer + sub, LtiContext, LtiResourceLink).
This app adds the Huashen side: which cohort an LMS course is, which trial or realm a resource link
places, and the scores sent back through Assignment and Grade Services with every attempt to send them.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from lti_tool.models import LtiContext, LtiRegistration, LtiResourceLink

from huashen.accounts.models import Cohort
from huashen.curriculum.models import Exercise, Realm


class ContextCohort(models.Model):
    """An LMS course (an LTI context of one deployment) is one Huashen cohort."""

    context = models.OneToOneField(LtiContext, on_delete=models.CASCADE, related_name="huashen_cohort")
    cohort = models.OneToOneField(Cohort, on_delete=models.CASCADE, related_name="lti_context")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("LMS 课程对应的班级")
        verbose_name_plural = _("LMS 课程对应的班级")

    def __str__(self) -> str:
        return f"{self.context} → {self.cohort}"


class Placement(models.Model):
    """A resource link in an LMS course that places one trial (or a realm) as an activity.

    `lineitem_url` is the gradebook column the LMS gave the link (the AGS claim's `lineitem`); scores of
    the placed trial go there. A realm's placement has no line item: it only lands students on the map.
    """

    resource_link = models.OneToOneField(
        LtiResourceLink, on_delete=models.CASCADE, related_name="huashen_placement"
    )
    exercise = models.ForeignKey(Exercise, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    realm = models.ForeignKey(Realm, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lineitem_url = models.URLField(_("成绩列 URL"), max_length=1000, blank=True)
    lineitems_url = models.URLField(_("成绩列集合 URL"), max_length=1000, blank=True)
    can_publish_scores = models.BooleanField(default=False)
    can_manage_lineitems = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("LMS 活动")
        verbose_name_plural = _("LMS 活动")

    def __str__(self) -> str:
        return f"{self.resource_link}: {self.exercise or self.realm or '—'}"


class ScorePublication(models.Model):
    """One score to send to one LMS gradebook column: the outbox row and its outcome.

    `key` makes a score for one submission at one value unique per column, so the same pass, review or
    regrade announced twice is sent once. The Celery task `huashen.lti_send_score` sends it, retrying
    with backoff; every try is a `ScoreAttempt`.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    class Reason(models.TextChoices):
        PASS = "pass", _("通过")
        REVIEW = "review", _("评审")
        REGRADE = "regrade", _("重新评测")

    key = models.CharField(max_length=200, unique=True)
    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="scores")
    registration = models.ForeignKey(LtiRegistration, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_scores")
    lti_user_id = models.CharField(_("LMS 用户 ID"), max_length=255)
    submission_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    score_given = models.FloatField()
    score_maximum = models.FloatField(default=100.0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("回传的成绩")
        verbose_name_plural = _("回传的成绩")
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.score_given:g}/{self.score_maximum:g} → {self.placement_id} ({self.state})"


class ScoreAttempt(models.Model):
    """One try at sending a score: when, how it went and the LMS's HTTP status (none: no answer)."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("已发送")
        RETRY = "retry", _("稍后重试")
        FAILED = "failed", _("失败")

    publication = models.ForeignKey(ScorePublication, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("成绩发送记录")
        verbose_name_plural = _("成绩发送记录")

    def __str__(self) -> str:
        return f"{self.publication_id} {self.outcome} {self.http_status or '—'}"
