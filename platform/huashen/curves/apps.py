from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CurvesConfig(AppConfig):
    name = "huashen.curves"
    label = "curves"
    verbose_name = _("对照曲线")

    def ready(self) -> None:
        from huashen.curriculum.signals import trial_versions_created
        from huashen.curves import runs
        from huashen.grading.curves import forget_cohort_curves
        from huashen.grading.signals import submission_finished

        trial_versions_created.connect(runs.queue_on_sync, dispatch_uid="curves-reference-runs-on-sync")
        submission_finished.connect(runs.record_when_finished, dispatch_uid="curves-reference-run-finished")
        submission_finished.connect(forget_cohort_curves, dispatch_uid="curves-cohort-median-invalidate")
