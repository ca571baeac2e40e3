from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for

from reviews.accounts.callers import current_user
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.schemas import String
from reviews.records import services
from reviews.records.schemas import (
    ProjectNoteSchema,
    RecordSchema,
    SharedRecordSchema,
    ShareListSchema,
    ShareSchema,
)


def choice(description: str, **options: Any) -> ma.fields.Boolean:
    """A JSON true or false, nothing that merely looks like one ("yes", 1)."""
    return ma.fields.Boolean(truthy={True}, falsy={False}, metadata={"description": description}, **options)


class ProjectNoteUpdate(ma.Schema):
    annotation = String(metadata={"description": "The learner's own words (at most 1000 characters; longer: 422 annotation_too_long)."})
    shared = choice("Show the project on the shared record.")
    text_public = choice("Let readers of the shared record read the project's text.")


class ShareCreate(ma.Schema):
    allow_indexing = choice("Let search engines index the shared page.", load_default=False)


blp = Blueprint("records", __name__, url_prefix="/api", description="Learners' records and the links they share them by")

RECORD = "/courses/<course_id>/learners/<user_id>/record"


@blp.route(RECORD, methods=["GET"])
@blp.response(200, RecordSchema)
def get_record(course_id: str, user_id: str) -> Any:
    """A learner's record: each project with its calibrated score and interval, reviews, attempts, the copy check,
    the skills it assessed, the learner's own words and its current credential."""
    course, learner, own = services.visible_record(db.session, course_id, user_id, current_user())
    return services.record_json(db.session, course, learner, for_learner=own)


@blp.route(RECORD + "/projects/<assignment_id>", methods=["PUT"])
@blp.arguments(ProjectNoteUpdate)
@blp.response(200, ProjectNoteSchema)
@blp.refusals(422, annotation_too_long="The annotation is longer than 1000 characters.")
def put_project_note(body: dict[str, Any], course_id: str, user_id: str, assignment_id: str) -> Any:
    """The learner's annotation of one project, whether it appears on the shared record and whether its text is
    public (the learner only; staff read it on the record, 403 on a change). Fields left out stay as they are."""
    course, learner = services.own_record(db.session, course_id, user_id, current_user())
    note = services.set_project_note(db.session, course, learner, assignment_id, body)
    db.session.commit()
    return {"assignment_id": note.assignment_id, "annotation": note.annotation, "shared": note.shared, "text_public": note.text_public}


@blp.route(RECORD + "/shares", methods=["GET"])
@blp.response(200, ShareListSchema)
def list_shares(course_id: str, user_id: str) -> Any:
    """The learner's active links to this record, newest first (tokens are not kept, so not shown)."""
    course, learner = services.own_record(db.session, course_id, user_id, current_user())
    return {"shares": [services.share_json(s) for s in services.active_shares(db.session, course, learner)]}


@blp.route(RECORD + "/shares", methods=["POST"])
@blp.arguments(ShareCreate)
@blp.response(201, ShareSchema)
@blp.refusals(409, too_many_shares="The learner already has 20 active links to this record.")
def create_share(body: dict[str, Any], course_id: str, user_id: str) -> Any:
    """A new link to the record; the answer holds its token, once. Anyone with the link sees the projects the
    learner picked (``shared``), without signing in."""
    course, learner = services.own_record(db.session, course_id, user_id, current_user())
    share, token = services.create_share(db.session, course, learner, allow_indexing=bool(body.get("allow_indexing")))
    db.session.commit()
    return {**services.share_json(share, token), "url": url_for("records_pages.shared", token=token, _external=True)}, 201


@blp.route(RECORD + "/shares/<share_id>", methods=["DELETE"])
@blp.response(200, ShareSchema)
def revoke_share(course_id: str, user_id: str, share_id: str) -> Any:
    """Revoke a link: from now on it answers 404."""
    course, learner = services.own_record(db.session, course_id, user_id, current_user())
    share = services.revoke_share(db.session, course, learner, share_id)
    db.session.commit()
    return services.share_json(share)


@blp.route("/shared/<token>", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, SharedRecordSchema)
def shared_record(token: str) -> Any:
    """A shared record, for anyone with the link: only what the learner picked, no reviewer, no internal id. An
    unknown or revoked link is 404."""
    return services.shared_record_json(db.session, token)
