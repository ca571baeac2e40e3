"""Response schemas of the scoring endpoints, and the Score object the other features answer with."""

from __future__ import annotations

import marshmallow as ma

from reviews.kernel.schemas import String


class GradeSchema(ma.Schema):
    """``grade``: the project score combined with the author's reviewing grade (``reviewing_weight``)."""

    value = ma.fields.Float(allow_none=True, metadata={"description": "(1 - w) x score + w x reviewing grade / 100 x max."})
    interval = ma.fields.List(ma.fields.Float(allow_none=True), metadata={"description": "[low, high], both intervals combined."})
    max = ma.fields.Float(metadata={"description": "The rubric's maximum total, as the score's."})
    reviewing_weight = ma.fields.Float(metadata={"description": "w, the assignment's reviewing_weight (0: the grade is the score)."})
    reviewing = ma.fields.Float(metadata={"description": "The reviewing grade (0 to 100) it used; present when w > 0."})


class ScoreSchema(ma.Schema):
    """The Score object; before release its author sees only ``{"released": false}``."""

    value = ma.fields.Float(metadata={"description": "The calibrated (or staff, or overridden) total."})
    max = ma.fields.Float(metadata={"description": "The rubric's maximum total."})
    interval = ma.fields.List(
        ma.fields.Float(allow_none=True), metadata={"description": "[low, high] of the total; null where not computed."}
    )
    reviews = ma.fields.Integer(metadata={"description": "How many reviews went into the score."})
    method = String(metadata={"description": "How the score was made: e.g. median, calibrated, staff, override, cancelled."})
    criteria = ma.fields.Dict(metadata={"description": "{criterion_key: {value, interval}}."})
    released = ma.fields.Boolean(required=True, metadata={"description": "Whether the score is released to its author."})
    note = String(metadata={"description": "Present when a released score rests on fewer reviews than required: why its interval widened."})
    grade = ma.fields.Nested(GradeSchema, metadata={"description": "The score combined with the reviewing grade; value stays the score."})


class StaffGradeSchema(ma.Schema):
    id = String(required=True, metadata={"description": "The staff grade's id."})
    submission_id = String(required=True)
    score = ma.fields.Nested(ScoreSchema, allow_none=True, required=True)


class ReleaseSchema(ma.Schema):
    id = String(required=True, metadata={"description": "The assignment's id."})
    released_at = String(allow_none=True, required=True, metadata={"description": "ISO 8601 time of the release."})


class SampleReviewSchema(ma.Schema):
    reviewer_id = String(required=True)
    scores = ma.fields.Dict(required=True, metadata={"description": "{criterion_key: points} the reviewer gave."})
    discounted = ma.fields.Boolean(required=True)
    created_at = String(required=True, metadata={"description": "ISO 8601."})


class CalibrationSampleSchema(ma.Schema):
    """A staff-graded calibration sample, as its course's staff see it (never shown to learners)."""

    id = String(required=True)
    assignment_id = String(required=True)
    text = String(required=True)
    files = ma.fields.List(ma.fields.Dict(), required=True, metadata={"description": "[{id, filename, content_type, size, url}]."})
    scores = ma.fields.Dict(required=True, metadata={"description": "The staff scores: {criterion_key: points}."})
    served = ma.fields.Boolean(
        required=True, metadata={"description": "Whether a reviewer has been served it; from then on its staff scores cannot change."}
    )
    created_at = String(required=True, metadata={"description": "ISO 8601."})
    reviews = ma.fields.List(ma.fields.Nested(SampleReviewSchema), required=True, metadata={"description": "Oldest first."})


class CalibrationSamplesSchema(ma.Schema):
    samples = ma.fields.List(ma.fields.Nested(CalibrationSampleSchema), required=True, metadata={"description": "Oldest first."})


class HelpfulnessRatingSchema(ma.Schema):
    """An author's rating of a review they received; staff also see ``submission_id`` and ``reviewer_id``."""

    review_id = String(required=True)
    rating = ma.fields.Integer(required=True, metadata={"description": "1 (not helpful) to 5 (extremely helpful)."})
    note = String(required=True, metadata={"description": "The author's note; empty when none."})
    updated_at = String(required=True, metadata={"description": "ISO 8601: when it was last given."})
    submission_id = String(metadata={"description": "Staff only."})
    reviewer_id = String(metadata={"description": "Staff only."})


class ReviewerHelpfulnessSchema(ma.Schema):
    reviewer_id = String(required=True)
    mean = ma.fields.Float(required=True, metadata={"description": "The mean rating of their reviews, 1 to 5."})
    ratings = ma.fields.Integer(required=True)


class AssignmentHelpfulnessSchema(ma.Schema):
    """Every helpfulness rating of the assignment, for its staff."""

    reviewers = ma.fields.List(ma.fields.Nested(ReviewerHelpfulnessSchema), required=True, metadata={"description": "By reviewer id."})
    ratings = ma.fields.List(ma.fields.Nested(HelpfulnessRatingSchema), required=True, metadata={"description": "Newest first."})


class OwnHelpfulnessSchema(ma.Schema):
    """What a reviewer learns of the ratings of their reviews: an aggregate only."""

    ratings = ma.fields.Integer(required=True, metadata={"description": "How many ratings their reviews in the assignment have."})
    mean = ma.fields.Float(
        required=True, allow_none=True, metadata={"description": "Their mean, to one decimal; null until there are `shown_from` ratings."}
    )
    shown_from = ma.fields.Integer(required=True, metadata={"description": "How many ratings it takes before the mean is shown."})


class ReviewingPartSchema(ma.Schema):
    value = ma.fields.Float(required=True)
    interval = ma.fields.List(ma.fields.Float(), required=True)


class HelpfulnessPartSchema(ma.Schema):
    mean = ma.fields.Float(allow_none=True, required=True, metadata={"description": "Authors' mean rating, 1 to 5; null: none yet."})
    weight = ma.fields.Float(required=True, metadata={"description": "The share the ratings had in the reviewing grade."})
    ratings = ma.fields.Integer(metadata={"description": "How many ratings (staff only)."})


class ReviewingGradeSchema(ma.Schema):
    """A reviewer's reviewing grade in one assignment, 0 to 100, over all their reviews together."""

    value = ma.fields.Float(required=True)
    interval = ma.fields.List(ma.fields.Float(), required=True, metadata={"description": "The 95% interval [low, high]."})
    max = ma.fields.Float(required=True, metadata={"description": "Always 100."})
    closeness = ma.fields.Nested(ReviewingPartSchema, required=True, metadata={"description": "The accuracy part, before helpfulness."})
    helpfulness = ma.fields.Nested(HelpfulnessPartSchema, required=True)
    words = ma.fields.List(String(), required=True, metadata={"description": "The feedback in sentences, about all reviews together."})


class OwnReviewingSchema(ma.Schema):
    released = ma.fields.Boolean(required=True, metadata={"description": "False until the caller's own score is released."})
    reviewing = ma.fields.Nested(ReviewingGradeSchema, allow_none=True, required=True, metadata={"description": "null before release."})


class ReviewerGradeSchema(ReviewingGradeSchema):
    reviewer_id = String(required=True)
    name = String(required=True)
    email = String(required=True)
    grades = ma.fields.Integer(required=True, metadata={"description": "How many grades (reviews x criteria) counted."})


class ReviewingGradesSchema(ma.Schema):
    reviewing_weight = ma.fields.Float(required=True)
    helpfulness_weight = ma.fields.Float(required=True)
    reviewers = ma.fields.List(ma.fields.Nested(ReviewerGradeSchema), required=True, metadata={"description": "By name."})
