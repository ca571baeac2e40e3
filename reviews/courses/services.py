"""Courses, members and assignments."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.accounts.callers import course_scope
from reviews.accounts.models import User
from reviews.courses.access import STAFF, outside_scope
from reviews.courses.models import Assignment, Course, Membership
from reviews.kernel import audit
from reviews.kernel.errors import DomainError, forbidden, invalid, not_found


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:100] or "course"


def create_course(session: Session, title: str, slug: str | None, actor_id: str) -> Course:
    slug = slugify(slug or title)
    if session.scalar(select(Course.id).where(Course.slug == slug)) is not None:
        raise DomainError("conflict", f"A course with slug '{slug}' exists already. Choose another slug.")
    course = Course(title=title.strip(), slug=slug)
    session.add(course)
    session.flush()
    audit.record(session, course.id, actor_id, "course.created", f"course:{course.id}", title=course.title)
    return course


def add_member(session: Session, course: Course, user_id: str, role: str, actor_id: str) -> Membership:
    """Add a member or change their role (one role per course)."""
    if session.get(User, user_id) is None:
        raise invalid({"user_id": ["No such user."]}, "The user_id does not name a user. Create the user first.")
    membership = session.scalar(select(Membership).where(Membership.course_id == course.id, Membership.user_id == user_id))
    previous = membership.role if membership else None
    if membership is None:
        membership = Membership(course_id=course.id, user_id=user_id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    audit.record(session, course.id, actor_id, "member.role_set", f"user:{user_id}", role=role, previous=previous)
    return membership


def validate_assignment_settings(data: dict[str, Any]) -> None:
    criteria = data["rubric"]["criteria"]
    keys = [c["key"] for c in criteria]
    if len(set(keys)) != len(keys):
        raise invalid({"rubric": ["Criterion keys must be unique."]}, "Two rubric criteria share a key; give each its own.")
    needed = data["reviews_to_give"] * (1 - data["calibration_share"])
    if needed + 1e-9 < data["reviews_required"]:
        raise invalid(
            {
                "reviews_to_give": [
                    f"reviews_to_give x (1 - calibration_share) = {needed:g} < reviews_required = {data['reviews_required']}."
                ]
            },
            "These settings cannot supply the peer reviews they demand: raise reviews_to_give, lower calibration_share "
            "or lower reviews_required.",
        )
    if data.get("due_at") and data.get("review_due_at") and data["review_due_at"] < data["due_at"]:
        raise invalid(
            {"review_due_at": ["Must not be before due_at."]}, "The review deadline must not come before the submission deadline."
        )


def create_assignment(session: Session, course: Course, data: dict[str, Any], actor_id: str) -> Assignment:
    validate_assignment_settings(data)
    assignment = Assignment(course_id=course.id, **data)
    session.add(assignment)
    session.flush()
    audit.record(session, course.id, actor_id, "assignment.created", f"assignment:{assignment.id}", title=assignment.title)
    return assignment


def get_assignment(session: Session, assignment_id: str) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise not_found("That assignment")
    return assignment


def get_assignment_for(session: Session, assignment_id: str, user: User, allowed: tuple[str, ...], action: str) -> tuple[Assignment, str]:
    """The assignment and the caller's role in its course, in one round trip (the claim path is hot).

    Not a member: 404, as if it did not exist. A member whose role may not ``action``: 403.
    """
    row = session.execute(
        select(Assignment, Membership.role)
        .outerjoin(Membership, (Membership.course_id == Assignment.course_id) & (Membership.user_id == user.id))
        .where(Assignment.id == assignment_id)
    ).one_or_none()
    if row is None:
        raise not_found("That assignment")
    assignment, role = row
    if outside_scope(assignment.course_id, user):
        raise not_found("That assignment")
    if user.is_admin and course_scope(user) is None:
        role = STAFF
    if role is None:
        raise not_found("That assignment")
    if role not in allowed:
        raise forbidden(f"Only {' or '.join(allowed)} of this course may {action}.")
    return assignment, role


def assignment_json(assignment: Assignment, role: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": assignment.id,
        "course_id": assignment.course_id,
        "title": assignment.title,
        "prompt": assignment.prompt,
        "template": assignment.template,
        "rubric": assignment.rubric,
        "reviews_required": assignment.reviews_required,
        "reviews_to_give": assignment.reviews_to_give,
        "max_attempts": assignment.max_attempts,
        "attempt_cooldown_hours": assignment.attempt_cooldown_hours,
        "min_words": assignment.min_words,
        "due_at": assignment.due_at.isoformat() if assignment.due_at else None,
        "review_due_at": assignment.review_due_at.isoformat() if assignment.review_due_at else None,
        "created_at": assignment.created_at.isoformat(),
    }
    if role == STAFF:
        # Whether calibration samples are mixed in, and how many, is for staff only.
        out["calibration_share"] = assignment.calibration_share
        out["lineage"] = assignment.lineage
        out["released_at"] = assignment.released_at.isoformat() if assignment.released_at else None
    return out
