from __future__ import annotations

from typing import Any

from reviews.accounts.callers import current_user
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.records import services
from reviews.records.schemas import RecordSchema

blp = Blueprint("records", __name__, url_prefix="/api", description="Learners' records")


@blp.route("/courses/<course_id>/learners/<user_id>/record", methods=["GET"])
@blp.response(200, RecordSchema)
def get_record(course_id: str, user_id: str) -> Any:
    """A learner's record: each project with its calibrated score and interval, reviews and attempts."""
    course, learner, own = services.visible_record(db.session, course_id, user_id, current_user())
    return services.record_json(db.session, course, learner, for_learner=own)
