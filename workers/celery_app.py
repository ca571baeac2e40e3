"""The Celery app, built the way Flask's own Celery pattern does it: every task runs in the app context.

The tasks themselves live beside their features (``reviews/<feature>/tasks.py``, declared with
``reviews.kernel.background.task``); this module registers each on Celery under its own name. The id of the
request that enqueued a task travels in its message headers (``fairpeer_request_id``) and is bound into every log
line the task writes, beside the task's own id.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_shutdown
from flask import Flask
from kombu.exceptions import ChannelError

from reviews.kernel import logs, metrics
from reviews.kernel.background import PING, Background, registered_tasks, run_measured
from reviews.kernel.background import Task as BackgroundTask
from reviews.kernel.db import db

log = logging.getLogger(__name__)

QUEUE = "fairpeer"
REQUEST_ID_HEADER = "fairpeer_request_id"


def periodic_task_names() -> list[str]:
    return sorted(name for name, spec in registered_tasks().items() if spec.periodic)


def _register(celery_app: Celery, spec: BackgroundTask) -> None:
    def run(self: Task, *args: Any) -> Any:
        try:
            return run_measured(spec, args)
        except Exception as exc:
            db.session.rollback()
            log.exception("task %s failed", spec.name)
            if spec.max_retries and self.request.retries < spec.max_retries:
                raise self.retry(exc=exc, countdown=spec.retry_delay) from exc
            raise

    run.__name__ = spec.name.rsplit(".", 1)[-1]
    run.__doc__ = spec.run.__doc__
    celery_app.task(name=spec.name, bind=True, max_retries=spec.max_retries)(run)


def celery_init_app(app: Flask) -> Celery:
    """Attach a Celery app (``app.extensions["celery"]``) and the configured way of running tasks."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            token = logs.task_id.set(self.request.id)
            request_token = logs.request_id.set(self.request.get(REQUEST_ID_HEADER))
            try:
                with app.app_context():
                    return self.run(*args, **kwargs)
            finally:
                logs.request_id.reset(request_token)
                logs.task_id.reset(token)

    broker = app.config.get("BROKER_URL")
    celery_app = Celery(app.name, task_cls=FlaskTask)
    every = float(app.config["SWEEP_SECONDS"])
    celery_app.conf.update(
        broker_url=broker or "memory://",
        result_backend=broker or "cache+memory://",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        result_expires=300,
        broker_connection_retry_on_startup=True,
        # A task that was running when its worker died comes back after this long (Redis transport).
        broker_transport_options={"visibility_timeout": int(app.config.get("VISIBILITY_TIMEOUT_SECONDS", 600))},
        beat_schedule={name: {"task": name, "schedule": timedelta(seconds=every)} for name in periodic_task_names()},
        worker_hijack_root_logger=False,
    )
    for spec in registered_tasks().values():
        _register(celery_app, spec)
    app.extensions["celery"] = celery_app

    if app.config.get("BACKGROUND_MODE") == "celery":
        if not broker:
            raise RuntimeError("BACKGROUND_MODE=celery needs BROKER_URL or REDIS_URL")

        def send(name: str, args: tuple[Any, ...], countdown: float | None) -> None:
            request_id = logs.request_id.get()
            headers = {REQUEST_ID_HEADER: request_id} if request_id else None
            celery_app.send_task(name, args=list(args), countdown=countdown, headers=headers)

        def ping(timeout: float) -> bool:
            return bool(celery_app.send_task(PING).get(timeout=timeout) == "pong")

        def depth() -> dict[str, int]:
            """Messages waiting in the queue (not those a worker holds): one round trip on a pooled connection."""
            with celery_app.pool.acquire(block=True, timeout=2) as connection:
                try:
                    declared = connection.default_channel.queue_declare(queue=QUEUE, passive=True)
                except ChannelError:  # the Redis transport has no queue until something waits in it
                    return {QUEUE: 0}
            return {QUEUE: int(declared.message_count)}

        background = Background(app, "celery", send, ping, depth)
    else:
        background = Background(app, app.config.get("BACKGROUND_MODE", "embedded"))
    app.extensions["fairpeer.background"] = background
    return celery_app


def start_embedded(app: Flask) -> None:
    """Run tasks and the periodic schedule in this process (``fairpeer serve`` with no broker)."""
    every = float(app.config["SWEEP_SECONDS"])
    app.extensions["fairpeer.background"].start_embedded([(every, name) for name in periodic_task_names()])


def serve_worker_metrics(app: Flask) -> str | None:
    """With WORKER_METRICS_BIND set, put this worker's pool in multiprocess mode and serve its metrics there.

    Call it in the worker's main process before the pool forks and before any metric is recorded. The folder is
    this worker's own (never the web's): a fresh temporary one, removed when the worker exits.
    """
    bind = app.config.get("WORKER_METRICS_BIND")
    if not bind:
        return None
    token = app.config.get("METRICS_TOKEN")
    if not token:
        raise RuntimeError("FAIRPEER_WORKER_METRICS_BIND needs METRICS_TOKEN: metrics are never served without a token.")
    folder = metrics.use_multiprocess_dir(tempfile.mkdtemp(prefix="fairpeer-worker-metrics-"))
    owner = os.getpid()

    def remove_folder() -> None:
        if os.getpid() == owner:  # the pool's children inherit the hook; only the worker itself removes the folder
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove_folder)

    def forget_child(**_: Any) -> None:
        metrics.mark_process_dead(os.getpid())

    worker_process_shutdown.connect(forget_child, weak=False)
    metrics.serve_metrics(bind, token)
    return str(bind)
