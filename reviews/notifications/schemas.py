"""Response schemas of the inbox endpoints."""

from __future__ import annotations

import marshmallow as ma

from reviews.kernel.schemas import String
from reviews.notifications.models import Notification


class NotificationSchema(ma.Schema):
    id = String(required=True)
    kind = String(
        required=True,
        metadata={
            "description": "case_received, case_outcome, score_changed, work_marked_copied, case_needs_answer, case_for_staff, "
            "case_taken_over or sla_digest."
        },
    )
    subject = String(required=True)
    body = String(required=True)
    link = String(required=True, metadata={"description": "A path of the pages this is about, or empty."})
    created_at = String(required=True, metadata={"description": "ISO 8601."})
    read_at = String(required=True, allow_none=True, metadata={"description": "ISO 8601; null while unread."})


class InboxSchema(ma.Schema):
    notifications = ma.fields.List(ma.fields.Nested(NotificationSchema), required=True, metadata={"description": "Newest first."})
    unread = ma.fields.Integer(required=True)


class MarkedSchema(ma.Schema):
    marked = ma.fields.Integer(required=True, metadata={"description": "How many were unread and are now read."})


def notification_json(n: Notification) -> dict[str, object]:
    return {
        "id": n.id,
        "kind": n.kind,
        "subject": n.subject,
        "body": n.body,
        "link": n.link,
        "created_at": n.created_at.isoformat(),
        "read_at": n.read_at.isoformat() if n.read_at else None,
    }
