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
from reviews.kernel.errors import forbidden, not_found
from reviews.kernel.idempotency import KEY_REUSED, idempotent
from reviews.kernel.schemas import ScoresField, String
from reviews.scoring import helpfulness, rating, reviewing, samples, services
from reviews.scoring.gradebook import grade_as_staff
from reviews.scoring.schemas import (
    AssignmentHelpfulnessSchema,
    CalibrationSampleSchema,
    CalibrationSamplesSchema,
    HelpfulnessRatingSchema,
    OwnHelpfulnessSchema,
    OwnReviewingSchema,
    ReleaseSchema,
    ReviewingGradesSchema,
    StaffGradeSchema,
)
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
    description=(
        "Per learner: learner_id, email, name, submission_id, attempt, status, score, low, high, max, reviews, method, released, "
        "grade, grade_low, grade_high (the score combined with the reviewing grade by reviewing_weight)."
    ),
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


# --- helpfulness ratings (reviews/scoring/helpfulness.py) -------------------------------------------------------


class HelpfulnessRatingPut(ma.Schema):
    rating = ma.fields.Integer(required=True, strict=True, metadata={"description": "1 (not helpful) to 5 (extremely helpful)."})
    note = String(
        load_default="",
        metadata={"description": "Optional, at most 500 characters once trimmed.", "maxLength": helpfulness.NOTE_MAX_CHARS},
    )


@blp.route("/submissions/<submission_id>/reviews/<review_id>/rating", methods=["PUT"])
@blp.arguments(HelpfulnessRatingPut)
@blp.response(200, HelpfulnessRatingSchema)
@blp.refusals(403, forbidden="The caller is not the author of the work (mentors and staff read ratings, they do not give them).")
@blp.refusals(404, not_found="No such submission for the caller, or review_id names no review it received (a staff sample's neither).")
@blp.refusals(409, not_released="The work's score is not released yet, so its reviews are not shown to its author.")
@blp.refusals(422, invalid_request="The rating is not a whole number from 1 to 5, or the note is over 500 characters.")
def rate_review(body: dict[str, Any], submission_id: str, review_id: str) -> Any:
    """Rate how helpful a review of one's work was (its author, after release); a new rating replaces the last."""
    caller = current_user()
    submission, _role = get_visible_submission(db.session, submission_id, caller)
    given = helpfulness.rating_input(body["rating"], body["note"])
    stored = rating.rate_review(db.session, submission, review_id, caller, given)
    db.session.commit()
    return helpfulness.rating_json(stored)


@blp.route("/submissions/<submission_id>/reviews/<review_id>/rating", methods=["GET"])
@blp.response(200, HelpfulnessRatingSchema)
@blp.refusals(403, forbidden="A mentor: ratings are for the author and the course's staff.")
@blp.refusals(404, not_found="No such submission for the caller, no such review of it, or the review is not rated.")
def get_rating(submission_id: str, review_id: str) -> Any:
    """The rating of one review: its author's own, or any for staff (who also see the reviewer)."""
    caller = current_user()
    submission, role = get_visible_submission(db.session, submission_id, caller)
    if role not in (LEARNER, STAFF):
        raise forbidden("Only the author of this work and the course's staff read its ratings.")
    review = rating.rateable_review(db.session, submission, review_id)
    found = helpfulness.ratings_of(db.session, [review.id]).get(review.id)
    if found is None:
        raise not_found("That rating")
    return helpfulness.rating_json(found, for_staff=role == STAFF)


@blp.route("/assignments/<assignment_id>/helpfulness", methods=["GET"])
@blp.response(200, AssignmentHelpfulnessSchema)
@blp.refusals(403, forbidden="A mentor: the ratings are for staff.")
@blp.refusals(404, not_found="No such assignment, or the caller is a learner (for whom the list does not exist).")
def assignment_helpfulness(assignment_id: str) -> Any:
    """Every helpfulness rating of the assignment with its note and reviewer, and each reviewer's mean (staff)."""
    assignment = staff_assignment(assignment_id, current_user(), "read helpfulness ratings")
    summary = helpfulness.helpfulness_summary(db.session, assignment.id)
    return {
        "reviewers": [{"reviewer_id": r, "mean": round(mean, 2), "ratings": n} for r, (mean, n) in sorted(summary.items())],
        "ratings": [helpfulness.rating_json(r, for_staff=True) for r in helpfulness.assignment_ratings(db.session, assignment.id)],
    }


@blp.route("/assignments/<assignment_id>/helpfulness/mine", methods=["GET"])
@blp.response(200, OwnHelpfulnessSchema)
@blp.refusals(403, forbidden="Not a learner of the course.")
def own_helpfulness(assignment_id: str) -> Any:
    """How helpful authors found the caller's reviews in the assignment (a learner): an aggregate only, shown
    from a few ratings on, never per review nor who rated."""
    caller = current_user()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, caller, (LEARNER,), "That assignment", "have reviews rated")
    return helpfulness.own_helpfulness(db.session, assignment.id, caller.id)


# --- the reviewing grade (reviews/scoring/reviewing.py) -------------------------------------------------------


@blp.route("/assignments/<assignment_id>/reviewing", methods=["GET"])
@blp.response(200, ReviewingGradesSchema)
@blp.refusals(403, forbidden="A mentor: reviewing grades are for staff.")
@blp.refusals(404, not_found="No such assignment, or the caller is a learner (for whom the list does not exist).")
def reviewing_grades(assignment_id: str) -> Any:
    """Every reviewer's reviewing grade in the assignment, by name, with its parts (staff)."""
    assignment = staff_assignment(assignment_id, current_user(), "see reviewing grades")
    return {
        "reviewing_weight": assignment.reviewing_weight,
        "helpfulness_weight": assignment.helpfulness_weight,
        "reviewers": [
            {
                "reviewer_id": row.reviewer_id,
                "name": row.name,
                "email": row.email,
                "grades": row.grade.grades,
                **row.grade.as_json(for_reviewer=False),
            }
            for row in reviewing.reviewer_rows(db.session, assignment)
        ],
    }


@blp.route("/assignments/<assignment_id>/reviewing/mine", methods=["GET"])
@blp.response(200, OwnReviewingSchema)
@blp.refusals(403, forbidden="Not a learner of the course.")
def own_reviewing(assignment_id: str) -> Any:
    """The caller's reviewing grade (a learner), once their own score is released: over all their reviews
    together, in words; never per review, so that nothing tells which reviews were of staff samples."""
    caller = current_user()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, caller, (LEARNER,), "That assignment", "have a reviewing grade")
    return services.own_reviewing(db.session, assignment, caller.id)
