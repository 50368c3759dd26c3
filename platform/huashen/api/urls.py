from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from huashen.api import views

app_name = "api"
urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("realms/", views.RealmListView.as_view(), name="realms"),
    path("exercises/", views.ExerciseListView.as_view(), name="exercises"),
    path("exercises/<slug:slug>/", views.ExerciseDetailView.as_view(), name="exercise"),
    path("submissions/", views.SubmissionListCreateView.as_view(), name="submissions"),
    path("submissions/<int:submission_id>/", views.SubmissionDetailView.as_view(), name="submission"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
