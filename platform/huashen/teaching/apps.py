from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeachingConfig(AppConfig):
    name = "huashen.teaching"
    verbose_name = _("教学")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Live matrix cells: progress changes are pushed to the cohorts' channel-layer groups.
        from huashen.teaching import live  # noqa: F401
