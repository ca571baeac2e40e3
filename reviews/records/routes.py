from __future__ import annotations

from typing import Any

from reviews.accounts.models import User
from reviews.courses.models import Course
from reviews.kernel.api import Blueprint
from reviews.kernel.auth import LEARNER, STAFF, current_user, require_member, role_in
from reviews.kernel.db import db
from reviews.kernel.errors import forbidden, not_found
from reviews.records import services

blp = Blueprint("records", __name__, url_prefix="/api", description="Learners' records")


def visible_record(course_id: str, user_id: str) -> tuple[Course, User, bool]:
    """The learner themself and staff; another learner learns nothing (404), a mentor is refused (403)."""
    caller = current_user()
    course = db.session.get(Course, course_id)
    if course is None:
        raise not_found("That course")
    role = require_member(course.id, caller, "That course")
    learner = db.session.get(User, user_id)
    if learner is None or role_in(course.id, learner) != LEARNER or learner.is_admin:
        raise not_found("That learner's record")
    if caller.id == learner.id:
        return course, learner, True
    if role == STAFF:
        return course, learner, False
    if role == LEARNER:
        raise not_found("That learner's record")
    raise forbidden("Only the learner and the course's staff may read a record.")


@blp.route("/courses/<course_id>/learners/<user_id>/record", methods=["GET"])
@blp.response(200)
def get_record(course_id: str, user_id: str) -> Any:
    """A learner's record: each project with its calibrated score and interval, reviews and attempts."""
    course, learner, own = visible_record(course_id, user_id)
    return services.record_json(db.session, course, learner, for_learner=own)
