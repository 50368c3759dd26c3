from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeachingConfig(AppConfig):
    name = "huashen.teaching"
    verbose_name = _("教学")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Live matrix cells: progress changes and joins are pushed to the cohorts' channel-layer groups.
        from huashen.accounts.signals import student_joined
        from huashen.grading.signals import progress_changed
        from huashen.teaching import live

        progress_changed.connect(live.push_matrix_cell, dispatch_uid="teaching-matrix-live")
        student_joined.connect(live.push_matrix_student, dispatch_uid="teaching-matrix-joined")
