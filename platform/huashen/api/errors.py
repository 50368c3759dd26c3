"""One error body for the whole API: `{"error": {"code", "message", "field"}}`."""

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from huashen.errors import DomainError, error_body

logger = logging.getLogger(__name__)


def _first_error(detail: Any, path: str | None = None) -> tuple[str | None, str, str]:
    """(field, message, code) of the first error in a DRF detail structure (nested dicts and lists)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = None if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
            return _first_error(value, field)
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], path)
    code = getattr(detail, "code", None) or "invalid"
    return path, str(detail), str(code)


def _too_large_body() -> dict[str, Any]:
    return error_body(
        "too_large",
        _("请求体太大：上限 %(limit)d 字节。") % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
    )


# How long a client should wait before trying again when the database or Redis did not answer: about
# as long as a restart or a failover takes, short enough that a student's retry is not a long wait.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says a service behind us (PostgreSQL, Redis, the broker) did not answer, rather than
    a bug: the request may simply be repeated, so the client gets 503 with Retry-After, never a 500."""
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError):
        return True
    try:
        import redis.exceptions

        if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
            return True
    except ImportError:  # pragma: no cover - redis is a platform dependency
        pass
    try:
        import kombu.exceptions

        if isinstance(exc, kombu.exceptions.OperationalError):
            return True
    except ImportError:  # pragma: no cover - celery (kombu) is a platform dependency
        pass
    return False


def unavailable_body() -> dict[str, Any]:
    return error_body("unavailable", _("服务暂时不可用，请稍后重试。"))


def unavailable_headers() -> dict[str, str]:
    return {"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_body(), status=exc.status, headers=exc.headers)
    if is_unavailable(exc):
        logger.warning("a service did not answer: %s: %s", type(exc).__name__, exc)
        return Response(
            unavailable_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=unavailable_headers()
        )
    if isinstance(exc, RequestDataTooBig):
        # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE as a SuspiciousOperation (an HTML 400);
        # for a client it is what it is: too large.
        return Response(_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):  # raised inside a view (a format no renderer has, an object not found)
        exc = exceptions.NotFound(_("没有找到。"))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(_("没有权限。"))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handler answers (in the same shape for /api/)
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = _first_error(exc.detail)
        response.data = error_body(code if code != "invalid" else "invalid", message, field)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        response.data = error_body(str(code), str(detail))
    return response


def _api_error(request: HttpRequest, code: str, message: str, http_status: int) -> HttpResponse | None:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=http_status)
    return None


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 (a SuspiciousOperation raised outside a DRF view), in the API's shape under /api/."""
    from django.views.defaults import bad_request as html_bad_request

    if request.path.startswith("/api/") and isinstance(exception, RequestDataTooBig):
        return JsonResponse(_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return _api_error(
        request, "bad_request", _("请求无效。"), status.HTTP_400_BAD_REQUEST
    ) or html_bad_request(request, exception or Exception())


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from huashen.web.error_pages import page_not_found as html_not_found

    return _api_error(request, "not_found", _("没有找到。"), status.HTTP_404_NOT_FOUND) or html_not_found(
        request, exception
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 403 (PermissionDenied raised outside a DRF view), in the API's shape under /api/."""
    from huashen.web.error_pages import permission_denied as html_permission_denied

    return _api_error(
        request, "permission_denied", _("没有权限。"), status.HTTP_403_FORBIDDEN
    ) or html_permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500, outside a DRF view (a middleware). Called while the exception is being handled, so
    a database or Redis outage there is still told apart from a bug: 503 with Retry-After under /api/."""
    from huashen.web.error_pages import server_error as html_server_error

    exc = sys.exc_info()[1]
    if exc is not None and is_unavailable(exc) and request.path.startswith("/api/"):
        response = JsonResponse(unavailable_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE)
        for name, value in unavailable_headers().items():
            response[name] = value
        return response
    return _api_error(
        request, "internal_error", _("服务器内部错误。"), status.HTTP_500_INTERNAL_SERVER_ERROR
    ) or html_server_error(request)
