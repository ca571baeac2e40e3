"""Asking for a recalibration: debounced, so that a burst of reviews gives one run (or two), not one per review.

The debounce lives outside the database (Redis in production, this process otherwise): marking "a run is
pending" on the assignment row would make every review of an assignment wait for every other one's commit.
Nothing is lost if a mark outlives a lost message: the sweep compares the reviews an assignment has with the
ones its last run counted, and enqueues the run itself.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from reviews.courses.models import Assignment
from reviews.kernel.background import enqueue
from reviews.kernel.db import utcnow
from reviews.scoring.tasks import recalibrate_assignment

logger = logging.getLogger(__name__)
_local_marks: dict[str, float] = {}
_local_lock = threading.Lock()


def first_in_window(key: str, seconds: float) -> bool:
    """True for the first caller per ``key`` within ``seconds`` (shared by every process when Redis is configured).

    Each process remembers until when a mark it saw (its own or another's, by its remaining time to live) lasts,
    and asks Redis again only after that: one round trip per window and process, not one per review.
    """
    if seconds <= 0:
        return True
    now = time.monotonic()
    redis_url = current_app.config.get("REDIS_URL")
    with _local_lock:
        if _local_marks.get(key, 0.0) > now:
            return False
        if not redis_url:
            _local_marks[key] = now + seconds
            return True
    client = current_app.extensions.get("fairpeer.redis")
    if client is None:
        client = current_app.extensions["fairpeer.redis"] = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    name = f"fairpeer:debounce:{key}"
    pipe = client.pipeline(transaction=False)
    pipe.set(name, "1", nx=True, px=max(1, int(seconds * 1000)))
    pipe.pttl(name)
    try:
        first, ttl_ms = pipe.execute()
    except redis.RedisError:
        # Redis is down: ask for the run anyway. The review still commits; if the broker (Redis too) cannot
        # take the message, the sweep enqueues the run later.
        logger.warning("debounce unavailable (Redis unreachable); requesting the recalibration without it")
        return True
    if ttl_ms and ttl_ms > 0:
        with _local_lock:
            _local_marks[key] = now + ttl_ms / 1000
    return bool(first)


def request_recalibration(session: Session, assignment_id: str, debounce_seconds: float, *, inputs_changed: bool = False) -> bool:
    """Enqueue a recalibration after the debounce delay unless one is already pending; returns whether one was.

    ``inputs_changed`` marks the assignment row for changes other than new reviews (a discounted review, a replaced
    attempt, a staff grade): those are rare, and new reviews are counted instead.
    """
    if inputs_changed:
        session.execute(update(Assignment).where(Assignment.id == assignment_id).values(inputs_changed_at=utcnow()))
    if current_app.extensions["fairpeer.background"].mode == "inline":
        debounce_seconds = 0  # inline work runs at once, in order: there is no later run to wait for
    if not first_in_window(f"recalibrate:{assignment_id}", debounce_seconds):
        return False
    enqueue(session, recalibrate_assignment, assignment_id, countdown=debounce_seconds or None)
    return True
