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
    "contested_decision": "Contested decision",
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
    "contested_decision": 65,
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
    lease_expires_at = String(
        allow_none=True,
        metadata={"description": "When the claim runs out and the case goes back to the queue (ISO 8601); null unless claimed."},
    )
    version = ma.fields.Integer(metadata={"description": "Moves with every change; the answer's ETag. Mentors and staff only."})
    opened_by = String(allow_none=True, metadata={"description": "The reporting user's id; null for the service. Mentors and staff only."})
    message = String(metadata={"description": "Mentors and staff only."})
    evidence = ma.fields.Dict(metadata={"description": "Mentors and staff only."})
    details = ma.fields.Dict(
        metadata={"description": "GET of one case, mentors and staff only: the evidence as the case page shows it, by kind (docs/api.md)."}
    )
    outcome = ma.fields.Dict(required=True, allow_none=True, metadata={"description": "null until resolved: {action, note, at, ...}."})
    criterion_key = String(allow_none=True, metadata={"description": "The rubric criterion an appeal is about, if it names one."})
    contests_case_id = String(allow_none=True, metadata={"description": "A contested_decision case: the decided case it contests."})
    contest_case_id = String(allow_none=True, metadata={"description": "A decided case: the contested_decision case opened against it."})
    responses = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "description": "What the author of the work answered ({message, at}; mentors and staff also see by). Learners see their own."
        },
    )
    asked = String(allow_none=True, metadata={"description": "Learners whose work it is about: what you are asked to answer."})
    contest_until = String(
        allow_none=True, metadata={"description": "Learners: until when you may contest the decision (ISO 8601); null when you cannot."}
    )


class CaseRefSchema(ma.Schema):
    case_id = String(required=True, metadata={"description": "The case the message was added to, or the case it opened."})


class NamedSchema(ma.Schema):
    id = String(required=True)
    name = String(metadata={"description": "A person's name."})
    title = String(metadata={"description": "An assignment's title."})


class ReporterRecordSchema(ma.Schema):
    decided = ma.fields.Integer(required=True, metadata={"description": "The reporter's earlier reports in the course that were decided."})
    upheld = ma.fields.Integer(required=True, metadata={"description": "Of those, resolved with an outcome other than dismiss."})
    share = ma.fields.Float(required=True, allow_none=True, metadata={"description": "upheld / decided; null before any was decided."})


class QueueCaseSchema(CaseSchema):
    """A row of the queue: the case with whose work it is, the assignment, who holds it, its age and target."""

    learner = ma.fields.Nested(NamedSchema, allow_none=True, metadata={"description": "The author of the work the case is about."})
    assignment = ma.fields.Nested(NamedSchema, allow_none=True)
    holder = ma.fields.Nested(NamedSchema, allow_none=True, metadata={"description": "Who holds the claim now; null: nobody."})
    age = String(metadata={"description": "How long the case has waited, in words (e.g. 3 hours)."})
    age_hours = ma.fields.Float()
    breached = ma.fields.Boolean(metadata={"description": "Unresolved past its kind's target time to resolution."})
    due_at = String(metadata={"description": "ISO 8601: when the case reaches its target time."})
    urgency = ma.fields.Integer(metadata={"description": "priority plus one point for every hour it has waited."})
    reporter_record = ma.fields.Nested(ReporterRecordSchema, allow_none=True, metadata={"description": "null: the service opened it."})


class CaseListSchema(ma.Schema):
    cases = ma.fields.List(ma.fields.Nested(QueueCaseSchema), required=True, metadata={"description": "Most urgent first."})
    next_cursor = String(required=True, allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null: the last."})
    breached_total = ma.fields.Integer(required=True, metadata={"description": "The course's unresolved cases past their target."})


class BulkSkipSchema(ma.Schema):
    case_id = String(required=True)
    code = String(required=True, metadata={"description": "The error code acting on this case alone would answer."})
    message = String(required=True)


class BulkResultSchema(ma.Schema):
    done = ma.fields.List(String(), required=True, metadata={"description": "The cases claimed or dismissed."})
    skipped = ma.fields.List(ma.fields.Nested(BulkSkipSchema), required=True, metadata={"description": "Left as they were, and why."})


class CaseOpenedSchema(ma.Schema):
    case_id = String(required=True)
