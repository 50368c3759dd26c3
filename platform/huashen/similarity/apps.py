from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SimilarityConfig(AppConfig):
    name = "huashen.similarity"
    verbose_name = _("相似代码")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A student's finished Submit is fingerprinted and compared with the cohort's on the platform queue.
        from huashen.grading.signals import submission_finished
        from huashen.similarity import dispatch

        submission_finished.connect(dispatch.on_submission_finished, dispatch_uid="similarity-on-submission")
