"""Find work whose result is missing or older than its inputs, and enqueue it again (docs/design.md, Nothing lost)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from reviews.allocation.models import Review
from reviews.courses.models import Assignment
from reviews.integrity.tasks import check_similarity
from reviews.kernel.background import enqueue
from reviews.kernel.db import utcnow
from reviews.scoring.tasks import recalibrate_assignment
from reviews.submissions.models import ACTIVE, LEARNER_WORK, Submission

# Work younger than this is probably still in flight; leave it to the task already sent.
GRACE = timedelta(seconds=10)


def requeue_lost_work(session: Session, grace: timedelta = GRACE) -> dict[str, int]:
    cutoff = utcnow() - grace
    stale = list(
        session.scalars(
            select(Assignment.id).where(
                or_(
                    # A change other than a new review, not yet calibrated...
                    and_(
                        Assignment.inputs_changed_at.is_not(None),
                        Assignment.inputs_changed_at < cutoff,
                        or_(Assignment.calibrated_inputs_at.is_(None), Assignment.calibrated_inputs_at < Assignment.inputs_changed_at),
                    ),
                    # ...or reviews the latest run did not count (older than the grace period, so not in flight).
                    select(func.count(Review.id)).where(Review.assignment_id == Assignment.id, Review.created_at < cutoff).scalar_subquery()
                    > Assignment.calibrated_review_count,
                ),
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
        enqueue(session, recalibrate_assignment, assignment_id)
    for submission_id in unchecked:
        enqueue(session, check_similarity, submission_id)
    return {"recalibrations": len(stale), "similarity_checks": len(unchecked)}
