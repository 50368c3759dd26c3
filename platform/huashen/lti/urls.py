from django.urls import path

from huashen.lti import views

app_name = "lti"
urlpatterns = [
    path("lti/login/", views.oidc_login, name="login"),
    path("lti/login/<uuid:registration_uuid>/", views.oidc_login, name="login-registration"),
    path("lti/launch/", views.launch, name="launch"),
    path("lti/deep-link/", views.deep_link_answer, name="deep-link"),
    path("lti/continue/<str:ticket>/", views.continue_in_window, name="continue"),
    path("lti/jwks.json", views.jwks, name="jwks"),
    path("staff/lti/", views.staff_lti, name="staff"),
]
