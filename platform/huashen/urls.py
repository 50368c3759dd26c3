from django.contrib import admin
from django.urls import include, path

from huashen.ops.health import healthz, readyz
from huashen.ops.metrics import metrics_view

urlpatterns = [
    path("", include("huashen.web.urls")),
    path("", include("huashen.teaching.urls")),
    path("", include("huashen.similarity.urls")),
    path("", include("huashen.lti.urls")),
    path("api/v1/", include("huashen.api.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "huashen.api.errors.bad_request"
handler403 = "huashen.api.errors.permission_denied"
handler404 = "huashen.api.errors.page_not_found"
handler500 = "huashen.api.errors.server_error"
