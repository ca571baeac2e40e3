"""Copy detection in the service: compare a new submission with earlier ones and open cases with evidence."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.allocation.models import Exposure
from reviews.courses.models import Assignment
from reviews.kernel.db import utcnow
from reviews.moderation.services import open_case
from reviews.submissions.models import LEARNER_WORK, Submission


def _comparable_assignments(session: Session, assignment: Assignment) -> list[str]:
    """The assignment and, through its lineage, the earlier runs of the same assignment."""
    if not assignment.lineage:
        return [assignment.id]
    return list(session.scalars(select(Assignment.id).where(Assignment.lineage == assignment.lineage)))


def provenance(session: Session, viewer_id: str, submission_id: str, before: Any) -> dict[str, Any]:
    """Whether the viewer had been shown that submission before ``before``, and when first."""
    shown = session.scalar(
        select(Exposure.created_at)
        .where(Exposure.viewer_id == viewer_id, Exposure.submission_id == submission_id, Exposure.created_at <= before)
        .order_by(Exposure.created_at)
        .limit(1)
    )
    return {"shown_before_submitting": shown is not None, "first_shown_at": shown.isoformat() if shown else None}


def check_submission(session: Session, submission_id: str) -> int:
    """Open a ``similarity`` case for each earlier submission by another learner with the same normalised text."""
    submission = session.get(Submission, submission_id)
    if submission is None or submission.similarity_checked_at is not None or submission.kind != LEARNER_WORK:
        return 0
    assignment = session.get_one(Assignment, submission.assignment_id)
    matches = session.scalars(
        select(Submission)
        .where(
            Submission.assignment_id.in_(_comparable_assignments(session, assignment)),
            Submission.content_hash == submission.content_hash,
            Submission.author_id != submission.author_id,
            Submission.kind == LEARNER_WORK,
            Submission.id != submission.id,
            Submission.created_at <= submission.created_at,
        )
        .order_by(Submission.created_at, Submission.id)
    ).all()
    opened = 0
    for earlier in matches:
        evidence = {
            "score": 1.0,
            "method": "exact",
            "earlier": {"submission_id": earlier.id, "author_id": earlier.author_id, "created_at": earlier.created_at.isoformat()},
            "later": {"submission_id": submission.id, "author_id": submission.author_id, "created_at": submission.created_at.isoformat()},
            "provenance": provenance(session, submission.author_id, earlier.id, submission.created_at),
            "spans": [{"a": [0, len(earlier.text)], "b": [0, len(submission.text)]}],
        }
        open_case(
            session,
            course_id=assignment.course_id,
            assignment_id=assignment.id,
            kind="similarity",
            subject_type="submission",
            subject_ids=[earlier.id, submission.id],
            submission_id=submission.id,
            evidence=evidence,
            dedupe_key=f"similarity:{earlier.id}:{submission.id}",
        )
        opened += 1
    submission.similarity_checked_at = utcnow()
    return opened
