from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from huashen.web import records_views, tokens_views, views
from huashen.web.exercise_views import exercise_page

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("realms/", records_views.realm_map, name="realm-map"),
    path("trials/<slug:slug>/history/", records_views.exercise_history, name="trial-history"),
    path("submissions/<int:submission_id>/", records_views.submission_detail, name="submission"),
    path("submissions/<int:left>/diff/<int:right>/", records_views.submission_diff, name="submission-diff"),
    path("profile/", records_views.profile, name="profile"),
    path("trials/<slug:slug>/", exercise_page, name="trial"),
    path("signup/", views.sign_up, name="signup"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("web:password-changed")),
        name="password-change",
    ),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password-changed"),
    path("cohorts/join/", views.join_cohort, name="join-cohort"),
    path("language/", views.set_language, name="set-language"),
    path("profile/tokens/", tokens_views.tokens, name="tokens"),
]
