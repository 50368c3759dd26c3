from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from huashen.curriculum.models import Exercise, ExerciseVersion, Realm, SyncReport
from huashen.curriculum.reports import sync_error_lines, sync_summary_lines
from huashen.curriculum.services import (
    SyncResult,
    exercise_content_check,
    exercise_content_edit,
    exercises_sync,
)
from huashen.errors import DomainError
from huashen.practice.markdown import render_markdown

CONTENT_FIELDS = ("statement_zh", "statement_en", "hints")


MAX_HINTS = 50


class HintListWidget(forms.Widget):
    """Hints as rows of (中文, English) in the order they are revealed, with empty rows to add more; a row
    left empty on both sides is dropped, so clearing a row deletes that hint."""

    extra = 2

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        hints = value if isinstance(value, list) else []
        rows = [*hints, *([{"zh": "", "en": ""}] * self.extra)][:MAX_HINTS]
        body = format_html_join(
            "",
            '<li data-testid="hint-row"><label>{} <textarea name="{}-{}-zh" rows="2" cols="60">{}</textarea></label>'
            ' <label>{} <textarea name="{}-{}-en" rows="2" cols="60">{}</textarea></label></li>',
            (
                (_("中文"), name, i, row.get("zh", ""), _("英文"), name, i, row.get("en", ""))
                for i, row in enumerate(rows)
                if isinstance(row, dict)
            ),
        )
        return format_html(
            '<input type="hidden" name="{}-count" value="{}"><ol class="hint-list">{}</ol>',
            name,
            len(rows),
            body,
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[dict[str, str]]:
        try:
            count = min(int(data.get(f"{name}-count", 0)), MAX_HINTS)
        except (TypeError, ValueError):
            count = 0
        rows = []
        for i in range(count):
            zh = str(data.get(f"{name}-{i}-zh", "")).strip()
            en = str(data.get(f"{name}-{i}-en", "")).strip()
            if zh or en:
                rows.append({"zh": zh, "en": en})
        return rows

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}-count" not in data


class HintListField(forms.Field):
    widget = HintListWidget

    def to_python(self, value: Any) -> list[dict[str, str]]:
        return value if isinstance(value, list) else []

    def validate(self, value: list[dict[str, str]]) -> None:
        super().validate(value)
        if any(not (row["zh"] and row["en"]) for row in value):
            raise forms.ValidationError(_("每条提示都要有中文和英文。"))

    def has_changed(self, initial: Any, data: Any) -> bool:
        return (initial or []) != (data or [])


# A statement longer than this is not previewed (the trial page would render it; the preview need not).
MAX_PREVIEW_CHARS = 200_000


class StatementWidget(forms.Textarea):
    """A statement's Markdown with its preview beside it, rendered by the trial page's own renderer: what
    was last saved or sent when the page loads, then (admin_preview.js) what is typed, asked of the
    admin's preview URL as the editor pauses."""

    class Media:
        css = {"all": ("huashen/admin_preview.css",)}
        js = ("huashen/admin_preview.js",)

    def __init__(self, preview_url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preview_url = preview_url

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        attrs = {**(attrs or {}), "data-preview-url": self.preview_url}
        area = super().render(name, value, attrs, renderer)
        text = str(value or "")[:MAX_PREVIEW_CHARS]
        return format_html(
            '<div class="statement-edit">{}<div class="statement-preview" aria-live="polite" data-preview-of="{}">'
            '<p class="statement-preview-label">{}</p><div class="statement-preview-body">{}</div></div></div>',
            area,
            attrs.get("id", ""),
            _("预览（与试炼页面相同的渲染）"),
            render_markdown(text),
        )


class ExerciseContentForm(forms.ModelForm):
    """The trial row plus the texts of its current version; changed texts are saved as a new version."""

    statement_zh = forms.CharField(label=gettext_lazy("说明（中文）"), widget=StatementWidget, required=False)
    statement_en = forms.CharField(label=gettext_lazy("说明（英文）"), widget=StatementWidget, required=False)
    hints = HintListField(
        label=gettext_lazy("提示"),
        required=False,
        help_text=gettext_lazy("按揭示的顺序；清空一行即删除那条提示，空行用来添加新的提示。"),
    )

    class Meta:
        model = Exercise
        fields = ["is_published"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        preview_url = reverse("admin:curriculum_exercise_preview")
        for name in ("statement_zh", "statement_en"):
            widget = self.fields[name].widget
            if isinstance(widget, StatementWidget):
                widget.preview_url = preview_url
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
    search_fields = ("slug",)
    readonly_fields = ("slug", "realm", "tier", "order", "retired", "current_version")
    form = ExerciseContentForm
    fieldsets = (
        (None, {"fields": ("slug", "realm", "tier", "order", "is_published", "retired", "current_version")}),
        (gettext_lazy("内容（保存改动会生成新版本）"), {"fields": CONTENT_FIELDS}),
    )
    inlines = [VersionInline]

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "preview/",
            self.admin_site.admin_view(require_POST(self.preview_view)),
            name="curriculum_exercise_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """The HTML of a statement being edited, as the trial page will show it (everything escaped first)."""
        if not self.has_change_permission(request):
            return HttpResponse(status=403)
        text = request.POST.get("text")
        if text is None or len(text) > MAX_PREVIEW_CHARS:
            return HttpResponseBadRequest(_("没有可预览的文本，或文本太长。"))
        return HttpResponse(render_markdown(text), content_type="text/html; charset=utf-8")

    def save_model(self, request: HttpRequest, obj: Exercise, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if obj.current_version is not None and set(CONTENT_FIELDS) & set(form.changed_data):
            version = exercise_content_edit(
                exercise=obj,
                statement_zh=form.cleaned_data["statement_zh"],
                statement_en=form.cleaned_data["statement_en"],
                hints=form.cleaned_data["hints"],
            )
            self.message_user(request, _("新版本：v%(n)d") % {"n": version.number}, messages.SUCCESS)

    actions = ["publish", "hide", "sync_from_files", "replace_from_files"]

    @admin.action(description=gettext_lazy("发布"))
    def publish(self, request: HttpRequest, queryset: QuerySet[Exercise]) -> None:
        queryset.filter(retired=False).update(is_published=True)

    @admin.action(description=gettext_lazy("隐藏"))
    def hide(self, request: HttpRequest, queryset: QuerySet[Exercise]) -> None:
        queryset.update(is_published=False)

    @admin.action(description=gettext_lazy("从 exercises/ 同步试炼"))
    def sync_from_files(self, request: HttpRequest, queryset: QuerySet[Exercise]) -> None:
        self._report(request, exercises_sync())

    @admin.action(description=gettext_lazy("用 exercises/ 替换所选试炼在管理后台的编辑"))
    def replace_from_files(self, request: HttpRequest, queryset: QuerySet[Exercise]) -> None:
        self._report(request, exercises_sync(replace=list(queryset.values_list("slug", flat=True))))

    def _report(self, request: HttpRequest, result: SyncResult) -> None:
        if result.ok:
            self.message_user(request, "；".join(sync_summary_lines(result.summary())), messages.SUCCESS)
        if result.edited_in_admin:
            self.message_user(
                request,
                _(
                    "%(slugs)s 在管理后台编辑过，与 exercises/ 不同：保留了编辑。要用 exercises/ 的内容，"
                    "选中它们并执行“用 exercises/ 替换所选试炼在管理后台的编辑”。"
                )
                % {"slugs": ", ".join(result.edited_in_admin)},
                messages.WARNING,
            )
        errors = [{"file": e.file, "field": e.field, "message": e.message} for e in result.errors]
        for line in sync_error_lines(errors):
            self.message_user(request, line, messages.ERROR)


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
    list_display = ("created_at", "ok", "changes")
    fields = ("created_at", "ok", "changes", "problems")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("改动"))
    def changes(self, report: SyncReport) -> str:
        return format_html_join(
            mark_safe("<br>"), "{}", ((line,) for line in sync_summary_lines(report.summary))
        )

    @admin.display(description=gettext_lazy("错误"))
    def problems(self, report: SyncReport) -> str:
        lines = sync_error_lines(report.errors if isinstance(report.errors, list) else [])
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
