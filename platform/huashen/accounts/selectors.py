"""Reads about people and cohorts, and the one access check for cohorts."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from huashen.accounts.models import Cohort, Role, User
from huashen.errors import DomainError


def cohorts_taught_by(*, user: User) -> QuerySet[Cohort]:
    """The cohorts `user` may see as a teacher: their own; every cohort for an admin."""
    if user.role == Role.ADMIN:
        return Cohort.objects.all()
    return Cohort.objects.filter(instructors=user)


def cohort_get_for_instructor(*, user: User, cohort_id: int) -> Cohort:
    """The access check used by pages, API and WebSocket alike: 404 for a cohort `user` does not teach."""
    cohort = cohorts_taught_by(user=user).filter(pk=cohort_id).first()
    if cohort is None:
        raise DomainError("not_found", _("没有找到。"), status=404)
    return cohort


def user_teaches(*, teacher: User, student: User) -> bool:
    if teacher.role == Role.ADMIN:
        return True
    return Cohort.objects.filter(instructors=teacher, students=student).exists()
