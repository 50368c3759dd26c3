from django.contrib import admin

from huashen.practice.models import ActivityEvent, Draft, HintReveal


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = ("user", "exercise", "updated_at")
    search_fields = ("user__username", "exercise__slug")
    readonly_fields = ("user", "exercise", "code", "updated_at")


@admin.register(HintReveal)
class HintRevealAdmin(admin.ModelAdmin):
    list_display = ("user", "exercise", "index", "revealed_at")
    search_fields = ("user__username", "exercise__slug")


@admin.register(ActivityEvent)
class ActivityEventAdmin(admin.ModelAdmin):
    list_display = ("user", "exercise", "kind", "at")
    list_filter = ("kind",)
    search_fields = ("user__username", "exercise__slug")
