"""Find work whose result is missing or older than its inputs, and enqueue it again (DESIGN.md, Nothing lost)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reviews.courses.models import Assignment
from reviews.kernel.background import enqueue
from reviews.kernel.db import utcnow
from reviews.submissions.models import ACTIVE, LEARNER_WORK, Submission

# Work younger than this is probably still in flight; leave it to the task already sent.
GRACE = timedelta(seconds=10)


def find_and_enqueue(session: Session, grace: timedelta = GRACE) -> dict[str, int]:
    cutoff = utcnow() - grace
    stale = list(
        session.scalars(
            select(Assignment.id).where(
                Assignment.inputs_changed_at.is_not(None),
                Assignment.inputs_changed_at < cutoff,
                or_(Assignment.calibrated_inputs_at.is_(None), Assignment.calibrated_inputs_at < Assignment.inputs_changed_at),
            )
        )
    )
    unchecked = list(
        session.scalars(
            select(Submission.id).where(
                Submission.similarity_checked_at.is_(None),
                Submission.kind == LEARNER_WORK,
                Submission.status == ACTIVE,
                Submission.created_at < cutoff,
            )
        )
    )
    for assignment_id in stale:
        enqueue(session, "fairpeer.recalibrate_assignment", assignment_id)
    for submission_id in unchecked:
        enqueue(session, "fairpeer.check_similarity", submission_id)
    return {"recalibrations": len(stale), "similarity_checks": len(unchecked)}
