"""The home page: a person's courses, each assignment with their next step, and the queue for mentors and staff."""

from __future__ import annotations

from typing import Any

from flask import render_template
from sqlalchemy import func, select

from reviews.accounts.callers import course_scope, current_user_or_none
from reviews.accounts.models import User
from reviews.courses.access import LEARNER, MENTOR, STAFF
from reviews.courses.models import Assignment, Course, Membership
from reviews.kernel.db import db
from reviews.moderation.models import OPEN, Case
from reviews.records.progress import progress_json
from reviews.web import feature_pages

bp = feature_pages("courses", __name__)


@bp.route("/")
def home() -> Any:
    user = current_user_or_none()
    if user is None:
        return render_template("web/signed_out.html")
    mine = select(Course, Membership.role).join(Membership, Membership.course_id == Course.id).where(Membership.user_id == user.id)
    scope = course_scope(user)
    if scope is not None:  # a session from a staff member's link shows only that course
        mine = mine.where(Course.id == scope)
    rows = db.session.execute(mine.order_by(Course.title)).all()
    course_ids = [course.id for course, _ in rows]
    # Every course's assignments and open cases in one query each, however many courses and learners there are.
    assignments: dict[str, list[Assignment]] = {course_id: [] for course_id in course_ids}
    for assignment in db.session.scalars(
        select(Assignment).where(Assignment.course_id.in_(course_ids)).order_by(Assignment.created_at, Assignment.id)
    ):
        assignments[assignment.course_id].append(assignment)
    open_cases: dict[str, int] = dict(
        db.session.execute(
            select(Case.course_id, func.count(Case.id)).where(Case.course_id.in_(course_ids), Case.status == OPEN).group_by(Case.course_id)
        )
        .tuples()
        .all()
    )
    courses = []
    for course, role in rows:
        entry: dict[str, Any] = {
            "course": course,
            "role": role,
            "assignments": [{"assignment": a, "next_step": _next_step(a, user, role)} for a in assignments[course.id]],
        }
        if role in (MENTOR, STAFF):
            entry["open_cases"] = open_cases.get(course.id, 0)
        courses.append(entry)
    return render_template("courses/home.html", courses=courses)


def _next_step(assignment: Assignment, user: User, role: str) -> str:
    if role != LEARNER:
        return "Manage" if role == STAFF else "Mentor"
    progress = progress_json(db.session, assignment, user.id)
    if progress["submission"] is None:
        return "Submit your work"
    if progress["reviews_owed"]:
        return f"Review {progress['reviews_owed']} more"
    return "Read your reviews" if progress["score"] and progress["score"].get("released") else "Wait for your score"
