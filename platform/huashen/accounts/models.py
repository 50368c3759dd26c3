"""People and cohorts.

Roles are groups plus Django's staff flag: a *student* learns, an *instructor* teaches cohorts, an
*admin* manages content and people (staff + superuser + the admin group). A user with no group is a
student, which is what sign-up creates.
"""

import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STUDENT = "student", _("学生")
    INSTRUCTOR = "instructor", _("导师")
    ADMIN = "admin", _("管理员")


class User(AbstractUser):
    language = models.CharField(
        _("界面语言"), max_length=8, choices=[("zh-hans", "简体中文"), ("en", "English")], default="zh-hans"
    )

    @cached_property
    def role(self) -> Role:
        # Read once per instance: a page asks several times (header, access checks). user_set_role forgets it.
        if self.is_superuser or self._in_group(Role.ADMIN):
            return Role.ADMIN
        if self._in_group(Role.INSTRUCTOR):
            return Role.INSTRUCTOR
        return Role.STUDENT

    @property
    def is_instructor(self) -> bool:
        return self.role in (Role.INSTRUCTOR, Role.ADMIN)

    def _in_group(self, role: Role) -> bool:
        # Prefetch-friendly: uses the cache when groups were prefetched.
        return any(group.name == role.value for group in self.groups.all())


def new_join_code() -> str:
    # 8 characters from an alphabet without look-alikes (0/O, 1/I/L), said aloud in a classroom.
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


class Cohort(models.Model):
    name = models.CharField(_("名称"), max_length=120)
    join_code = models.CharField(_("加入码"), max_length=16, unique=True, default=new_join_code)
    instructors = models.ManyToManyField(User, related_name="teaching_cohorts", blank=True)
    students: "models.ManyToManyField[User, CohortMembership]" = models.ManyToManyField(
        User, through="CohortMembership", related_name="cohorts", blank=True
    )
    is_open = models.BooleanField(_("开放加入"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("班级")
        verbose_name_plural = _("班级")

    def __str__(self) -> str:
        return self.name


class CohortMembership(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    student = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("班级成员")
        verbose_name_plural = _("班级成员")
        constraints = [
            models.UniqueConstraint(fields=["cohort", "student"], name="one_membership_per_cohort")
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.cohort}"


class ApiToken(models.Model):
    """A named API token for scripts and the `huashen` command-line client.

    Only a SHA-256 hash of the secret is stored: the secret is shown once, when it is made, and a leaked
    database does not hand out working tokens. A user may hold several (one per machine, say) and revoke
    each on its own; revoking deletes the row, so a revoked token is simply unknown.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=64)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("前缀"), max_length=16, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
