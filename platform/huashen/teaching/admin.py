from django.contrib import admin
from django.http import HttpRequest

from huashen.teaching.models import Regrade, Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Who reviewed what: read-only here, since a review's score is applied to progress by its service."""

    list_display = ("submission", "reviewer", "final_score", "created_at")
    list_filter = ("submission__exercise",)
    search_fields = ("submission__user__username", "reviewer__username")
    readonly_fields = ("submission", "reviewer", "scores", "comment", "final_score", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Regrade)
class RegradeAdmin(admin.ModelAdmin):
    list_display = (
        "original",
        "rerun",
        "exercise",
        "version",
        "old_score",
        "new_score",
        "requested_by",
        "created_at",
    )
    list_filter = ("exercise",)
    list_select_related = ("original", "rerun", "exercise", "version", "requested_by")
    readonly_fields = ("exercise", "original", "rerun", "version", "requested_by", "old_score", "old_verdict")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
