from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LtiConfig(AppConfig):
    name = "huashen.lti"
    label = "lti"
    verbose_name = _("LTI 1.3")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Scores go back to the LMS when a trial is passed, reviewed or regraded.
        from huashen.grading.signals import progress_changed, submission_finished
        from huashen.lti import receivers, tasks  # noqa: F401 - tasks registers the Celery task

        submission_finished.connect(receivers.on_submission_finished, dispatch_uid="lti-scores-finished")
        progress_changed.connect(receivers.on_progress_changed, dispatch_uid="lti-scores-reviewed")
