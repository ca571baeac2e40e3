"""Prometheus metrics: the instruments, ``/metrics`` behind a token, and the multiprocess mode of gunicorn and workers.

What is measured (docs/api.md, Metrics): requests by route, method and status with their latency; claims made,
reviews stored, submissions refused by reason, cases opened by kind, review SLA breaches; task runs, failures and
durations; calibration run time; and, computed when scraped, the queue depth and the open cases by kind.

Counters of domain events move when the transaction that made the event commits (``on_commit``): a claim rolled
back is no claim. The kernel names the events but imports no feature; features call the functions below.

Several processes (gunicorn's workers, a Celery worker's pool) add up through prometheus_client's multiprocess
mode: each process writes its values to files under ``PROMETHEUS_MULTIPROC_DIR`` and a scrape sums them.
prometheus_client decides between files and memory when it is first imported, so this module imports it only on
first use: ``reviews.gunicorn_conf`` and ``fairpeer worker`` choose the folder before that (``use_multiprocess_dir``).
Without the variable (the embedded default, the unit tests) the values live in this process's own registry.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, current_app, g, request
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from reviews.kernel.errors import error_body

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client import CollectorRegistry, Counter, Histogram

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_PENDING = "fairpeer_pending_metrics"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_TASK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True)
class Instruments:
    requests: Counter
    request_seconds: Histogram
    claims: Counter
    reviews: Counter
    rejections: Counter
    cases_opened: Counter
    review_sla_breaches: Counter
    task_runs: Counter
    task_failures: Counter
    task_seconds: Histogram
    calibration_seconds: Histogram
    registry: CollectorRegistry


@functools.cache
def instruments() -> Instruments:
    """The process's instruments, made (and prometheus_client imported) on first use."""
    from prometheus_client import CollectorRegistry, Counter, Histogram  # noqa: PLC0415 - first use; see the docstring

    registry = CollectorRegistry()
    return Instruments(
        requests=Counter(
            "fairpeer_http_requests",
            "HTTP requests answered, by route, method and status.",
            ["endpoint", "method", "status"],
            registry=registry,
        ),
        request_seconds=Histogram(
            "fairpeer_http_request_duration_seconds",
            "Time to answer an HTTP request, by route and method.",
            ["endpoint", "method"],
            registry=registry,
        ),
        claims=Counter("fairpeer_review_claims", "Review claims made (committed).", registry=registry),
        reviews=Counter("fairpeer_reviews", "Reviews stored (committed).", registry=registry),
        rejections=Counter(
            "fairpeer_submission_rejections",
            "Submissions refused by the junk gate, one count per reason code given (committed).",
            ["reason"],
            registry=registry,
        ),
        cases_opened=Counter("fairpeer_cases_opened", "Escalation cases opened, by kind (committed).", ["kind"], registry=registry),
        review_sla_breaches=Counter(
            "fairpeer_review_sla_breaches",
            "Submissions still short of reviews NEEDS_REVIEWS_AFTER_HOURS after they were submitted (each opens a needs_reviews case).",
            registry=registry,
        ),
        task_runs=Counter("fairpeer_task_runs", "Background task runs, by task (retries count as runs).", ["task"], registry=registry),
        task_failures=Counter("fairpeer_task_failures", "Background task runs that raised, by task.", ["task"], registry=registry),
        task_seconds=Histogram(
            "fairpeer_task_duration_seconds", "Background task run time, by task.", ["task"], buckets=_TASK_BUCKETS, registry=registry
        ),
        calibration_seconds=Histogram(
            "fairpeer_calibration_duration_seconds",
            "Time of a recalibration run that computed scores (committed).",
            buckets=_TASK_BUCKETS,
            registry=registry,
        ),
        registry=registry,
    )


# ---------------------------------------------------------------- domain events, counted when they commit


def on_commit(session: Session, record: Callable[[], None]) -> None:
    """Run ``record`` once ``session`` commits; dropped if it rolls back."""
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any statement, drops it
    session.info.setdefault(_PENDING, []).append(record)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for record in session.info.pop(_PENDING, []):
        try:
            record()
        except Exception:  # a metric must never fail the work it measures
            log.exception("could not record a metric")


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    # The whole transaction, even one that never reached the database; a savepoint's rollback keeps the rest.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def claim_made(session: Session) -> None:
    def record() -> None:
        instruments().claims.inc()

    on_commit(session, record)


def review_stored(session: Session) -> None:
    def record() -> None:
        instruments().reviews.inc()

    on_commit(session, record)


def submission_rejected(session: Session, reasons: Iterable[str]) -> None:
    codes = list(reasons)

    def record() -> None:
        for code in codes:
            instruments().rejections.labels(code).inc()

    on_commit(session, record)


def case_opened(session: Session, kind: str) -> None:
    on_commit(session, lambda: instruments().cases_opened.labels(kind).inc())


def calibration_ran(session: Session, seconds: float) -> None:
    on_commit(session, lambda: instruments().calibration_seconds.observe(seconds))


def review_sla_breached(count: int) -> None:
    """``count`` submissions breached the review SLA; call after the commit that opened their cases."""
    if count:
        instruments().review_sla_breaches.inc(count)


# ---------------------------------------------------------------- tasks


@contextmanager
def task_run(name: str) -> Iterator[None]:
    """Count one run of the task ``name``, its failure if it raises, and its duration."""
    started = time.perf_counter()
    failed = True
    try:
        yield
        failed = False
    finally:
        elapsed = time.perf_counter() - started
        try:
            measured = instruments()
            measured.task_runs.labels(name).inc()
            measured.task_seconds.labels(name).observe(elapsed)
            if failed:
                measured.task_failures.labels(name).inc()
        except Exception:  # a metric must never fail the work it measures
            log.exception("could not record task metrics")


# ---------------------------------------------------------------- gauges computed when scraped


@dataclass(frozen=True)
class ScrapeGauge:
    """A gauge read when /metrics is scraped (in the app context of the scrape): ``read`` gives label values -> value."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    read: Callable[[], dict[tuple[str, ...], float]]


_GAUGES = "fairpeer.metrics.gauges"


def _gauge_text(gauges: list[ScrapeGauge]) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest  # noqa: PLC0415 - first use; see the docstring
    from prometheus_client.core import GaugeMetricFamily  # noqa: PLC0415 - first use; see the docstring
    from prometheus_client.registry import Collector  # noqa: PLC0415 - first use; see the docstring

    families = []
    for gauge in gauges:
        try:
            values = gauge.read()
        except Exception:  # one broken source (Redis down) must not hide the other metrics
            log.warning("metric %s could not be read", gauge.name, exc_info=True)
            continue
        family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=list(gauge.labels))
        for labels, value in sorted(values.items()):
            family.add_metric(list(labels), value)
        families.append(family)

    class Families(Collector):
        def collect(self) -> Any:
            return iter(families)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Families())
    return generate_latest(registry)


# ---------------------------------------------------------------- exposition


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def exposition(gauges: list[ScrapeGauge] | None = None) -> bytes:
    """The text format of every instrument (summed over the processes in multiprocess mode), then the gauges."""
    from prometheus_client import CollectorRegistry, generate_latest  # noqa: PLC0415 - first use; see the docstring
    from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415 - first use; see the docstring

    measured = instruments()
    if multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(measured.registry)
    return text + (_gauge_text(gauges) if gauges else b"")


def token_matches(header: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _metrics_view() -> Any:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)  # not configured: there is nothing here
    if not token_matches(request.headers.get("Authorization"), token):
        body = error_body("unauthenticated", "Send Authorization: Bearer <METRICS_TOKEN> to read the metrics.")
        return body, 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}
    return Response(exposition(current_app.extensions[_GAUGES]), mimetype=None, content_type=CONTENT_TYPE)


def init_app(app: Flask, gauges: list[ScrapeGauge] | None = None) -> None:
    """Serve ``/metrics`` (token in METRICS_TOKEN; unset: 404) and measure every request.

    Call it before anything else registers request hooks, so that the latency covers them and the status is final.
    """
    app.extensions[_GAUGES] = list(gauges or [])
    app.add_url_rule("/metrics", "metrics", _metrics_view, methods=["GET"])
    app.before_request(_request_started)
    app.after_request(_request_finished)


def _request_started() -> None:
    g._fairpeer_metrics_started = time.perf_counter()


def _request_finished(response: Response) -> Response:
    started = g.get("_fairpeer_metrics_started")
    try:
        # The route, not the path, and known methods only: label values stay few.
        endpoint = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        method = request.method if request.method in _METHODS else "other"
        measured = instruments()
        measured.requests.labels(endpoint, method, str(response.status_code)).inc()
        if started is not None:
            measured.request_seconds.labels(endpoint, method).observe(time.perf_counter() - started)
    except Exception:  # a metric must never fail the answer
        log.exception("could not record request metrics")
    return response


# ---------------------------------------------------------------- multiprocess folders and the workers' endpoint


def use_multiprocess_dir(path: str | Path | None = None, *, prefix: str = "fairpeer-metrics-") -> Path:
    """Put this process (and those it starts or forks) in multiprocess mode, on a folder emptied now.

    ``path``, or the PROMETHEUS_MULTIPROC_DIR already set, is emptied of its value files (nothing else in it is
    touched); with neither, a fresh temporary folder is made. Must run before prometheus_client is first imported.
    """
    if "prometheus_client" in sys.modules and not multiprocess():
        raise RuntimeError("prometheus_client was imported before multiprocess mode was chosen; values would stay per process")
    chosen = path or os.environ.get(MULTIPROC_ENV)
    folder = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix=prefix))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def mark_process_dead(pid: int) -> None:
    """A process of the group ended: forget its live gauges (its counters stay counted)."""
    if multiprocess():
        from prometheus_client import multiprocess as mp  # noqa: PLC0415 - first use; see the docstring

        mp.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def serve_metrics(bind: str, token: str) -> WSGIServer:
    """Serve this process group's metrics at ``http://<bind>/metrics`` (Bearer ``token``) from a daemon thread."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server  # noqa: PLC0415 - only the workers serve this way

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if not token_matches(environ.get("HTTP_AUTHORIZATION"), token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Bearer realm="metrics"')])
            return [b"send Authorization: Bearer <METRICS_TOKEN>\n"]
        body = exposition()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))])
        return [body]

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

    host, _, port = bind.rpartition(":")
    server = make_server(host.strip("[]") or "127.0.0.1", int(port), app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, name="fairpeer-metrics", daemon=True).start()
    return server
