"""The Celery app, built the way Flask's own Celery pattern does it: every task runs in the app context.

The tasks themselves live beside their features (``reviews/<feature>/tasks.py``, declared with
``reviews.kernel.background.task``); this module registers each on Celery under its own name.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from flask import Flask

from reviews.kernel import logs
from reviews.kernel.background import PING, Background, registered_tasks
from reviews.kernel.background import Task as BackgroundTask
from reviews.kernel.db import db

log = logging.getLogger(__name__)


def periodic_task_names() -> list[str]:
    return sorted(name for name, spec in registered_tasks().items() if spec.periodic)


def _register(celery_app: Celery, spec: BackgroundTask) -> None:
    def run(self: Task, *args: Any) -> Any:
        try:
            return spec.run(*args)
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
            try:
                with app.app_context():
                    return self.run(*args, **kwargs)
            finally:
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
        task_default_queue="fairpeer",
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
            celery_app.send_task(name, args=list(args), countdown=countdown)

        def ping(timeout: float) -> bool:
            return bool(celery_app.send_task(PING).get(timeout=timeout) == "pong")

        background = Background(app, "celery", send, ping)
    else:
        background = Background(app, app.config.get("BACKGROUND_MODE", "embedded"))
    app.extensions["fairpeer.background"] = background
    return celery_app


def start_embedded(app: Flask) -> None:
    """Run tasks and the periodic schedule in this process (``fairpeer serve`` with no broker)."""
    every = float(app.config["SWEEP_SECONDS"])
    app.extensions["fairpeer.background"].start_embedded([(every, name) for name in periodic_task_names()])
