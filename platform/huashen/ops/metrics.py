"""Prometheus metrics: `/metrics`, for staff or a scraper holding `METRICS_TOKEN`; never public.

Two kinds of numbers, chosen so that the answer is right with any number of web replicas and with the
platform worker being a separate process that serves no HTTP:

- **Per process** — `huashen_http_request_duration_seconds` (route, method, status). Each web process
  counts its own requests; Prometheus scrapes every replica (one target each) and `sum()`s them. Where
  one host runs several web processes behind one port (a process manager forking ASGI workers), set
  `PROMETHEUS_MULTIPROC_DIR` to an empty directory private to that host: prometheus_client then keeps
  the values in files there and each scrape adds up every process of the host.
- **From the database and Redis, at scrape time** — submissions by verdict, sandbox violations, queue
  wait (created → started) and grading duration (started → finished) histograms, submissions in
  progress and graders online. These happen in the platform worker and the graders, which serve no
  `/metrics`; counting them in the database where the result is recorded means no process has to be
  scraped to see them and a restart loses nothing. Every replica reports the same global values: query
  them with `max without (instance)` (or scrape one replica for them). The cost is a few aggregate
  queries per scrape (one pass over the finished submissions): scrape every 30–60 s, not every second.
"""

import datetime as dt
import hmac
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from huashen.errors import error_body

logger = logging.getLogger(__name__)

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED_ROUTE = "<unmatched>"

REQUEST_DURATION = Histogram(
    "huashen_http_request_duration_seconds",
    "Time the web process took to answer an HTTP request, by resolved route, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
QUEUE_WAIT_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
GRADING_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0)


def route_label(request: HttpRequest) -> str:
    """The URL pattern's name (`api:submission-detail`), never the raw path (which holds ids)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED_ROUTE
    return str(match.view_name or match.route or UNMATCHED_ROUTE)


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    method = method.upper() if method.upper() in METHODS else "OTHER"
    REQUEST_DURATION.labels(route=route, method=method, status=str(status)).observe(seconds)


# --- scrape-time values ------------------------------------------------------------------------------


def _duration_histogram(
    name: str,
    documentation: str,
    submissions: "QuerySet[Any]",
    start: str,
    end: str,
    buckets: tuple[float, ...],
) -> HistogramMetricFamily:
    """A histogram of `end - start` over the submissions, computed by the database in one query."""
    duration = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    rows = submissions.filter(**{f"{start}__isnull": False, f"{end}__isnull": False}).annotate(
        duration=duration
    )
    aggregates: dict[str, Any] = {
        f"le_{index}": Count("pk", filter=Q(duration__lte=dt.timedelta(seconds=bound)))
        for index, bound in enumerate(buckets)
    }
    row = rows.aggregate(count=Count("pk"), total=Sum("duration"), **aggregates)
    total = row["total"]
    seconds = total.total_seconds() if isinstance(total, dt.timedelta) else float(total or 0) / 1e6
    family = HistogramMetricFamily(name, documentation)
    family.add_metric(
        [],
        [(_bound(bound), float(row[f"le_{index}"])) for index, bound in enumerate(buckets)]
        + [("+Inf", float(row["count"]))],
        sum_value=seconds,
    )
    return family


def _bound(value: float) -> str:
    return repr(float(value))


class GradingCollector:
    """Submission and grader figures read from the database and the heartbeats at scrape time."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "huashen_metrics_source_up",
            "Whether a source of scrape-time metrics answered.",
            labels=["source"],
        )
        try:
            yield from self._database()
            up.add_metric(["database"], 1)
        except Exception:
            logger.warning("metrics: the database figures are unavailable", exc_info=True)
            up.add_metric(["database"], 0)
        try:
            yield from self._graders()
            up.add_metric(["heartbeats"], 1)
        except Exception:
            logger.warning("metrics: grader heartbeats are unreadable", exc_info=True)
            up.add_metric(["heartbeats"], 0)
        yield up

    def _database(self) -> Iterable[Metric]:
        from huashen.grading.models import Status, Submission, Verdict

        done = Submission.objects.filter(status=Status.DONE)
        by_verdict = CounterMetricFamily(
            "huashen_submissions",
            "Submissions graded (or reaped), by verdict and mode (run or submit).",
            labels=["verdict", "mode"],
        )
        violations = 0
        for row in done.values("verdict", "mode").annotate(n=Count("pk")).order_by("verdict", "mode"):
            by_verdict.add_metric([row["verdict"], row["mode"]], row["n"])
            if row["verdict"] == Verdict.SANDBOX_VIOLATION:
                violations += row["n"]
        sandbox = CounterMetricFamily(
            "huashen_sandbox_violations",
            "Submissions the sandbox stopped for a forbidden system call (verdict sandbox_violation).",
        )
        sandbox.add_metric([], violations)
        in_progress = GaugeMetricFamily(
            "huashen_submissions_in_progress", "Submissions queued or running now.", labels=["status"]
        )
        counts = dict(
            Submission.objects.filter(status__in=[Status.QUEUED, Status.RUNNING])
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for status in (Status.QUEUED, Status.RUNNING):
            in_progress.add_metric([status.value], counts.get(status.value, 0))
        queue_wait = _duration_histogram(
            "huashen_queue_wait_seconds",
            "Time from a submission's creation until a grader started it.",
            done,
            "created_at",
            "started_at",
            QUEUE_WAIT_BUCKETS,
        )
        grading = _duration_histogram(
            "huashen_grading_duration_seconds",
            "Time from a grader starting a submission until its result was recorded.",
            done,
            "started_at",
            "finished_at",
            GRADING_BUCKETS,
        )
        return [by_verdict, sandbox, in_progress, queue_wait, grading]

    def _graders(self) -> Iterable[Metric]:
        from huashen.grading.selectors import graders_fresh

        graders = graders_fresh()
        queues = sorted({*settings.READY_REQUIRED_QUEUES, *(q for g in graders for q in g.get("queues", []))})
        online = GaugeMetricFamily(
            "huashen_graders_online",
            "Graders whose heartbeat is recent, by queue they consume.",
            labels=["queue"],
        )
        slots = GaugeMetricFamily(
            "huashen_grader_slots", "Concurrent grading slots of those graders, by queue.", labels=["queue"]
        )
        for queue in queues:
            serving = [grader for grader in graders if queue in grader.get("queues", [])]
            online.add_metric([queue], len(serving))
            slots.add_metric([queue], sum(int(grader.get("slots", 1) or 1) for grader in serving))
        return [online, slots]


class _ThisProcess:
    """The process-local registry (request histogram, process and platform collectors) as one collector."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition() -> bytes:
    """The text format of every metric, built fresh per scrape."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(GradingCollector())
    return generate_latest(registry)


def _allowed(request: HttpRequest) -> bool | None:
    """True for staff or the right bearer token; False for a wrong one; None when no one is named."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = settings.METRICS_TOKEN
        return bool(token) and hmac.compare_digest(
            header.removeprefix("Bearer ").strip().encode(), token.encode()
        )
    user = getattr(request, "user", None) or AnonymousUser()
    if not user.is_authenticated:
        return None
    return bool(user.is_staff)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    allowed = _allowed(request)
    if allowed is None:
        response: HttpResponse = JsonResponse(
            error_body("not_authenticated", "metrics need a staff session or the metrics token"), status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not allowed:
        return JsonResponse(
            error_body("permission_denied", "metrics are for staff and the scraper"), status=403
        )
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
