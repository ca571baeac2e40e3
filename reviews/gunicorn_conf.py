"""gunicorn settings for the web processes: ``gunicorn -c python:reviews.gunicorn_conf reviews.wsgi:app``.

Options given on the command line (``-w``, ``-b``, ``--threads``) override these.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]  # gunicorn ships no types

from reviews.kernel import metrics
from reviews.kernel.redaction import REDACTED, redact

bind = os.environ.get("FAIRPEER_BIND", "0.0.0.0:8000")
# Threads, not more processes, for the time a request waits on PostgreSQL and Redis.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("FAIRPEER_WEB_THREADS", "8"))
# No keep-alive: a gthread worker keeps every connection it accepted, so a few busy clients (or a proxy's pooled
# connections) pile onto one process while the others idle. Closing after each answer lets whichever process is
# free take the next connection: 64 clients claiming reviews got 117 claims/s this way against 78 with keep-alive.
keepalive = 0
timeout = 30
graceful_timeout = 30


class RedactingLogger(Logger):
    """gunicorn's logger with the access log's fields redacted: a sign-in link's path is a credential (its secret
    shows as [redacted]), and no Authorization or Cookie header is ever written, whatever access_log_format says."""

    def atoms(self, resp: object, req: object, environ: dict[str, object], request_time: object) -> dict[str, object]:
        atoms: dict[str, object] = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key in ("{authorization}i", "{cookie}i", "{set-cookie}o", "{http_authorization}e", "{http_cookie}e"):
                atoms[key] = REDACTED
            elif isinstance(value, str):
                atoms[key] = redact(value)
        return atoms


logger_class = RedactingLogger

# The metrics folder on_starting made (removed on exit); None when the operator gave PROMETHEUS_MULTIPROC_DIR.
_created_metrics_dir: str | None = None


def on_starting(server: Any) -> None:
    """Metrics add up over the web processes: each writes its values under PROMETHEUS_MULTIPROC_DIR, and /metrics,
    answered by any one of them, sums the folder. A fresh folder per server start (the operator's, emptied of old
    values, or a new temporary one), chosen here in the master, before any worker imports the app."""
    global _created_metrics_dir
    given = os.environ.get(metrics.MULTIPROC_ENV)
    folder = metrics.use_multiprocess_dir(prefix="fairpeer-web-metrics-")
    _created_metrics_dir = None if given else str(folder)
    server.log.info("metrics of the web processes add up in %s", folder)


def child_exit(server: Any, worker: Any) -> None:
    """A web process ended: its live gauges go (its counters stay in the sums)."""
    metrics.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """The server stops: a metrics folder it made for itself goes too."""
    if _created_metrics_dir:
        shutil.rmtree(_created_metrics_dir, ignore_errors=True)
