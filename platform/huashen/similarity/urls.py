from django.urls import path

from huashen.similarity import views

app_name = "similarity"
urlpatterns = [
    path("teach/cohorts/<int:cohort_id>/similarity/", views.cohort_similarity, name="cohort"),
    path("teach/cohorts/<int:cohort_id>/similarity.csv", views.cohort_similarity_csv, name="csv"),
    path("teach/cohorts/<int:cohort_id>/similarity/scan/", views.cohort_similarity_scan, name="scan"),
    path("teach/cohorts/<int:cohort_id>/similarity/pairs/<int:pair_id>/", views.pair_detail, name="pair"),
]
