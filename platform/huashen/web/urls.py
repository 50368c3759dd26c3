from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from huashen.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("realms/", views.realm_map, name="realm-map"),
    path("signup/", views.sign_up, name="signup"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("web:password-changed")),
        name="password-change",
    ),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password-changed"),
    path("cohorts/join/", views.join_cohort, name="join-cohort"),
    path("language/", views.set_language, name="set-language"),
]
