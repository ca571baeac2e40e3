"""The learner's record: every project of a course with its calibrated score."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.courses.access import LEARNER, STAFF, require_member, role_in
from reviews.courses.models import Assignment, Course
from reviews.kernel.errors import forbidden, not_found
from reviews.records.progress import is_released_score, previous_score_json
from reviews.scoring.services import score_json
from reviews.submissions.models import Submission
from reviews.submissions.services import attempts_used, latest_submission


def visible_record(session: Session, course_id: str, user_id: str, caller: User) -> tuple[Course, User, bool]:
    """(course, learner, is the caller that learner): the learner themself and staff; another learner learns
    nothing (404), a mentor is refused (403). The API and the pages both ask this."""
    course = session.get(Course, course_id)
    if course is None:
        raise not_found("That course")
    role = require_member(course.id, caller, "That course")
    learner = session.get(User, user_id)
    if learner is None or role_in(course.id, learner) != LEARNER or learner.is_admin:
        raise not_found("That learner's record")
    if caller.id == learner.id:
        return course, learner, True
    if role == STAFF:
        return course, learner, False
    if role == LEARNER:
        raise not_found("That learner's record")
    raise forbidden("Only the learner and the course's staff may read a record.")


def record_json(session: Session, course: Course, learner: User, *, for_learner: bool) -> dict[str, Any]:
    """Each project with the attempt that counts on the record: the latest one once its score is released (or while
    no earlier attempt has a released score), otherwise the last earlier attempt whose score was released."""
    projects = []
    for assignment in session.scalars(
        select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.created_at, Assignment.id)
    ):
        latest = latest_submission(session, assignment.id, learner.id)
        shown, score = latest, score_json(session, assignment, latest, for_author=for_learner) if latest else None
        if latest is not None and not is_released_score(score):
            previous = previous_score_json(session, assignment, learner.id, latest.attempt, for_author=for_learner)
            if previous is not None:
                shown = session.get_one(Submission, previous.pop("submission_id"))
                score = {k: v for k, v in previous.items() if k != "attempt"}
        projects.append(
            {
                "assignment_id": assignment.id,
                "title": assignment.title,
                "submission_id": shown.id if shown else None,
                "attempt": shown.attempt if shown else None,
                "status": shown.status if shown else None,
                "score": score,
                "attempts": attempts_used(session, assignment.id, learner.id),
                "max_attempts": assignment.max_attempts,
            }
        )
    return {
        "learner": {"id": learner.id, "name": learner.name},
        "course": {"id": course.id, "title": course.title, "slug": course.slug},
        "projects": projects,
    }
