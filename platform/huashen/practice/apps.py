from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PracticeConfig(AppConfig):
    name = "huashen.practice"
    label = "practice"
    verbose_name = _("练习")

    def ready(self) -> None:
        # Runs and submits are recorded as activity when a submission row is created (see signals.py):
        # grading stays unaware of practice, and the event commits or rolls back with the submission.
        from huashen.practice import signals  # noqa: F401
