"""Signing in to the pages with a sign-in link, and signing out."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, session, url_for

from reviews.accounts.services import redeem_sign_in_link
from reviews.kernel.db import db
from reviews.kernel.ratelimit import limiter, sign_in_limit
from reviews.web import check_csrf, feature_pages

bp = feature_pages("accounts", __name__)


@bp.route("/sign-in/<secret>")
@limiter.limit(sign_in_limit)
def sign_in(secret: str) -> Any:
    user = redeem_sign_in_link(db.session, secret)
    if user is None:
        db.session.rollback()
        return render_template("web/error.html", status=400, message="This sign-in link is used or expired. Ask for a new one."), 400
    db.session.commit()
    session.clear()
    session["user_id"] = user.id
    return redirect(url_for("courses_pages.home"))


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    check_csrf()
    session.clear()
    return redirect(url_for("courses_pages.home"))
