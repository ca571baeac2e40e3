from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, url_for
from sqlalchemy import select

from reviews.accounts import services
from reviews.accounts.callers import current_user, require_admin
from reviews.accounts.models import User
from reviews.accounts.schemas import SignInLinkSchema, UserCreatedSchema
from reviews.courses.access import STAFF
from reviews.courses.models import Membership
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.errors import forbidden, not_found
from reviews.kernel.idempotency import idempotent
from reviews.kernel.ratelimit import limiter, sign_in_limit
from reviews.kernel.schemas import Email, String

blp = Blueprint("accounts", __name__, url_prefix="/api", description="Users, tokens and sign-in links")


class UserCreate(ma.Schema):
    email = Email(required=True)
    name = String(required=True, validate=ma.validate.Length(min=1, max=200))


@blp.route("/users", methods=["POST"])
@idempotent
@blp.arguments(UserCreate)
@blp.response(201, UserCreatedSchema)
def create_user(body: dict[str, Any]) -> Any:
    """Create a user (admin); the answer carries their API token, shown only this once."""
    admin = require_admin()
    user, token = services.create_user(db.session, body["email"], body["name"], actor_id=admin.id)
    return {"id": user.id, "email": user.email, "name": user.name, "token": token}


@blp.route("/users/<user_id>/sign-in-links", methods=["POST"])
@limiter.limit(sign_in_limit)
@blp.response(201, SignInLinkSchema)
def create_sign_in_link(user_id: str) -> Any:
    """A single-use, expiring sign-in link for the browser pages (admin, or staff of a course the user is in)."""
    caller = current_user()
    user = db.session.get(User, user_id)
    if user is None:
        raise not_found("That user")
    if not caller.is_admin:
        caller_courses = select(Membership.course_id).where(Membership.user_id == caller.id)
        shared_roles = set(
            db.session.scalars(
                select(Membership.role).where(
                    Membership.user_id == caller.id,
                    Membership.course_id.in_(
                        select(Membership.course_id).where(Membership.user_id == user.id, Membership.course_id.in_(caller_courses))
                    ),
                )
            )
        )
        if not shared_roles and caller.id != user.id:
            # Whether a user exists is itself private outside the courses the caller shares with them.
            raise not_found("That user")
        if STAFF not in shared_roles or user.is_admin:
            raise forbidden("Only an administrator, or staff of a course this user is in, may create their sign-in links.")
    secret, link = services.create_sign_in_link(db.session, user, current_app.config["SIGN_IN_LINK_MINUTES"], caller.id)
    db.session.commit()
    return {"url": url_for("accounts_pages.sign_in", secret=secret, _external=True), "expires_at": link.expires_at.isoformat()}
