from django.contrib import admin

from huashen.grading.models import ExerciseProgress, Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("pk", "user", "exercise", "version", "mode", "status", "verdict", "score", "created_at")
    list_filter = ("status", "verdict", "mode", "exercise__realm")
    search_fields = ("user__username", "exercise__slug")
    readonly_fields = [f.name for f in Submission._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ExerciseProgress)
class ExerciseProgressAdmin(admin.ModelAdmin):
    list_display = ("user", "exercise", "attempts", "best_score", "passed_at")
    list_filter = ("exercise__realm",)
    search_fields = ("user__username",)
