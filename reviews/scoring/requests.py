"""Asking for a recalibration: debounced, so that a burst of reviews gives one run (or two), not one per review."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from reviews.courses.models import Assignment
from reviews.kernel.background import enqueue
from reviews.kernel.db import utcnow

# A request older than this whose run never came (its message was lost) no longer blocks new requests;
# the sweep would catch it anyway.
STALE_REQUEST = timedelta(minutes=5)


def request_recalibration(session: Session, assignment_id: str, debounce_seconds: float) -> bool:
    """Mark the assignment's inputs changed and, unless a run is already pending, enqueue one after the
    debounce delay. Returns whether a run was enqueued. The run clears the pending mark when it starts, so
    inputs that arrive during a run get exactly one more run."""
    now = utcnow()
    session.execute(update(Assignment).where(Assignment.id == assignment_id).values(inputs_changed_at=now))
    claimed = session.execute(
        update(Assignment)
        .where(
            Assignment.id == assignment_id,
            or_(Assignment.recalibration_requested_at.is_(None), Assignment.recalibration_requested_at < now - STALE_REQUEST),
        )
        .values(recalibration_requested_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    enqueue(session, "fairpeer.recalibrate_assignment", assignment_id, countdown=debounce_seconds or None)
    return True
