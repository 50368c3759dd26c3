from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("huashen.web.urls")),
    path("api/v1/", include("huashen.api.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "huashen.api.errors.page_not_found"
handler500 = "huashen.api.errors.server_error"
