from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lti_tool.models import Key

from huashen.lti import services
from huashen.lti.models import ContextCohort, Placement, ScoreAttempt, ScorePublication


@admin.register(ContextCohort)
class ContextCohortAdmin(admin.ModelAdmin):
    list_display = ["context", "cohort", "created_at"]
    raw_id_fields = ["context", "cohort"]


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = ["resource_link", "exercise", "realm", "lineitem_url", "updated_at"]
    raw_id_fields = ["resource_link"]


class ScoreAttemptInline(admin.TabularInline):
    model = ScoreAttempt
    extra = 0
    readonly_fields = ["at", "outcome", "http_status", "detail"]
    can_delete = False


@admin.register(ScorePublication)
class ScorePublicationAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "placement",
        "score_given",
        "reason",
        "state",
        "attempts",
        "created_at",
        "sent_at",
    ]
    list_filter = ["state", "reason"]
    readonly_fields = [f.name for f in ScorePublication._meta.fields]
    inlines = [ScoreAttemptInline]


@admin.action(description=gettext_lazy("轮换签名密钥（生成新密钥，宽限期后停用旧密钥）"))
def rotate_keys(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    rotation = services.keys_rotate(grace=services.keys_grace())
    modeladmin.message_user(
        request,
        _("已生成新的签名密钥；%(n)d 个旧密钥已停用。") % {"n": rotation.retired if rotation else 0},
        messages.SUCCESS,
    )


@admin.register(Key)
class KeyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_active", "datetime_created"]
    fields = ["public_key", "is_active", "datetime_created"]
    readonly_fields = ["public_key", "datetime_created"]
    actions = [rotate_keys]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are generated (rotation), never typed in
