"""A learner's record page."""

from __future__ import annotations

from typing import Any

from flask import render_template

from reviews.accounts.callers import signed_in
from reviews.kernel.db import db
from reviews.records.services import record_json, visible_record
from reviews.web import feature_pages

bp = feature_pages("records", __name__)


@bp.route("/records/<course_id>/<user_id>")
def record(course_id: str, user_id: str) -> Any:
    course, learner, own = visible_record(db.session, course_id, user_id, signed_in())
    return render_template("records/record.html", record=record_json(db.session, course, learner, for_learner=own))
