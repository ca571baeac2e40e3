"""Roles in a course, and what a role may see: the one rule the API and the pages both call.

A page session begun from a staff member's sign-in link is limited to that course (``accounts.callers``): here,
and so everywhere, its user has no role in any other course, and no administrator's rights.
"""

from __future__ import annotations

from sqlalchemy import select

from reviews.accounts.callers import course_scope
from reviews.accounts.models import User
from reviews.courses.models import Membership
from reviews.kernel.db import db
from reviews.kernel.errors import forbidden, not_found

LEARNER, MENTOR, STAFF = "learner", "mentor", "staff"
ROLES = (LEARNER, MENTOR, STAFF)


def outside_scope(course_id: str, user: User) -> bool:
    """True when the caller's page session is limited to another course than ``course_id``."""
    scope = course_scope(user)
    return scope is not None and scope != course_id


def require_in_scope(course_id: str, user: User, what: str = "That") -> None:
    """404 for an object of a course that the caller's course-limited page session may not see."""
    if outside_scope(course_id, user):
        raise not_found(what)


def role_in(course_id: str, user: User) -> str | None:
    """The user's role in the course, or None when they are not a member (admins count as staff, except through a
    course-limited page session, which sees its one course with the user's own role there)."""
    scope = course_scope(user)
    if scope is not None and scope != course_id:
        return None
    if user.is_admin and scope is None:
        return STAFF
    return membership_role(course_id, user.id)


def membership_role(course_id: str, user_id: str) -> str | None:
    """The role the user was given in the course (no admin's rights, no session's limit), or None."""
    return db.session.scalar(select(Membership.role).where(Membership.course_id == course_id, Membership.user_id == user_id))


def roles_anywhere(user_id: str) -> set[str]:
    """Every role the user holds in any course."""
    return set(db.session.scalars(select(Membership.role).where(Membership.user_id == user_id).distinct()))


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
