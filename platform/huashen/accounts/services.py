"""The write path for people, roles and cohorts."""

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from huashen.accounts.models import Cohort, CohortMembership, Role, User
from huashen.accounts.signals import student_joined
from huashen.errors import DomainError


@transaction.atomic
def user_create(
    *, username: str, password: str, email: str = "", role: Role = Role.STUDENT, language: str = "zh-hans"
) -> User:
    user = User.objects.create_user(username=username, password=password, email=email, language=language)
    user_set_role(user=user, role=role)
    return user


@transaction.atomic
def user_set_role(*, user: User, role: Role) -> User:
    """Make `user` exactly `role`: its group, and staff + superuser for admins only."""
    role_groups = {r: Group.objects.get_or_create(name=r.value)[0] for r in Role}
    user.groups.remove(*role_groups.values())
    user.groups.add(role_groups[role])
    user.is_staff = role == Role.ADMIN
    user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["is_staff", "is_superuser"])
    user.__dict__.pop("role", None)  # the cached role (User.role) is stale now
    return user


def user_set_language(*, user: User, language: str) -> User:
    if language not in {"zh-hans", "en"}:
        raise DomainError(
            "invalid_language", _("不支持的语言：%(language)s") % {"language": language}, "language"
        )
    user.language = language
    user.save(update_fields=["language"])
    return user


@transaction.atomic
def cohort_create(*, name: str, instructor: User) -> Cohort:
    if not instructor.is_instructor:
        raise DomainError("forbidden", _("只有导师可以创建班级。"), status=403)
    name = name.strip()
    if not name:
        raise DomainError("invalid", _("班级名称不能为空。"), "name")
    for _attempt in range(5):
        try:
            with transaction.atomic():
                cohort = Cohort.objects.create(name=name)
            break
        except IntegrityError:  # a join-code collision: draw again
            continue
    else:  # pragma: no cover - 31^8 codes
        raise DomainError("conflict", _("无法生成加入码，请重试。"), status=409)
    cohort.instructors.add(instructor)
    return cohort


@transaction.atomic
def cohort_join(*, student: User, join_code: str) -> Cohort:
    code = join_code.strip().upper()
    cohort = Cohort.objects.filter(join_code=code, is_open=True).first()
    if cohort is None:
        raise DomainError("not_found", _("没有这个加入码对应的开放班级。"), "join_code", status=404)
    _membership, created = CohortMembership.objects.get_or_create(cohort=cohort, student=student)
    if created:  # the live matrix gains the row; sent once the membership is there to be read
        transaction.on_commit(
            lambda: student_joined.send_robust(
                sender=CohortMembership, cohort_id=cohort.pk, student_id=student.pk, username=student.username
            )
        )
    return cohort
