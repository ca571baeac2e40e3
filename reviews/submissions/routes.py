from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import current_app, request
from sqlalchemy import select

from reviews.accounts.callers import current_user
from reviews.accounts.models import User
from reviews.allocation.models import Review
from reviews.courses.access import LEARNER, MENTOR, STAFF, require_role
from reviews.courses.models import Assignment
from reviews.courses.rubric import SCORES_RULE
from reviews.courses.services import get_assignment
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.errors import DomainError, invalid
from reviews.kernel.idempotency import KEY_REUSED, idempotent
from reviews.kernel.inputs import json_problem, refuse_hostile
from reviews.kernel.ratelimit import limiter, submit_limit
from reviews.kernel.schemas import String
from reviews.moderation import rules as case_rules
from reviews.moderation import services as moderation
from reviews.moderation.schemas import REPORT_KINDS, CaseOpenedSchema
from reviews.records.progress import previous_score_json, progress_json
from reviews.scoring.models import Score
from reviews.scoring.services import is_released, score_json
from reviews.submissions import services
from reviews.submissions.files import file_download, file_json
from reviews.submissions.models import Submission
from reviews.submissions.schemas import (
    SAMPLE_REQUEST_BODY,
    SUBMISSION_REQUEST_BODY,
    CalibrationSampleCreatedSchema,
    ProgressSchema,
    ReceivedReviewsSchema,
    SubmissionCreatedSchema,
    SubmissionSchema,
)

blp = Blueprint("submissions", __name__, url_prefix="/api", description="Submissions, files, received reviews, appeals")

# What the two operations that take files refuse alike (services._check_files; MAX_CONTENT_LENGTH).
FILE_TOO_LARGE = "A file is over MAX_FILE_BYTES (details filename and max_bytes), or the whole request over MAX_CONTENT_LENGTH."
TEXT_TOO_LONG = "The text is longer than MAX_TEXT_CHARS characters."
FILE_REASONS = (
    "`too_many_files` (more than MAX_FILES files), `file_empty` (nothing but blank space), `file_type` (not a PDF, DOCX, "
    "text, PNG or JPEG by its bytes, or a PDF or DOCX that cannot be opened), `file_no_text` (a PDF or DOCX with no readable "
    "text), `file_too_complex` (a PDF or DOCX over the limits on untrusted documents)"
)


class SubmissionReport(ma.Schema):
    kind = String(required=True, validate=ma.validate.OneOf(REPORT_KINDS))
    message = String(load_default="", validate=ma.validate.Length(max=20_000))
    review_id = String(load_default=None, allow_none=True, validate=ma.validate.Length(max=64))
    criterion_key = String(load_default=None, allow_none=True, validate=ma.validate.Length(max=40))


def _read_body(require_scores: bool) -> tuple[str, Any, list[services.Upload]]:
    """Text (and scores) from a JSON object or a multipart form; files from the multipart parts."""
    uploads: list[services.Upload] = []
    if request.mimetype == "multipart/form-data":
        text = request.form.get("text", "")
        raw_scores = request.form.get("scores")
        scores: Any = None
        if raw_scores is not None:
            problem = json_problem(raw_scores)  # bounded before parsing, as a JSON body is
            if problem is not None:
                raise invalid({"scores": [problem]}, problem)
            try:
                scores = json.loads(raw_scores)
            except ValueError:
                raise invalid({"scores": ["Must be a JSON object of criterion key to points."]}) from None
        for key in request.files:
            for upload in request.files.getlist(key):
                uploads.append(services.Upload(upload.filename or "file", upload.mimetype or "", upload.read()))
    else:
        body = request.get_json(silent=True)
        if body is None:
            if request.get_data():
                raise DomainError("invalid_json", "The request body is not valid JSON. Send a JSON object.")
            body = {}
        if not isinstance(body, dict):
            raise invalid({"_schema": ["The body must be a JSON object."]})
        text, scores = body.get("text", ""), body.get("scores")
        unknown = set(body) - {"text", "scores"} if require_scores else set(body) - {"text"}
        if unknown:
            raise invalid({k: ["Unknown field."] for k in sorted(unknown)})
    if not isinstance(text, str):
        raise invalid({"text": ["Must be a string."]})
    refuse_hostile([("text", text)])  # read without a schema: the String field's rule, by hand
    if len(text) > current_app.config["MAX_TEXT_CHARS"]:
        raise invalid(
            {"text": [f"Longer than {current_app.config['MAX_TEXT_CHARS']} characters."]},
            "The text is too long; shorten it or attach a file.",
        )
    if require_scores and scores is None:
        raise invalid({"scores": ["Missing: give the staff score of every criterion."]})
    return text, scores, uploads


@blp.route("/assignments/<assignment_id>/submissions", methods=["POST"])
@limiter.limit(submit_limit)
@idempotent
@blp.doc(requestBody=SUBMISSION_REQUEST_BODY)
@blp.response(201, SubmissionCreatedSchema)
@blp.refusals(
    422,
    submission_rejected="The attempt is refused, and not counted; details.reasons[] gives each {code, message}. The files first: "
    f"{FILE_REASONS}. Then, when the files pass, the text with the files' text: `empty` (no words at all), `too_short` (fewer "
    "than the assignment's min_words), `encoded_blob` (mostly base64 or hex), `numbers_only` (numbers and punctuation "
    "with hardly a word), `repetitive`, `placeholder`, `gibberish`, "
    "`prompt_copy` (mostly the prompt, template or rubric), `pleading` (asks for a score instead of answering).",
)
@blp.refusals(422, invalid_request=TEXT_TOO_LONG)
@blp.refusals(
    409,
    past_due="The assignment's due_at has passed.",
    attempts_exhausted="The caller has used all max_attempts attempts (details attempts and max_attempts).",
)
@blp.refusals(409, conflict=KEY_REUSED)
@blp.refusals(413, file_too_large=FILE_TOO_LARGE)
@blp.refusals(
    429,
    cooldown="attempt_cooldown_hours have not passed since the caller's previous attempt; details.retry_after gives the seconds left.",
    rate_limited="Too many submissions in a short time (RATE_LIMIT_SUBMIT); details.retry_after says when to retry.",
)
def submit(assignment_id: str) -> Any:
    """Submit an attempt (learner): JSON {text}, or multipart with text and files."""
    caller = current_user()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, caller, (LEARNER,), "That assignment", "submit work")
    text, _scores, uploads = _read_body(require_scores=False)
    submission = submit_attempt(assignment, caller, text, uploads)
    return {"id": submission.id, "attempt": submission.attempt, "status": submission.status}


def submit_attempt(assignment: Assignment, author: User, text: str, uploads: list[services.Upload]) -> Submission:
    """Submit, for the API and the page alike; the caller commits (the API through ``idempotent``, with the key's
    answer). A refused attempt is rolled back, then logged (its own commit), and the refusal raised."""
    try:
        submission = services.submit(
            db.session,
            assignment,
            author,
            text,
            uploads,
            max_files=current_app.config["MAX_FILES"],
            max_bytes=current_app.config["MAX_FILE_BYTES"],
            debounce_seconds=current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"],
        )
    except services.SubmissionRejected as refused:
        db.session.rollback()
        services.log_rejection(db.session, assignment, author.id, refused.reasons)
        db.session.commit()
        raise
    except Exception:
        db.session.rollback()
        raise
    return submission


@blp.route("/assignments/<assignment_id>/calibration-samples", methods=["POST"])
@idempotent
@blp.doc(requestBody=SAMPLE_REQUEST_BODY)
@blp.response(201, CalibrationSampleCreatedSchema)
@blp.refusals(422, invalid_request=SCORES_RULE)
@blp.refusals(422, invalid_request=TEXT_TOO_LONG)
@blp.refusals(
    422,
    submission_rejected=f"The sample is refused; details.reasons[] gives each {{code, message}}: {FILE_REASONS}; or `empty` "
    "(neither text nor files).",
)
@blp.refusals(409, conflict=KEY_REUSED)
@blp.refusals(413, file_too_large=FILE_TOO_LARGE)
def add_sample(assignment_id: str) -> Any:
    """Add a staff-graded calibration sample (staff): JSON {text, scores} or multipart with text, scores and files."""
    caller = current_user()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, caller, (STAFF,), "That assignment", "add calibration samples")
    text, scores, uploads = _read_body(require_scores=True)
    sample = services.add_calibration_sample(
        db.session,
        assignment,
        caller,
        text,
        scores,
        uploads,
        max_files=current_app.config["MAX_FILES"],
        max_bytes=current_app.config["MAX_FILE_BYTES"],
        debounce_seconds=current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"],
    )
    return {"id": sample.id}


def visible_submission(submission_id: str) -> tuple[Submission, str]:
    return services.get_visible_submission(db.session, submission_id, current_user())


@blp.route("/submissions/<submission_id>", methods=["GET"])
@blp.response(200, SubmissionSchema)
def get_submission(submission_id: str) -> Any:
    """A submission (its author, mentors, staff), with the last released score of an earlier attempt."""
    submission, role = visible_submission(submission_id)
    assignment = get_assignment(db.session, submission.assignment_id)
    out = {
        "id": submission.id,
        "assignment_id": submission.assignment_id,
        "attempt": submission.attempt,
        "status": submission.status,
        "text": submission.text,
        "files": [file_json(f) for f in services.files_of(db.session, submission.id)],
        "score": score_json(db.session, assignment, submission, for_author=role == LEARNER),
        "previous_score": previous_score_json(db.session, assignment, submission.author_id, submission.attempt, for_author=role == LEARNER),
        "created_at": submission.created_at.isoformat(),
    }
    if submission.cancelled_reason:
        out["cancelled_reason"] = submission.cancelled_reason
    if role in (MENTOR, STAFF):
        out["author_id"] = submission.author_id
        out["kind"] = submission.kind
    return out


@blp.route("/submissions/<submission_id>/reviews", methods=["GET"])
@blp.response(200, ReceivedReviewsSchema)
def list_reviews(submission_id: str) -> Any:
    """The reviews a submission received; anonymous to its author, and empty for them before release."""
    submission, role = visible_submission(submission_id)
    assignment = get_assignment(db.session, submission.assignment_id)
    released = is_released(db.session, assignment, submission, db.session.get(Score, submission.id))
    rows = list(db.session.scalars(select(Review).where(Review.submission_id == submission.id).order_by(Review.created_at, Review.id)))
    if role == LEARNER and not released:
        return {"released": False, "reviews": []}
    reviews = []
    for review in rows:
        item: dict[str, Any] = {
            "id": review.id,
            "scores": review.scores,
            "comments": review.comments,
            "overall_comment": review.overall_comment,
        }
        if role in (MENTOR, STAFF):
            item.update(
                reviewer_id=review.reviewer_id, weight=review.weight, discounted=review.discounted, created_at=review.created_at.isoformat()
            )
        reviews.append(item)
    return {"released": released, "reviews": reviews}


@blp.route("/submissions/<submission_id>/reports", methods=["POST"])
@idempotent
@blp.arguments(SubmissionReport)
@blp.response(201, CaseOpenedSchema)
@blp.alt_response(200, schema=CaseOpenedSchema, description="The caller's appeal of this review or criterion is open already: its case.")
@blp.refusals(422, invalid_request="review_id names no review of this submission.")
@blp.refusals(422, invalid_request="An author's appeal (unfair_review) names neither review_id nor criterion_key, or an unknown criterion.")
@blp.refusals(422, message_rejected="An appeal's message is blank, only punctuation, filler, one word repeated or too few real words.")
@blp.refusals(409, conflict=KEY_REUSED)
def report_submission(body: dict[str, Any], submission_id: str) -> Any:
    """An appeal by the author, or a report by a mentor or staff: opens a case (201). The author's appeal names a
    review or a criterion; another appeal of one already under appeal answers 200 with the open case."""
    submission, role = visible_submission(submission_id)
    caller = current_user()
    review_id, criterion_key = body.get("review_id"), body.get("criterion_key")
    open_before = case_rules.open_appeal(db.session, submission, caller, review_id, criterion_key) if role == LEARNER else None
    case = moderation.report_submission(db.session, submission, caller, role, body["kind"], body["message"], review_id, criterion_key)
    return ({"case_id": case.id}, 200) if open_before is not None and open_before.id == case.id else {"case_id": case.id}


@blp.route("/files/<file_id>", methods=["GET"])
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/octet-stream", description="The file's bytes.")
def get_file(file_id: str) -> Any:
    """A file's bytes, for whoever may see its submission or holds a claim on it."""
    return file_download(services.get_visible_file(db.session, file_id, current_user()))


@blp.route("/assignments/<assignment_id>/progress", methods=["GET"])
@blp.response(200, ProgressSchema)
def progress(assignment_id: str) -> Any:
    """The caller's progress on an assignment (learner)."""
    caller = current_user()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, caller, (LEARNER,), "That assignment", "have progress on it")
    return progress_json(db.session, assignment, caller.id)
