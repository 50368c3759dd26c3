from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving. Readiness (database, Redis, graders) is a separate check."""
    return JsonResponse({"status": "ok"})
