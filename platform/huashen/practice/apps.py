from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PracticeConfig(AppConfig):
    name = "huashen.practice"
    label = "practice"
    verbose_name = _("练习")

    def ready(self) -> None:
        # Runs and submits are recorded as activity when grading announces a new submission row:
        # grading stays unaware of practice, and the event commits or rolls back with the submission.
        from huashen.grading.signals import submission_created
        from huashen.practice.signals import record_submission_activity

        submission_created.connect(record_submission_activity, dispatch_uid="practice-activity-on-submission")
