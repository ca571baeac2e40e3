"""Every model, imported once so that the metadata is complete (for Alembic and create_all)."""

from reviews.accounts.models import ApiToken, SignInLink, User, WebSession
from reviews.allocation.models import Exposure, Review, ReviewClaim
from reviews.courses.models import Assignment, Course, Membership
from reviews.credentials.models import CredentialSubject, IssuedCredential, IssuerKey, StatusList
from reviews.integrity.models import IndexedDocument, IndexedFingerprint
from reviews.kernel.audit import AuditEvent
from reviews.kernel.db import Base
from reviews.kernel.idempotency import IdempotencyKey
from reviews.moderation.models import Case
from reviews.notifications.models import Notification, OutboxEmail
from reviews.records.models import ProjectNote, RecordShare
from reviews.scoring.models import HelpfulnessRating, ReviewerStat, ReviewingCloseness, Score
from reviews.submissions.models import RejectedAttempt, StaffGrade, StoredFile, Submission
from reviews.training.models import TrainingAttempt, TrainingSample
from reviews.web.models import FormDraft

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "Assignment",
    "AuditEvent",
    "Case",
    "Course",
    "CredentialSubject",
    "Exposure",
    "FormDraft",
    "HelpfulnessRating",
    "IdempotencyKey",
    "IndexedDocument",
    "IndexedFingerprint",
    "IssuedCredential",
    "IssuerKey",
    "Membership",
    "Notification",
    "OutboxEmail",
    "ProjectNote",
    "RecordShare",
    "RejectedAttempt",
    "Review",
    "ReviewClaim",
    "ReviewerStat",
    "ReviewingCloseness",
    "Score",
    "SignInLink",
    "StaffGrade",
    "StatusList",
    "StoredFile",
    "Submission",
    "TrainingAttempt",
    "TrainingSample",
    "User",
    "WebSession",
    "metadata",
]
