"""Signing in to the pages with a sign-in link, and signing out."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, session, url_for

from reviews.accounts.callers import SESSION_KEY
from reviews.accounts.models import User
from reviews.accounts.services import end_web_session, redeem_sign_in_link, start_web_session
from reviews.courses.access import LEARNER, MENTOR, STAFF, membership_role, roles_anywhere
from reviews.kernel.db import db
from reviews.kernel.ratelimit import limiter, sign_in_limit
from reviews.web import check_csrf, feature_pages

bp = feature_pages("accounts", __name__)

USED_OR_EXPIRED = "This sign-in link is used or expired. Ask for a new one."


def _may_use_course_link(user: User, course_id: str) -> bool:
    """A staff member's link still fits its user: a learner of the course, and no admin, mentor or staff anywhere
    (the rule it was minted under, asked again: a role given since then voids it)."""
    return not user.is_admin and membership_role(course_id, user.id) == LEARNER and not roles_anywhere(user.id) & {MENTOR, STAFF}


@bp.route("/sign-in/<secret>")
@limiter.limit(sign_in_limit)
def sign_in(secret: str) -> Any:
    link = redeem_sign_in_link(db.session, secret)
    user = db.session.get(User, link.user_id) if link is not None else None
    if link is None or user is None or (link.course_id is not None and not _may_use_course_link(user, link.course_id)):
        db.session.rollback()
        return render_template("web/error.html", status=400, message=USED_OR_EXPIRED), 400
    previous = session.get(SESSION_KEY)
    if isinstance(previous, str) and previous:
        end_web_session(db.session, previous)
    web_secret = start_web_session(db.session, user.id, link.course_id, current_app.config["WEB_SESSION_HOURS"])
    db.session.commit()
    session.clear()
    session[SESSION_KEY] = web_secret
    return redirect(url_for("courses_pages.home"))


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    check_csrf()
    secret = session.get(SESSION_KEY)
    if isinstance(secret, str) and secret:
        end_web_session(db.session, secret)
        db.session.commit()
    session.clear()
    return redirect(url_for("courses_pages.home"))
