from django.urls import path

from huashen.teaching import views

app_name = "teaching"
urlpatterns = [
    path("teach/", views.teach_home, name="home"),
    path("teach/cohorts/<int:cohort_id>/", views.cohort_detail, name="cohort"),
    path("teach/cohorts/<int:cohort_id>/matrix/", views.cohort_matrix, name="matrix"),
    path("teach/cohorts/<int:cohort_id>/matrix.csv", views.cohort_matrix_csv, name="matrix-csv"),
    path("teach/cohorts/<int:cohort_id>/students/<int:student_id>/", views.student_detail, name="student"),
    path(
        "teach/cohorts/<int:cohort_id>/students/<int:student_id>/trials/<slug:slug>/",
        views.student_exercise,
        name="student-trial",
    ),
    path("teach/cohorts/<int:cohort_id>/trials/<slug:slug>/", views.exercise_statistics, name="statistics"),
    path(
        "teach/cohorts/<int:cohort_id>/trials/<slug:slug>/submissions.csv",
        views.exercise_submissions_csv,
        name="submissions-csv",
    ),
    path("teach/reviews/", views.review_queue, name="review-queue"),
    path("teach/reviews/<int:submission_id>/", views.review_form, name="review"),
    path("staff/ops/", views.staff_ops, name="staff-ops"),
    path("staff/content/", views.staff_content, name="staff-content"),
    path("staff/content/<slug:slug>/regrade/", views.staff_regrade, name="staff-regrade"),
]
