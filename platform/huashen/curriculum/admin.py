from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from huashen.curriculum.models import Exercise, ExerciseVersion, Realm, SyncReport
from huashen.curriculum.services import exercises_sync


@admin.register(Realm)
class RealmAdmin(admin.ModelAdmin):
    list_display = ("order", "name_zh", "name_en", "slug", "retired")
    ordering = ("order",)
    readonly_fields = ("slug", "order", "retired")  # owned by sync_exercises


class VersionInline(admin.TabularInline):
    model = ExerciseVersion
    fields = ("number", "content_hash", "title_zh", "grading", "device", "source", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ("slug", "realm", "tier", "order", "is_published", "retired", "current_version")
    list_filter = ("realm", "is_published", "retired")
    list_editable = ("is_published",)
    readonly_fields = ("slug", "realm", "tier", "order", "retired", "current_version")
    inlines = [VersionInline]
    actions = ["publish", "hide", "sync_from_files"]

    @admin.action(description="Publish / 发布")
    def publish(self, request: HttpRequest, queryset: QuerySet[Exercise]) -> None:
        queryset.filter(retired=False).update(is_published=True)

    @admin.action(description="Hide / 隐藏")
    def hide(self, request: HttpRequest, queryset: QuerySet[Exercise]) -> None:
        queryset.update(is_published=False)

    @admin.action(description="Sync all trials from exercises/ / 从 exercises/ 同步")
    def sync_from_files(self, request: HttpRequest, queryset: QuerySet[Exercise]) -> None:
        result = exercises_sync()
        if result.ok:
            self.message_user(request, f"synced: {result.summary()}", messages.SUCCESS)
        for error in result.errors:
            self.message_user(request, str(error), messages.ERROR)


@admin.register(ExerciseVersion)
class ExerciseVersionAdmin(admin.ModelAdmin):
    list_display = ("exercise", "number", "content_hash", "grading", "device", "source", "created_at")
    list_filter = ("grading", "device", "source")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # immutable: a change is a new version

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SyncReport)
class SyncReportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "ok", "summary")
    readonly_fields = ("created_at", "ok", "errors", "summary")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
