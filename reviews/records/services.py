"""The learner's record: every project of a course with its calibrated score."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.courses.models import Assignment, Course
from reviews.scoring.services import score_json
from reviews.submissions.services import attempts_used, latest_submission


def record_json(session: Session, course: Course, learner: User, *, for_learner: bool) -> dict[str, Any]:
    projects = []
    for assignment in session.scalars(
        select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.created_at, Assignment.id)
    ):
        latest = latest_submission(session, assignment.id, learner.id)
        projects.append(
            {
                "assignment_id": assignment.id,
                "title": assignment.title,
                "submission_id": latest.id if latest else None,
                "status": latest.status if latest else None,
                "score": score_json(session, assignment, latest, for_author=for_learner) if latest else None,
                "attempts": attempts_used(session, assignment.id, learner.id),
                "max_attempts": assignment.max_attempts,
            }
        )
    return {
        "learner": {"id": learner.id, "name": learner.name},
        "course": {"id": course.id, "title": course.title, "slug": course.slug},
        "projects": projects,
    }
