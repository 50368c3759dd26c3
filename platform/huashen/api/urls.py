from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from huashen.api import coach_views, curves_views, practice_views, scratch_views, teaching_views, views
from huashen.api.errors import page_not_found

app_name = "api"
urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("realms/", views.RealmListView.as_view(), name="realms"),
    path("exercises/", views.ExerciseListView.as_view(), name="exercises"),
    path("exercises/<slug:slug>/", views.ExerciseDetailView.as_view(), name="exercise"),
    path("submissions/", views.SubmissionListCreateView.as_view(), name="submissions"),
    path("submissions/<int:submission_id>/", views.SubmissionDetailView.as_view(), name="submission"),
    path(
        "submissions/<int:submission_id>/coach/",
        coach_views.SubmissionCoachView.as_view(),
        name="submission-coach",
    ),
    path("exercises/<slug:slug>/draft/", practice_views.DraftView.as_view(), name="exercise-draft"),
    path("exercises/<slug:slug>/analyze/", coach_views.AnalyzeView.as_view(), name="exercise-analyze"),
    path("exercises/<slug:slug>/curves/", curves_views.CohortCurvesView.as_view(), name="exercise-curves"),
    path("exercises/<slug:slug>/hints/", practice_views.HintsView.as_view(), name="exercise-hints"),
    path("exercises/<slug:slug>/try/", scratch_views.TryCreateView.as_view(), name="exercise-try"),
    path(
        "exercises/<slug:slug>/try/<int:try_id>/",
        scratch_views.TryDetailView.as_view(),
        name="exercise-try-detail",
    ),
    path(
        "exercises/<slug:slug>/reference/", practice_views.ReferenceView.as_view(), name="exercise-reference"
    ),
    path(
        "submissions/<int:submission_id>/queue/",
        practice_views.SubmissionQueueView.as_view(),
        name="submission-queue",
    ),
    path("tokens/", views.TokenListCreateView.as_view(), name="tokens"),
    path("tokens/<int:token_id>/", views.TokenDetailView.as_view(), name="token"),
    path("cohorts/", teaching_views.CohortListView.as_view(), name="cohorts"),
    path("cohorts/<int:cohort_id>/", teaching_views.CohortDetailView.as_view(), name="cohort"),
    path("cohorts/<int:cohort_id>/matrix/", teaching_views.CohortMatrixView.as_view(), name="cohort-matrix"),
    path(
        "cohorts/<int:cohort_id>/trials/<slug:slug>/statistics/",
        teaching_views.ExerciseStatisticsView.as_view(),
        name="cohort-trial-statistics",
    ),
    path("reviews/", teaching_views.ReviewQueueView.as_view(), name="review-queue"),
    path("reviews/<int:submission_id>/", teaching_views.ReviewSubmitView.as_view(), name="review"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Unknown API paths answer in the API's error shape, in DEBUG too (Django's debug 404 page is HTML).
    # csrf_exempt: an unsafe method to an unknown path is a 404 too, not the CSRF failure page.
    re_path(r"^.*$", csrf_exempt(page_not_found)),
]
