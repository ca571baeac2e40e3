"""Every model, imported once so that the metadata is complete (for Alembic and create_all)."""

from reviews.accounts.models import ApiToken, SignInLink, User, WebSession
from reviews.allocation.models import Exposure, Review, ReviewClaim
from reviews.courses.models import Assignment, Course, Membership
from reviews.integrity.models import IndexedDocument, IndexedFingerprint
from reviews.kernel.audit import AuditEvent
from reviews.kernel.db import Base
from reviews.kernel.idempotency import IdempotencyKey
from reviews.moderation.models import Case
from reviews.notifications.models import Notification, OutboxEmail
from reviews.scoring.models import ReviewerStat, Score
from reviews.submissions.models import RejectedAttempt, StaffGrade, StoredFile, Submission
from reviews.web.models import FormDraft

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "Assignment",
    "AuditEvent",
    "Case",
    "Course",
    "Exposure",
    "FormDraft",
    "IdempotencyKey",
    "IndexedDocument",
    "IndexedFingerprint",
    "Membership",
    "Notification",
    "OutboxEmail",
    "RejectedAttempt",
    "Review",
    "ReviewClaim",
    "ReviewerStat",
    "Score",
    "SignInLink",
    "StaffGrade",
    "StoredFile",
    "Submission",
    "User",
    "WebSession",
    "metadata",
]
