"""Case kinds, actions and priorities; response schemas of the escalation endpoints."""

from __future__ import annotations

import marshmallow as ma

from reviews.kernel.schemas import String

REPORT_KINDS = ("plagiarism", "unfair_review", "junk", "abusive", "other")
SERVICE_KINDS = ("similarity", "repeated_junk", "needs_reviews", "low_confidence", "unreliable_reviewer")
# How the pages name each kind.
KIND_WORDS = {
    "plagiarism": "Reported copying",
    "unfair_review": "Appeal of a review",
    "junk": "Reported junk",
    "abusive": "Reported abuse",
    "other": "Other report",
    "similarity": "Similar work found",
    "repeated_junk": "Repeated junk submissions",
    "needs_reviews": "Not enough reviews",
    "low_confidence": "Uncertain score",
    "unreliable_reviewer": "Unreliable reviewer",
}
ACTIONS = ("dismiss", "override_score", "mark_plagiarism", "discount_review", "request_staff_review")

# Most urgent first: copying and abuse before disagreements about points.
PRIORITY = {
    "plagiarism": 80,
    "similarity": 70,
    "abusive": 75,
    "unfair_review": 60,
    "repeated_junk": 55,
    "junk": 50,
    "needs_reviews": 45,
    "low_confidence": 40,
    "unreliable_reviewer": 35,
    "other": 30,
}


class CaseSubjectSchema(ma.Schema):
    type = String(required=True, metadata={"description": "What the case is about: e.g. submission, review, learner."})
    ids = ma.fields.List(String(), required=True)


class CaseSchema(ma.Schema):
    """A case; the learner who opened it sees only id, kind, status, created_at and outcome (action, note, at)."""

    id = String(required=True)
    kind = String(required=True, metadata={"description": "A report kind or a kind of finding by the service."})
    priority = ma.fields.Integer(metadata={"description": "Higher is more urgent. Mentors and staff only."})
    status = String(required=True, metadata={"description": "open, claimed, staff_review or resolved."})
    subject = ma.fields.Nested(CaseSubjectSchema, metadata={"description": "Mentors and staff only."})
    submission_id = String(allow_none=True, metadata={"description": "Mentors and staff only."})
    assignment_id = String(allow_none=True, metadata={"description": "Mentors and staff only."})
    created_at = String(required=True, metadata={"description": "ISO 8601."})
    claimed_by = String(allow_none=True, metadata={"description": "The claiming mentor's id. Mentors and staff only."})
    opened_by = String(allow_none=True, metadata={"description": "The reporting user's id; null for the service. Mentors and staff only."})
    message = String(metadata={"description": "Mentors and staff only."})
    evidence = ma.fields.Dict(metadata={"description": "Mentors and staff only."})
    outcome = ma.fields.Dict(required=True, allow_none=True, metadata={"description": "null until resolved: {action, note, at, ...}."})


class CaseListSchema(ma.Schema):
    cases = ma.fields.List(ma.fields.Nested(CaseSchema), required=True, metadata={"description": "Most urgent first."})


class CaseOpenedSchema(ma.Schema):
    case_id = String(required=True)
