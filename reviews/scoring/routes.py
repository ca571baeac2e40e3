from __future__ import annotations

import csv
import io
from typing import Any

import marshmallow as ma
from flask import Response, current_app
from sqlalchemy import select

from reviews.accounts.callers import current_user
from reviews.accounts.models import User
from reviews.courses.access import STAFF, require_role
from reviews.courses.rubric import SCORES_RULE, validate_scores
from reviews.courses.services import get_assignment
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.idempotency import KEY_REUSED, idempotent
from reviews.kernel.schemas import ScoresField, String
from reviews.moderation import actions
from reviews.scoring import services
from reviews.scoring.recalibration import request_recalibration
from reviews.scoring.schemas import ReleaseSchema, StaffGradeSchema
from reviews.submissions.models import LEARNER_WORK, Submission
from reviews.submissions.services import get_visible_submission

blp = Blueprint("scoring", __name__, url_prefix="/api", description="Scores: staff grades, release, export")


class StaffGradeCreate(ma.Schema):
    scores = ScoresField(required=True)
    note = String(load_default="", validate=ma.validate.Length(max=20_000))


@blp.route("/submissions/<submission_id>/staff-grade", methods=["POST"])
@idempotent
@blp.arguments(StaffGradeCreate)
@blp.response(201, StaffGradeSchema)
@blp.refusals(422, invalid_request=SCORES_RULE)
@blp.refusals(409, conflict=KEY_REUSED)
def staff_grade(body: dict[str, Any], submission_id: str) -> Any:
    """Grade a submission as staff; from then on this is its score."""
    caller = current_user()
    submission, _role = get_visible_submission(db.session, submission_id, caller)
    assignment = get_assignment(db.session, submission.assignment_id)
    require_role(assignment.course_id, caller, (STAFF,), "That submission", "give staff grades")
    scores = validate_scores(assignment, body["scores"])
    grade = services.give_staff_grade(db.session, submission, caller.id, scores, body["note"], assignment.course_id)
    actions.staff_grade_given(db.session, submission, caller)
    request_recalibration(db.session, assignment.id, current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"], inputs_changed=True)
    return {
        "id": grade.id,
        "submission_id": submission.id,
        "score": services.score_json(db.session, assignment, submission, for_author=False),
    }


@blp.route("/assignments/<assignment_id>/release", methods=["POST"])
@blp.response(200, ReleaseSchema)
def release(assignment_id: str) -> Any:
    """Release every computed score of the assignment now (staff)."""
    caller = current_user()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, caller, (STAFF,), "That assignment", "release scores")
    services.release_assignment(db.session, assignment, caller.id)
    db.session.commit()
    return {"id": assignment.id, "released_at": assignment.released_at.isoformat() if assignment.released_at else None}


@blp.route("/assignments/<assignment_id>/scores.csv", methods=["GET"])
@blp.response(
    200,
    {"type": "string"},
    content_type="text/csv",
    description="Per learner: learner_id, email, name, submission_id, attempt, status, score, low, high, max, reviews, method, released.",
)
def scores_csv(assignment_id: str) -> Any:
    """One row per learner: latest attempt, score, interval, reviews, method (staff)."""
    caller = current_user()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, caller, (STAFF,), "That assignment", "export scores")
    rows = db.session.execute(
        select(Submission, User)
        .join(User, User.id == Submission.author_id)
        .where(Submission.assignment_id == assignment.id, Submission.kind == LEARNER_WORK)
        .order_by(User.email, Submission.attempt)
    ).all()
    latest: dict[str, tuple[Submission, User]] = {}
    for submission, user in rows:
        latest[user.id] = (submission, user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "learner_id",
            "email",
            "name",
            "submission_id",
            "attempt",
            "status",
            "score",
            "low",
            "high",
            "max",
            "reviews",
            "method",
            "released",
        ]
    )
    # Every learner's score in three queries, however many learners there are.
    scores = services.scores_json(db.session, assignment, [submission for submission, _ in latest.values()], for_author=False)
    for submission, user in latest.values():
        score = scores[submission.id] or {}
        interval = score.get("interval") or [None, None]
        writer.writerow(
            [
                user.id,
                user.email,
                user.name,
                submission.id,
                submission.attempt,
                submission.status,
                score.get("value", ""),
                interval[0] if interval[0] is not None else "",
                interval[1] if interval[1] is not None else "",
                assignment.max_total,
                score.get("reviews", 0),
                score.get("method", ""),
                score.get("released", False),
            ]
        )
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="scores-{assignment.id}.csv"'}
    )
