"""Request and response schemas of the training endpoints."""

from __future__ import annotations

import marshmallow as ma

from reviews.kernel.schemas import String


class CriterionFeedbackSchema(ma.Schema):
    key = String(required=True)
    title = String(required=True)
    max_points = ma.fields.Integer(required=True)
    yours = ma.fields.Float(required=True, allow_none=True, metadata={"description": "The learner's points."})
    staff = ma.fields.Float(required=True, allow_none=True, metadata={"description": "The staff's points."})
    off_by = ma.fields.Float(required=True, allow_none=True, metadata={"description": "yours - staff."})
    tolerance = ma.fields.Float(required=True, metadata={"description": "How far off still passes, in points."})
    within = ma.fields.Boolean(required=True)
    your_comment = String(required=True)
    staff_comment = String(required=True)


class TrainingTrySchema(ma.Schema):
    sample_id = String(required=True)
    try_number = ma.fields.Integer(required=True, metadata={"description": "1 to max_tries."})
    passed = ma.fields.Boolean(required=True, metadata={"description": "Every criterion within its tolerance."})
    created_at = String(required=True, metadata={"description": "ISO 8601."})
    criteria = ma.fields.List(ma.fields.Nested(CriterionFeedbackSchema), required=True)


class TrainingSummarySchema(ma.Schema):
    state = String(
        required=True,
        metadata={"description": "not_required, not_started, in_progress, passed, or went_on (finished after a sample's tries ran out)."},
    )
    finished = ma.fields.Boolean(required=True, metadata={"description": "true: the learner may claim live reviews."})
    required = ma.fields.Integer(required=True, metadata={"description": "Samples to do: training_samples, or fewer when fewer exist."})
    done = ma.fields.Integer(required=True)
    max_tries = ma.fields.Integer(required=True, metadata={"description": "Tries per training sample."})


class TrainingCurrentSchema(ma.Schema):
    sample_id = String(required=True)
    text = String(required=True)
    tries_used = ma.fields.Integer(required=True)
    tries_left = ma.fields.Integer(required=True)


class TrainingSampleDoneSchema(ma.Schema):
    sample_id = String(required=True)
    text = String(required=True)
    passed = ma.fields.Boolean(required=True)
    done = ma.fields.Boolean(required=True)
    tries = ma.fields.List(ma.fields.Nested(TrainingTrySchema), required=True)


class TrainingSchema(TrainingSummarySchema):
    """A learner's training: where they stand, the sample to grade next, every try with its feedback."""

    assignment_id = String(required=True)
    rubric = ma.fields.Dict(required=True)
    tolerance = ma.fields.Dict(required=True, metadata={"description": "{criterion_key: points a try may be off}."})
    current = ma.fields.Nested(TrainingCurrentSchema, required=True, allow_none=True, metadata={"description": "null: nothing to grade."})
    samples = ma.fields.List(ma.fields.Nested(TrainingSampleDoneSchema), required=True, metadata={"description": "The samples tried."})


class TrainingTryResultSchema(TrainingTrySchema):
    """The try's feedback (the staff's points and comments next to the learner's) and the training after it."""

    sample_done = ma.fields.Boolean(required=True, metadata={"description": "Passed, or its tries are used up."})
    tries_left = ma.fields.Integer(required=True)
    training = ma.fields.Nested(TrainingSummarySchema, required=True)


class TrainingSampleSchema(ma.Schema):
    id = String(required=True)
    assignment_id = String(required=True)
    text = String(required=True)
    scores = ma.fields.Dict(required=True)
    comments = ma.fields.Dict(required=True)
    created_at = String(required=True, metadata={"description": "ISO 8601."})
    updated_at = String(required=True, allow_none=True, metadata={"description": "ISO 8601."})
    learners_tried = ma.fields.Integer(required=True)
    tries = ma.fields.Integer(required=True)


class TrainingSamplesSchema(ma.Schema):
    training_samples = ma.fields.Integer(required=True, metadata={"description": "The assignment's setting."})
    samples = ma.fields.List(ma.fields.Nested(TrainingSampleSchema), required=True)


class LearnerTrainingSchema(ma.Schema):
    learner_id = String(required=True)
    name = String(required=True)
    email = String(required=True)
    state = String(required=True, metadata={"description": "As TrainingSummary.state; went_on: staff should look."})
    went_on = ma.fields.Boolean(required=True, metadata={"description": "Went on to live reviews without passing a sample."})
    done = ma.fields.Integer(required=True)
    required = ma.fields.Integer(required=True)
    tries = ma.fields.Integer(required=True)


class LearnersTrainingSchema(ma.Schema):
    learners = ma.fields.List(ma.fields.Nested(LearnerTrainingSchema), required=True)
