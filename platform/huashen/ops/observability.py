"""Request ids, the access log and request metrics for the web processes.

`RequestIdMiddleware` (first in MIDDLEWARE) gives every HTTP request an id: the caller's or the proxy's
`X-Request-ID` when it is a UUID, a fresh one otherwise. It is echoed in the response's `X-Request-ID`,
written into every log line of the request (`workers.logs`), and stored as the `request_id` of a
submission the request creates, which travels in the GradeRequest to the grader and back in the
GradeResult: one id from the API call to the recorded verdict.

`RequestMetricsMiddleware` times each request into a Prometheus histogram labelled by the *resolved
route* (`api:submission-detail`), the method and the status, never by the raw path, so ids in URLs
cannot blow up the number of series; and it writes one access-log line per request.
"""

import logging
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from huashen.ops import metrics
from workers.logs import current_request_id, log_context, new_request_id, sane_request_id

REQUEST_ID_HEADER = "X-Request-ID"
access_logger = logging.getLogger("huashen.access")
# Load balancers, container healthchecks and Prometheus call these every few seconds: their successes
# are logged at DEBUG, so the access log stays about people.
PROBE_ROUTES = {"healthz", "readyz", "metrics"}


def request_uuid() -> uuid.UUID:
    """The id of the HTTP request in hand as a UUID (a fresh one outside a request): a submission's id."""
    return uuid.UUID(current_request_id() or new_request_id())


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        with log_context(request_id=request_id):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = metrics.route_label(request)
        metrics.observe_request(route=route, method=request.method or "", status=response.status_code,
                                seconds=elapsed)  # fmt: skip
        level = logging.DEBUG if route in PROBE_ROUTES and response.status_code < 400 else logging.INFO
        access_logger.log(
            level, "%s %s %s %.1f ms (%s)", request.method, request.path, response.status_code, elapsed * 1000,
            route,
        )  # fmt: skip
        return response
