from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from huashen.accounts.models import Cohort, CohortMembership, Role, User
from huashen.accounts.services import user_set_role


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "role_name", "language", "is_active", "last_login")
    list_filter = ("groups", "is_staff", "is_active", "language")
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Huashen", {"fields": ("language",)}))
    actions = ["make_student", "make_instructor", "make_admin"]

    @admin.display(description="role")
    def role_name(self, user: User) -> str:
        return str(user.role.label)

    def _set_role(self, request: HttpRequest, queryset: object, role: Role) -> None:
        for user in queryset:  # type: ignore[attr-defined]
            user_set_role(user=user, role=role)

    @admin.action(description="Make student / 设为学生")
    def make_student(self, request: HttpRequest, queryset: object) -> None:
        self._set_role(request, queryset, Role.STUDENT)

    @admin.action(description="Make instructor / 设为导师")
    def make_instructor(self, request: HttpRequest, queryset: object) -> None:
        self._set_role(request, queryset, Role.INSTRUCTOR)

    @admin.action(description="Make admin / 设为管理员")
    def make_admin(self, request: HttpRequest, queryset: object) -> None:
        self._set_role(request, queryset, Role.ADMIN)


class MembershipInline(admin.TabularInline):
    model = CohortMembership
    extra = 0
    autocomplete_fields = ["student"]


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "join_code", "is_open", "created_at")
    search_fields = ("name", "join_code")
    filter_horizontal = ("instructors",)
    inlines = [MembershipInline]
