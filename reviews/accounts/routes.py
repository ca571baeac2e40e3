from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, url_for
from sqlalchemy import select

from reviews.accounts import services
from reviews.accounts.callers import current_user, require_admin
from reviews.accounts.models import User
from reviews.accounts.schemas import SignInLinkSchema, TokenIssuedSchema, UserCreatedSchema
from reviews.courses.access import LEARNER, MENTOR, STAFF, membership_role
from reviews.courses.models import Membership
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.errors import forbidden, invalid, not_found
from reviews.kernel.idempotency import KEY_REUSED, idempotent
from reviews.kernel.ratelimit import limiter, sign_in_limit
from reviews.kernel.schemas import Email, String

blp = Blueprint("accounts", __name__, url_prefix="/api", description="Users, tokens and sign-in links")


def _not_blank(text: str) -> None:
    if not text.strip():
        raise ma.ValidationError("Give the person's name.")


class UserCreate(ma.Schema):
    """A new user (POST /api/users, and the administrators' page)."""

    email = Email(
        required=True, error_messages={"required": "Give an email address.", "invalid": "Give an email address like name@example.org."}
    )
    name = String(
        required=True,
        validate=[ma.validate.Length(max=200, error="Give a name of at most 200 characters."), _not_blank],
        error_messages={"required": "Give the person's name."},
    )
    is_admin = ma.fields.Boolean(load_default=False, metadata={"description": "An administrator (every course, every user)."})


class SignInLinkQuery(ma.Schema):
    course_id = String(
        load_default=None,
        metadata={
            "description": "The course the link's session is limited to; staff may leave it out when the user is a "
            "learner in only one of their courses."
        },
    )


class ScopedSignInLinkSchema(SignInLinkSchema):
    course_id = String(
        required=True,
        allow_none=True,
        metadata={"description": "The one course the session begun from this link may see; null: every course of the user's."},
    )


@blp.route("/users", methods=["POST"])
@idempotent
@blp.arguments(UserCreate)
@blp.response(201, UserCreatedSchema)
@blp.refusals(409, conflict="A user with that email exists already.")
@blp.refusals(409, conflict=KEY_REUSED)
def create_user(body: dict[str, Any]) -> Any:
    """Create a user (admin); ``is_admin`` makes them an administrator. The answer carries their API token, shown
    only this once."""
    admin = require_admin()
    user, token = services.create_user(db.session, body["email"], body["name"], is_admin=body["is_admin"], actor_id=admin.id)
    return {"id": user.id, "email": user.email, "name": user.name, "token": token}


@blp.route("/users/<user_id>/token", methods=["POST"])
@blp.response(201, TokenIssuedSchema)
@blp.refusals(403, forbidden="Only an administrator, or the user themself, may issue a user's new token.")
@blp.refusals(404, not_found="No user has that id.")
def issue_token(user_id: str) -> Any:
    """A new API token for the user (an administrator for anyone; a user for themself, to replace a token that
    leaked). Every earlier token of theirs stops working at once, and their page sessions end.

    Not idempotent: each call issues another token and voids the one before, so a lost answer is mended by
    calling again (an administrator), or by asking an administrator or `fairpeer users token` (a user whose
    own token this call voided).
    """
    caller = current_user()
    if not caller.is_admin and caller.id != user_id:
        raise forbidden("Only an administrator, or the user themself, may issue a user's new token.")
    user = db.session.get(User, user_id)
    if user is None:
        raise not_found("That user")
    token = services.replace_token(db.session, user, caller.id)
    db.session.commit()
    return {"id": user.id, "email": user.email, "token": token}


@blp.route("/users/<user_id>/sign-in-links", methods=["POST"])
@limiter.limit(sign_in_limit)
@blp.arguments(SignInLinkQuery, location="query", as_kwargs=True)
@blp.response(201, ScopedSignInLinkSchema)
@blp.refusals(422, invalid_request="Staff left out course_id and the user is a learner in more than one of their courses.")
@blp.refusals(429, rate_limited="Too many sign-in links in a short time (RATE_LIMIT_SIGN_IN); details.retry_after says when to retry.")
def create_sign_in_link(user_id: str, course_id: str | None = None) -> Any:
    """A single-use, expiring sign-in link for the browser pages.

    An admin's link opens every course of the user's (or only ``course_id``, when given). Staff get links only for
    learners of a course they are staff of, and the session such a link begins sees only that course. Links for
    administrators, mentors and staff are for administrators to make.
    """
    caller = current_user()
    user = db.session.get(User, user_id)
    if user is None:
        raise not_found("That user")
    if caller.is_admin:
        if course_id is not None and membership_role(course_id, user.id) is None:
            raise not_found("That course")
        scope = course_id
    else:
        scope = _staff_link_course(caller, user, course_id)
    secret, link = services.create_sign_in_link(db.session, user, current_app.config["SIGN_IN_LINK_MINUTES"], caller.id, scope)
    db.session.commit()
    return {
        "url": url_for("accounts_pages.sign_in", secret=secret, _external=True),
        "expires_at": link.expires_at.isoformat(),
        "course_id": scope,
    }


def _staff_link_course(caller: User, user: User, course_id: str | None) -> str:
    """The course a staff member's link for ``user`` is limited to, or the refusal."""
    caller_roles, user_roles = _roles(caller.id), _roles(user.id)
    shared = caller_roles.keys() & user_roles.keys()
    if not shared and caller.id != user.id:
        # Whether a user exists is itself private outside the courses the caller shares with them.
        raise not_found("That user")
    if user.is_admin or MENTOR in user_roles.values() or STAFF in user_roles.values():
        raise forbidden(
            "Only an administrator may create sign-in links for administrators, mentors and staff: ask one, "
            "or run `fairpeer users link` on the server."
        )
    courses = sorted(c for c in shared if caller_roles[c] == STAFF and user_roles[c] == LEARNER)
    if not courses or (course_id is not None and course_id not in courses):
        raise forbidden("Only an administrator, or staff of a course this user is a learner in, may create their sign-in links.")
    if course_id is None and len(courses) > 1:
        raise invalid(
            {"course_id": ["This user is a learner in more than one of your courses: name the course the link is for."]},
            "Name the course the sign-in link is for (course_id).",
        )
    return course_id or courses[0]


def _roles(user_id: str) -> dict[str, str]:
    """The user's role in each of their courses."""
    return dict(db.session.execute(select(Membership.course_id, Membership.role).where(Membership.user_id == user_id)).tuples().all())
