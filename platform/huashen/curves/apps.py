from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CurvesConfig(AppConfig):
    name = "huashen.curves"
    label = "curves"
    verbose_name = _("对照曲线")
