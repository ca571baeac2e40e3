"""The training API: a learner's training and their tries; the staff's training samples and who trained how."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

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
from reviews.training import services
from reviews.training.models import TrainingAttempt, TrainingSample
from reviews.training.schemas import (
    LearnersTrainingSchema,
    TrainingSampleSchema,
    TrainingSamplesSchema,
    TrainingSchema,
    TrainingTryResultSchema,
)


class TrainingTryCreate(ma.Schema):
    sample_id = String(required=True, validate=ma.validate.Length(min=1, max=64), metadata={"description": "current.sample_id."})
    scores = ScoresField(required=True, metadata={"description": "{criterion_key: points} for every criterion."})
    comments = ma.fields.Dict(
        keys=String(), values=String(validate=ma.validate.Length(max=20_000)), load_default=dict, metadata={"description": "Optional."}
    )


class TrainingSampleCreate(ma.Schema):
    text = String(required=True, validate=ma.validate.Length(min=1, max=100_000))
    scores = ScoresField(required=True, metadata={"description": "The staff's points: {criterion_key: points} for every criterion."})
    comments = ma.fields.Dict(
        keys=String(),
        values=String(validate=ma.validate.Length(max=20_000)),
        required=True,
        metadata={"description": "{criterion_key: why the staff gave these points}, for every criterion."},
    )


class TrainingSampleUpdate(ma.Schema):
    """A partial update: only what is given changes; ``comments`` may name some criteria only."""

    text = String(validate=ma.validate.Length(min=1, max=100_000))
    scores = ScoresField()
    comments = ma.fields.Dict(keys=String(), values=String(validate=ma.validate.Length(max=20_000)))


blp = Blueprint("training", __name__, url_prefix="/api", description="Training samples before live reviews")

COMMENTS_RULE = "The comments name a criterion the rubric does not have, or (staff) leave a criterion without a comment."
TEXT_RULE = "The training sample's text is empty."
TRAINING_DONE = "Training is finished, or this sample's tries are used up or it passed: grade current.sample_id instead."


def learner_assignment(assignment_id: str, caller: User, action: str) -> Assignment:
    """The assignment, for a learner of its course (404 to a non-member, 403 to mentors and staff)."""
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, caller, (LEARNER,), "That assignment", action)
    return assignment


def staff_assignment(assignment_id: str, caller: User, action: str) -> Assignment:
    """The assignment, for its staff; to a learner the staff's side of training does not exist (404, never 403):
    the staff's scores of a sample are theirs to see only after grading it."""
    assignment = get_assignment(db.session, assignment_id)
    if require_member(assignment.course_id, caller, "That assignment") == LEARNER:
        raise not_found("That assignment")
    require_role(assignment.course_id, caller, (STAFF,), "That assignment", action)
    return assignment


def summary_json(status: services.TrainingStatus) -> dict[str, Any]:
    return {
        "state": status.state,
        "finished": status.finished,
        "required": status.required,
        "done": status.done,
        "max_tries": services.MAX_TRIES,
    }


def try_json(assignment: Assignment, attempt: TrainingAttempt) -> dict[str, Any]:
    return {
        "sample_id": attempt.sample_id,
        "try_number": attempt.try_number,
        "passed": attempt.passed,
        "created_at": attempt.created_at.isoformat(),
        "criteria": services.feedback_of(assignment, attempt),
    }


def training_json(status: services.TrainingStatus) -> dict[str, Any]:
    """A learner's training: a sample's staff points and comments appear only in the tries made on it."""
    assignment = status.assignment
    current = None
    if status.current is not None:
        tried = status.progress_of(status.current.id)
        current = {
            "sample_id": status.current.id,
            "text": status.current.text,
            "tries_used": len(tried.tries),
            "tries_left": services.MAX_TRIES - len(tried.tries),
        }
    return {
        "assignment_id": assignment.id,
        **summary_json(status),
        "rubric": assignment.rubric,
        "tolerance": services.tolerance_of(assignment),
        "current": current,
        "samples": [
            {
                "sample_id": p.sample_id,
                "text": status.samples[p.sample_id].text if p.sample_id in status.samples else "",
                "passed": p.passed,
                "done": p.done,
                "tries": [try_json(assignment, t) for t in p.tries],
            }
            for p in status.progress
        ],
    }


def sample_json(sample: TrainingSample, tried: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": sample.id,
        "assignment_id": sample.assignment_id,
        "text": sample.text,
        "scores": sample.scores,
        "comments": sample.comments,
        "created_at": sample.created_at.isoformat(),
        "updated_at": sample.updated_at.isoformat() if sample.updated_at else None,
        "learners_tried": tried[0],
        "tries": tried[1],
    }


@blp.route("/assignments/<assignment_id>/training", methods=["GET"])
@blp.response(200, TrainingSchema)
@blp.refusals(403, forbidden="The caller is not a learner of this course (staff see /training/samples and /training/learners).")
def get_training(assignment_id: str) -> Any:
    """The caller's training (learner): where they stand, the sample to grade next, their tries with feedback."""
    caller = current_user()
    assignment = learner_assignment(assignment_id, caller, "train")
    return training_json(services.training_status(db.session, assignment, caller.id))


@blp.route("/assignments/<assignment_id>/training/tries", methods=["POST"])
@idempotent
@blp.arguments(TrainingTryCreate)
@blp.response(201, TrainingTryResultSchema)
@blp.refusals(403, forbidden="The caller is not a learner of this course.")
@blp.refusals(404, not_found="No such assignment, or sample_id is no training sample of it (or it was removed).")
@blp.refusals(409, training_done=TRAINING_DONE)
@blp.refusals(409, conflict=KEY_REUSED)
@blp.refusals(422, invalid_request=SCORES_RULE)
@blp.refusals(422, invalid_request=COMMENTS_RULE)
def grade_training_sample(body: dict[str, Any], assignment_id: str) -> Any:
    """Grade a training sample (learner): the answer gives the staff's points and comments next to the caller's."""
    caller = current_user()
    assignment = learner_assignment(assignment_id, caller, "train")
    attempt, status = services.grade_training_sample(db.session, assignment, caller, body["sample_id"], body["scores"], body["comments"])
    progress = status.progress_of(attempt.sample_id)
    return {
        **try_json(assignment, attempt),
        "sample_done": progress.done,
        "tries_left": progress.tries_left,
        "training": summary_json(status),
    }


@blp.route("/assignments/<assignment_id>/training/samples", methods=["GET"])
@blp.response(200, TrainingSamplesSchema)
def list_training_samples(assignment_id: str) -> Any:
    """The assignment's training samples with the staff's points and comments (staff); removed ones are left out."""
    assignment = staff_assignment(assignment_id, current_user(), "see training samples")
    tried = services.tries_per_sample(db.session, assignment.id)
    return {
        "training_samples": assignment.training_samples,
        "samples": [sample_json(s, tried.get(s.id, (0, 0))) for s in services.active_samples(db.session, assignment.id)],
    }


@blp.route("/assignments/<assignment_id>/training/samples", methods=["POST"])
@idempotent
@blp.arguments(TrainingSampleCreate)
@blp.response(201, TrainingSampleSchema)
@blp.refusals(422, invalid_request=SCORES_RULE)
@blp.refusals(422, invalid_request=COMMENTS_RULE)
@blp.refusals(422, invalid_request=TEXT_RULE)
@blp.refusals(409, conflict=KEY_REUSED)
def add_training_sample(body: dict[str, Any], assignment_id: str) -> Any:
    """Add a training sample (staff): a text, the staff's points and a comment for every criterion. Learners grade
    it openly, before live reviews; it is never served among the blind calibration samples."""
    caller = current_user()
    assignment = staff_assignment(assignment_id, caller, "add training samples")
    sample = services.add_sample(db.session, assignment, caller, body["text"], body["scores"], body["comments"])
    return sample_json(sample, (0, 0))


@blp.route("/assignments/<assignment_id>/training/samples/<sample_id>", methods=["PATCH"])
@blp.arguments(TrainingSampleUpdate)
@blp.response(200, TrainingSampleSchema)
@blp.refusals(422, invalid_request=SCORES_RULE)
@blp.refusals(422, invalid_request=COMMENTS_RULE)
@blp.refusals(422, invalid_request=TEXT_RULE)
def update_training_sample(body: dict[str, Any], assignment_id: str, sample_id: str) -> Any:
    """Change a training sample's text, points or comments (staff); tries made before keep what they were held against."""
    caller = current_user()
    assignment = staff_assignment(assignment_id, caller, "change training samples")
    sample = services.update_sample(db.session, assignment, sample_id, body, caller)
    db.session.commit()
    return sample_json(sample, services.tries_per_sample(db.session, assignment.id).get(sample.id, (0, 0)))


@blp.route("/assignments/<assignment_id>/training/samples/<sample_id>", methods=["DELETE"])
@blp.response(204)
def remove_training_sample(assignment_id: str, sample_id: str) -> Any:
    """Remove a training sample (staff): no learner gets it any more; tries made on it, and training finished
    with it, still count."""
    caller = current_user()
    assignment = staff_assignment(assignment_id, caller, "remove training samples")
    services.remove_sample(db.session, assignment, sample_id, caller)
    db.session.commit()
    return ""


def learner_training_json(row: services.LearnerTraining) -> dict[str, Any]:
    return {
        "learner_id": row.learner_id,
        "name": row.name,
        "email": row.email,
        "state": row.state,
        "went_on": row.state == services.WENT_ON,
        "done": row.done,
        "required": row.required,
        "tries": row.tries,
    }


@blp.route("/assignments/<assignment_id>/training/learners", methods=["GET"])
@blp.response(200, LearnersTrainingSchema)
def learners_training(assignment_id: str) -> Any:
    """Every learner's training (staff): went_on marks those who went on to live reviews without passing."""
    assignment = staff_assignment(assignment_id, current_user(), "see learners' training")
    return {"learners": [learner_training_json(row) for row in services.learners_training(db.session, assignment)]}
