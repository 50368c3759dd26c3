from django.db import models
from django.utils.translation import gettext_lazy as _

from huashen.curriculum.models import ExerciseVersion


class ReferenceCurve(models.Model):
    """The reference solution's metric series for one trial version: {name: {"steps": [...], "values": [...]}}."""

    version = models.OneToOneField(
        ExerciseVersion, on_delete=models.CASCADE, related_name="reference_curve", verbose_name=_("试炼版本")
    )
    series = models.JSONField(_("指标序列"), default=dict)
    source = models.CharField(_("来源"), max_length=200, blank=True, help_text="where the run came from")
    recorded_at = models.DateTimeField(_("记录时间"), auto_now=True)

    class Meta:
        verbose_name = _("参考曲线")
        verbose_name_plural = _("参考曲线")

    def __str__(self) -> str:
        return f"{self.version}"
