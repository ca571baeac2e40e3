from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app

from reviews.accounts.callers import current_user
from reviews.accounts.models import User
from reviews.courses.access import LEARNER, STAFF, require_member, require_role
from reviews.courses.models import Assignment
from reviews.courses.rubric import SCORES_RULE
from reviews.courses.services import get_assignment
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.errors import not_found
from reviews.kernel.idempotency import KEY_REUSED, idempotent
from reviews.kernel.schemas import ScoresField, String
from reviews.scoring import samples, services
from reviews.scoring.gradebook import grade_as_staff
from reviews.scoring.schemas import CalibrationSampleSchema, CalibrationSamplesSchema, ReleaseSchema, StaffGradeSchema
from reviews.submissions.files import file_json
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
    grade = grade_as_staff(
        db.session,
        assignment,
        submission,
        caller,
        body["scores"],
        body["note"],
        debounce_seconds=current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"],
    )
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
    return scores_csv_response(assignment)


def scores_csv_response(assignment: Assignment) -> Response:
    """The scores.csv download, for the API and the gradebook page alike."""
    return Response(
        services.scores_csv(db.session, assignment),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="scores-{assignment.id}.csv"'},
    )


class SampleCorrection(ma.Schema):
    scores = ScoresField(required=True, metadata={"description": "{criterion_key: points} for every criterion."})


def staff_assignment(assignment_id: str, caller: User, action: str, what: str = "That assignment") -> Assignment:
    """The assignment, for its staff only; to a learner its calibration samples do not exist (404, never 403)."""
    assignment = get_assignment(db.session, assignment_id)
    if require_member(assignment.course_id, caller, what) == LEARNER:
        raise not_found(what)
    require_role(assignment.course_id, caller, (STAFF,), what, action)
    return assignment


def sample_json(view: samples.SampleView) -> dict[str, Any]:
    return {
        "id": view.id,
        "assignment_id": view.sample.assignment_id,
        "text": view.sample.text,
        "files": [file_json(f) for f in view.files],
        "scores": view.staff_scores,
        "served": view.served,
        "created_at": view.sample.created_at.isoformat(),
        "reviews": [
            {"reviewer_id": r.reviewer_id, "scores": r.scores, "discounted": r.discounted, "created_at": r.created_at.isoformat()}
            for r in view.reviews
        ],
    }


@blp.route("/assignments/<assignment_id>/calibration-samples", methods=["GET"])
@blp.response(200, CalibrationSamplesSchema)
def list_samples(assignment_id: str) -> Any:
    """The assignment's calibration samples with their staff scores and how each reviewer scored them (staff)."""
    assignment = staff_assignment(assignment_id, current_user(), "see calibration samples")
    return {"samples": [sample_json(view) for view in samples.list_samples(db.session, assignment)]}


@blp.route("/calibration-samples/<sample_id>", methods=["PATCH"])
@blp.arguments(SampleCorrection)
@blp.response(200, CalibrationSampleSchema)
@blp.refusals(422, invalid_request=SCORES_RULE)
@blp.refusals(409, sample_served="A reviewer has already been served the sample (claimed it); its staff scores stay as they are.")
def correct_sample(body: dict[str, Any], sample_id: str) -> Any:
    """Correct a calibration sample's staff scores, before any reviewer has been served it (staff)."""
    caller = current_user()
    sample = samples.get_sample(db.session, sample_id)
    assignment = staff_assignment(sample.assignment_id, caller, "correct calibration samples", "That calibration sample")
    samples.correct_sample_scores(db.session, assignment, sample.id, body["scores"], caller)
    db.session.commit()
    (view,) = [v for v in samples.list_samples(db.session, assignment) if v.id == sample.id]
    return sample_json(view)
