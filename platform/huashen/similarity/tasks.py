"""Platform-queue tasks of similar-code detection: thin, idempotent, at low priority (see dispatch)."""

from celery import shared_task

from huashen.accounts.models import Cohort
from huashen.curriculum.models import Exercise
from huashen.similarity.services import cohort_scan, submission_compare

COMPARE_TASK = "huashen.similarity_compare"
SCAN_TASK = "huashen.similarity_scan"


@shared_task(name=COMPARE_TASK, ignore_result=True, soft_time_limit=120, time_limit=150)
def compare_submission(submission_id: int) -> int:
    return submission_compare(submission_id=submission_id)


@shared_task(name=SCAN_TASK, ignore_result=True, soft_time_limit=300, time_limit=330)
def scan_cohort(cohort_id: int, exercise_id: int) -> int:
    cohort = Cohort.objects.filter(pk=cohort_id).first()
    exercise = Exercise.objects.filter(pk=exercise_id).first()
    if cohort is None or exercise is None:
        return 0
    return cohort_scan(cohort=cohort, exercise=exercise)
