"""Roles in a course, and what a role may see: the one rule the API and the pages both call."""

from __future__ import annotations

from sqlalchemy import select

from reviews.accounts.models import User
from reviews.courses.models import Membership
from reviews.kernel.db import db
from reviews.kernel.errors import forbidden, not_found

LEARNER, MENTOR, STAFF = "learner", "mentor", "staff"
ROLES = (LEARNER, MENTOR, STAFF)


def role_in(course_id: str, user: User) -> str | None:
    """The user's role in the course, or None when they are not a member (admins count as staff)."""
    if user.is_admin:
        return STAFF
    return db.session.scalar(select(Membership.role).where(Membership.course_id == course_id, Membership.user_id == user.id))


def require_member(course_id: str, user: User, what: str = "That") -> str:
    """The caller's role; a non-member learns nothing, not even that the object exists (404)."""
    role = role_in(course_id, user)
    if role is None:
        raise not_found(what)
    return role


def require_role(course_id: str, user: User, allowed: tuple[str, ...], what: str = "That", action: str = "do this") -> str:
    role = require_member(course_id, user, what)
    if role not in allowed:
        names = " or ".join(allowed)
        raise forbidden(f"Only {names} of this course may {action}.")
    return role
