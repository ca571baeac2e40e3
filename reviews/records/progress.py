"""A learner's progress on one assignment: their latest attempt, reviews given and owed, their score."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from reviews.allocation.services import reviews_given
from reviews.courses.models import Assignment
from reviews.scoring.services import score_json
from reviews.submissions.services import attempts_used, latest_submission


def progress_json(session: Session, assignment: Assignment, learner_id: str) -> dict[str, Any]:
    latest = latest_submission(session, assignment.id, learner_id)
    given = reviews_given(session, assignment.id, learner_id)
    return {
        "submission": None
        if latest is None
        else {"id": latest.id, "attempt": latest.attempt, "status": latest.status, "created_at": latest.created_at.isoformat()},
        "attempts": attempts_used(session, assignment.id, learner_id),
        "max_attempts": assignment.max_attempts,
        "reviews_given": given,
        "reviews_owed": max(0, assignment.reviews_to_give - given),
        "score": None if latest is None else score_json(session, assignment, latest, for_author=True),
    }
