from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from huashen.curriculum.models import Exercise, ExerciseVersion, Realm, SyncReport
from huashen.curriculum.services import exercise_content_check, exercise_content_edit, exercises_sync
from huashen.errors import DomainError

CONTENT_FIELDS = ("statement_zh", "statement_en", "hints")


class ExerciseContentForm(forms.ModelForm):
    """The trial row plus the texts of its current version; changed texts are saved as a new version."""

    statement_zh = forms.CharField(
        label="Statement (zh) / 说明（中文）", widget=forms.Textarea, required=False
    )
    statement_en = forms.CharField(
        label="Statement (en) / 说明（英文）", widget=forms.Textarea, required=False
    )
    hints = forms.JSONField(
        label="Hints / 提示",
        required=False,
        help_text='[{"zh": "…", "en": "…"}, …] — in the order they are revealed',
    )

    class Meta:
        model = Exercise
        fields = ["is_published"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        version = self.instance.current_version if self.instance.pk else None
        if version is not None:
            self.fields["statement_zh"].initial = version.statement_zh
            self.fields["statement_en"].initial = version.statement_en
            self.fields["hints"].initial = version.hints
        else:
            for name in CONTENT_FIELDS:
                self.fields[name].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.current_version is not None and set(CONTENT_FIELDS) & set(self.changed_data):
            try:
                exercise_content_check(
                    statement_zh=data.get("statement_zh", ""),
                    statement_en=data.get("statement_en", ""),
                    hints=data.get("hints"),
                )
            except DomainError as error:
                self.add_error(error.field if error.field in CONTENT_FIELDS else None, error.message)
        return data


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
    form = ExerciseContentForm
    fieldsets = (
        (None, {"fields": ("slug", "realm", "tier", "order", "is_published", "retired", "current_version")}),
        ("Content / 内容 (saving a change creates a new version)", {"fields": CONTENT_FIELDS}),
    )
    inlines = [VersionInline]

    def save_model(self, request: HttpRequest, obj: Exercise, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if obj.current_version is not None and set(CONTENT_FIELDS) & set(form.changed_data):
            version = exercise_content_edit(
                exercise=obj,
                statement_zh=form.cleaned_data["statement_zh"],
                statement_en=form.cleaned_data["statement_en"],
                hints=form.cleaned_data["hints"],
            )
            self.message_user(request, f"new version / 新版本: v{version.number}", messages.SUCCESS)

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
