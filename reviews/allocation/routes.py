from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app

from reviews.accounts.callers import current_user
from reviews.allocation import services
from reviews.allocation.schemas import ClaimSchema, ReviewCreatedSchema
from reviews.courses.rubric import SCORES_RULE
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.idempotency import KEY_REUSED, idempotent
from reviews.kernel.ratelimit import claim_limit, limiter
from reviews.kernel.schemas import ScoresField, String
from reviews.moderation import services as moderation
from reviews.moderation.schemas import REPORT_KINDS, CaseOpenedSchema
from reviews.submissions.files import file_json
from reviews.submissions.services import files_of

blp = Blueprint("allocation", __name__, url_prefix="/api", description="Review claims and reviews")


class ReviewCreate(ma.Schema):
    scores = ScoresField(required=True)
    comments = ma.fields.Dict(keys=String(), values=String(validate=ma.validate.Length(max=20_000)), load_default=dict)
    overall_comment = String(load_default="", validate=ma.validate.Length(max=50_000))


class ClaimReport(ma.Schema):
    kind = String(required=True, validate=ma.validate.OneOf(REPORT_KINDS))
    message = String(load_default="", validate=ma.validate.Length(max=20_000))


def claim_json(outcome: services.ClaimOutcome) -> dict[str, Any]:
    """What a reviewer sees: the same keys, in the same order, for a peer's work and a staff sample."""
    return {
        "claim_id": outcome.claim.id,
        "expires_at": outcome.claim.expires_at.isoformat(),
        "rubric": outcome.assignment.rubric,
        "item": {
            "text": outcome.text,
            "files": [file_json(f) for f in files_of(db.session, outcome.submission_id)] if outcome.has_files else [],
        },
    }


@blp.route("/assignments/<assignment_id>/review-claims", methods=["POST"])
@limiter.limit(claim_limit)
@idempotent
@blp.alt_response(200, schema=ClaimSchema, description="The live claim, returned again.", success=True)
@blp.response(201, ClaimSchema, description="A new claim.")
@blp.refusals(
    403,
    submit_first="The caller has no submission to this assignment yet.",
    forbidden="The caller is not a learner of this course.",
)
@blp.refusals(
    404,
    nothing_to_review="No item needs a review from the caller now (never their own work, nor one they were shown before).",
    not_found="No such assignment, or the caller is not in its course.",
)
@blp.refusals(409, past_due="The review deadline (review_due_at) has passed.")
@blp.refusals(409, training_required="The caller has not finished training yet (training_samples): details.training_url is the page.")
@blp.refusals(409, conflict=KEY_REUSED)
@blp.refusals(429, rate_limited="Too many claims in a short time (RATE_LIMIT_CLAIM); details.retry_after says when to retry.")
def claim_review(assignment_id: str) -> Any:
    """Claim the next item to review (learner); asking again while a claim is live returns that claim."""
    outcome = services.claim_next_review(
        db.session, assignment_id, current_user(), current_app.config["CLAIM_LEASE_MINUTES"], current_app.config["OVER_REVIEW_EXTRA"]
    )
    return claim_json(outcome), 201 if outcome.created else 200


@blp.route("/review-claims/<claim_id>/review", methods=["POST"])
@idempotent
@blp.arguments(ReviewCreate)
@blp.response(201, ReviewCreatedSchema)
@blp.refusals(
    409,
    already_reviewed="A review of this claim was sent already.",
    claim_expired="The claim ended: it was withdrawn, or it expired and its item left the pool or the grace after its expiry "
    "(CLAIM_GRACE_MINUTES, by default the lease length) is over.",
)
@blp.refusals(409, conflict=KEY_REUSED)
@blp.refusals(422, invalid_request=SCORES_RULE)
@blp.refusals(422, invalid_request="The comments name a criterion the rubric does not have.")
@blp.refusals(
    422,
    review_rejected="The review gate refused a comment and nothing was stored; details.reasons[] gives each {code, message, field}: "
    "`score_unexplained` (a criterion scored 0 or at its lowest level has no comment), `overall_required` (the assignment's "
    "require_overall_comment), or the short-text gate's `punctuation_only`, `repeated_word`, `filler`, `gibberish`, `too_few_words`.",
)
def submit_review(body: dict[str, Any], claim_id: str) -> Any:
    """Send the review of a claimed item (the claimant)."""
    claim, assignment, submission = services.claim_for_review(db.session, claim_id, current_user().id)
    review = services.submit_review(db.session, claim, assignment, submission, body, current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"])
    return {"review_id": review.id}


@blp.route("/review-claims/<claim_id>/reports", methods=["POST"])
@idempotent
@blp.arguments(ClaimReport)
@blp.response(201, CaseOpenedSchema)
@blp.refusals(409, conflict=KEY_REUSED)
def report_claimed_item(body: dict[str, Any], claim_id: str) -> Any:
    """Report the item of one's claim (plagiarism, junk, abuse...): opens a case for the mentors."""
    claim = services.own_claim(db.session, claim_id, current_user().id)
    case = moderation.report_claimed_item(db.session, claim, current_user(), body["kind"], body["message"])
    return {"case_id": case.id}
