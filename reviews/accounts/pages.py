"""Signing in to the pages with a sign-in link, and signing out; the administrators' user pages."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, make_response, redirect, render_template, request, session, url_for

from reviews.accounts import services
from reviews.accounts.callers import SESSION_KEY, signed_in
from reviews.accounts.models import User
from reviews.accounts.routes import UserCreate
from reviews.accounts.services import end_web_session, redeem_sign_in_link, start_web_session
from reviews.courses.access import LEARNER, MENTOR, STAFF, membership_role, roles_anywhere
from reviews.kernel.db import db
from reviews.kernel.errors import forbidden, not_found
from reviews.kernel.ratelimit import limiter, sign_in_limit
from reviews.web import check_csrf, feature_pages, forms

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
    kept = forms.carry_drafts()  # a form kept while signed out comes back after signing in again
    session.clear()
    session[SESSION_KEY] = web_secret
    forms.restore_drafts(kept)
    return redirect(forms.pending_path() or url_for("courses_pages.home"))


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    check_csrf()
    secret = session.get(SESSION_KEY)
    if isinstance(secret, str) and secret:
        end_web_session(db.session, secret)
        db.session.commit()
    session.clear()
    return redirect(url_for("courses_pages.home"))


# Administrators' user pages. A new API token or sign-in link is shown once: kept in the signed session cookie of
# the administrator's browser until the next page shows it (never in a URL, which would reach logs and history).
SHOWN_ONCE = "accounts_shown_once"
USERS_PER_PAGE = 25
CREATE_FORM = "create-user"
USER_ACTIONS = "user-actions"


def _admin() -> User:
    user = signed_in()
    if not user.is_admin:
        raise forbidden("Only an administrator may manage users.")
    return user


def _user(user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise not_found("That user")
    return user


def _users_url() -> str:
    return forms.safe_back(request.form.get("back"), url_for("accounts_pages.admin_users"))


def _show_once(kind: str, user: User, secret: str) -> None:
    session[SHOWN_ONCE] = {"kind": kind, "user_id": user.id, "email": user.email, "name": user.name, "secret": secret}


@bp.route("/admin/users")
def admin_users() -> Any:
    _admin()
    text = request.args.get("q", "").strip()[:320]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    users, total = services.search_users(db.session, text, page, USERS_PER_PAGE)
    pages = max(1, -(-total // USERS_PER_PAGE))
    shown = session.pop(SHOWN_ONCE, None)
    body = render_template(
        "accounts/admin_users.html",
        users=users,
        total=total,
        text=text,
        page=page,
        pages=pages,
        first=(page - 1) * USERS_PER_PAGE + 1,
        shown=shown if isinstance(shown, dict) else None,
        link_hours=current_app.config["SIGN_IN_LINK_MINUTES"] // 60,
    )
    response = make_response(body)
    # The page may carry a token or a sign-in link: no cache keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/users", methods=["POST"])
def create_user() -> Any:
    check_csrf()
    admin = _admin()
    back = _users_url()
    try:
        body = UserCreate().load(
            {"email": request.form.get("email", "").strip(), "name": request.form.get("name", ""), "is_admin": "is_admin" in request.form}
        )
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
        return forms.keep_form(CREATE_FORM, back, {name: list(m) for name, m in messages.items()})

    def work() -> None:
        user, token = services.create_user(db.session, body["email"], body["name"], is_admin=body["is_admin"], actor_id=admin.id)
        _show_once("created", user, token)

    return forms.submit_form(CREATE_FORM, back, work, done=f"{body['name'].strip()} can now be added to courses.")


@bp.route("/admin/users/<user_id>/token", methods=["POST"])
def issue_token(user_id: str) -> Any:
    check_csrf()
    admin = _admin()
    user = _user(user_id)

    def work() -> None:
        token = services.replace_token(db.session, user, admin.id)
        if user.id == admin.id:
            # A new token ends every page session of its user; this browser, the one asking, signs in afresh.
            session[SESSION_KEY] = start_web_session(db.session, admin.id, None, current_app.config["WEB_SESSION_HOURS"])
        _show_once("token", user, token)

    return forms.submit_form(USER_ACTIONS, _users_url(), work, done=f"{user.name} has a new API token; their old one no longer works.")


@bp.route("/admin/users/<user_id>/sign-in-link", methods=["POST"])
def sign_in_link(user_id: str) -> Any:
    check_csrf()
    admin = _admin()
    user = _user(user_id)

    def work() -> None:
        secret, _ = services.create_sign_in_link(db.session, user, current_app.config["SIGN_IN_LINK_MINUTES"], admin.id)
        _show_once("link", user, url_for("accounts_pages.sign_in", secret=secret, _external=True))

    return forms.submit_form(USER_ACTIONS, _users_url(), work, done=f"A sign-in link for {user.name} is ready.")
