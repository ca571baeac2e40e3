"""Submitting work: deadlines, attempts, the junk gate, replacing an earlier attempt, calibration samples."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detection.files import inspect_file
from detection.gate import RejectionReason, check_text
from detection.gate.submission import Submission as GatedText
from detection.text import normalised_hash, words_hash
from reviews.accounts.models import User
from reviews.allocation import services as allocation
from reviews.courses.access import LEARNER, MENTOR, STAFF, require_member
from reviews.courses.models import Assignment, Membership
from reviews.courses.rubric import rubric_text, validate_scores
from reviews.integrity.services import note_rejection
from reviews.integrity.tasks import check_similarity
from reviews.kernel import audit
from reviews.kernel.background import enqueue
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError, not_found
from reviews.kernel.metrics import submission_rejected
from reviews.kernel.units import human_size
from reviews.moderation import rules as case_rules
from reviews.scoring.recalibration import request_recalibration
from reviews.settings import FILE_LIMITS
from reviews.submissions.models import ACTIVE, LEARNER_WORK, STAFF_SAMPLE, SUPERSEDED, RejectedAttempt, StaffGrade, StoredFile, Submission


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


class SubmissionRejected(DomainError):
    """The gate refused the attempt; ``reasons`` say why. The caller logs it (``log_rejection``) after rolling back."""

    def __init__(self, reasons: list[RejectionReason]) -> None:
        super().__init__(
            "submission_rejected",
            f"Your submission was not accepted: {reasons[0].message}",
            {"reasons": [{"code": r.code, "message": r.message} for r in reasons]},
        )
        self.reasons = reasons


def rejected(reasons: list[RejectionReason]) -> SubmissionRejected:
    return SubmissionRejected(reasons)


def log_rejection(session: Session, assignment: Assignment, author_id: str, reasons: list[RejectionReason]) -> None:
    """Keep a refused attempt for the learner's history; repeated junk opens a case (integrity)."""
    session.add(RejectedAttempt(assignment_id=assignment.id, author_id=author_id, reasons=[r.code for r in reasons]))
    session.flush()
    submission_rejected(session, [r.code for r in reasons])
    note_rejection(session, assignment, author_id)


def _check_files(uploads: list[Upload], max_files: int, max_bytes: int) -> tuple[list[tuple[Upload, str, str]], list[RejectionReason]]:
    reasons: list[RejectionReason] = []
    if len(uploads) > max_files:
        reasons.append(
            RejectionReason(
                "too_many_files", f"You attached {len(uploads)} files; at most {max_files} are allowed. Combine or remove some."
            )
        )
        return [], reasons
    checked = []
    for upload in uploads:
        if len(upload.data) > max_bytes:
            raise DomainError(
                "file_too_large",
                f"The file {upload.filename!r} is {human_size(len(upload.data))}; the limit is {human_size(max_bytes)}. "
                "Send a smaller file.",
                {"filename": upload.filename, "max_bytes": max_bytes},
            )
        kind, text, problems = inspect_file(upload.filename, upload.data, max_bytes=max_bytes, limits=FILE_LIMITS)
        reasons.extend(problems)
        checked.append((upload, kind, text))
    return checked, reasons


def _store_files(session: Session, submission: Submission, checked: list[tuple[Upload, str, str]]) -> None:
    for upload, _kind, text in checked:
        session.add(
            StoredFile(
                submission_id=submission.id,
                filename=upload.filename[:255] or "file",
                content_type=(upload.content_type or "application/octet-stream")[:120],
                size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                data=upload.data,
                extracted_text=text,
            )
        )


def latest_submission(session: Session, assignment_id: str, author_id: str) -> Submission | None:
    return session.scalar(
        select(Submission)
        .where(Submission.assignment_id == assignment_id, Submission.author_id == author_id, Submission.kind == LEARNER_WORK)
        .order_by(Submission.attempt.desc())
        .limit(1)
    )


def attempts_used(session: Session, assignment_id: str, author_id: str) -> int:
    return int(
        session.scalar(
            select(func.count(Submission.id)).where(
                Submission.assignment_id == assignment_id, Submission.author_id == author_id, Submission.kind == LEARNER_WORK
            )
        )
        or 0
    )


def submit(
    session: Session,
    assignment: Assignment,
    author: User,
    text: str,
    uploads: list[Upload],
    *,
    max_files: int,
    max_bytes: int,
    now: datetime | None = None,
    debounce_seconds: float = 0,
) -> Submission:
    """Accept a learner's attempt, or raise the error that tells them why not.

    Rejected attempts are logged but never count as attempts and never reach a review queue.
    """
    now = now or utcnow()
    # Serialise one learner's submissions to one assignment, so two at once cannot both take the last attempt.
    session.execute(
        select(Membership.id).where(Membership.course_id == assignment.course_id, Membership.user_id == author.id).with_for_update()
    )
    if assignment.due_at is not None and now > assignment.due_at:
        raise DomainError(
            "past_due", f"The deadline for this assignment passed at {assignment.due_at.isoformat()}; submissions are closed."
        )
    case_rules.check_attempts_allowed(session, assignment.id, author.id)
    used = attempts_used(session, assignment.id, author.id)
    if assignment.max_attempts is not None and used >= assignment.max_attempts:
        raise DomainError(
            "attempts_exhausted",
            f"You have used all {assignment.max_attempts} attempts for this assignment; your latest attempt is the one that counts.",
            {"attempts": used, "max_attempts": assignment.max_attempts},
        )
    previous = latest_submission(session, assignment.id, author.id)
    if previous is not None and assignment.attempt_cooldown_hours > 0:
        ready_at = previous.created_at + timedelta(hours=assignment.attempt_cooldown_hours)
        if now < ready_at:
            wait = math.ceil((ready_at - now).total_seconds())
            raise DomainError(
                "cooldown",
                f"You can submit a new attempt in {wait} seconds. Use the time to act on the reviews you received.",
                {"retry_after": wait},
            )
    checked, reasons = _check_files(uploads, max_files, max_bytes)
    full_text = "\n".join([text, *(t for _, _, t in checked if t)])
    gated = GatedText.of(full_text)
    if not reasons:
        reasons = check_text(
            gated,
            min_words=assignment.min_words,
            prompt=assignment.prompt,
            template=assignment.template,
            rubric_text=rubric_text(assignment),
        )
    if reasons:
        raise rejected(reasons)

    if previous is not None and previous.status == ACTIVE:
        previous.status = SUPERSEDED
        allocation.withdraw_claims_on(session, previous.id)
    submission = Submission(
        assignment_id=assignment.id,
        author_id=author.id,
        kind=LEARNER_WORK,
        attempt=used + 1,
        status=ACTIVE,
        text=text,
        content_hash=words_hash(gated.words),
        created_at=now,
    )
    session.add(submission)
    session.flush()
    _store_files(session, submission, checked)
    enqueue(session, check_similarity, submission.id)
    if previous is not None:
        # The replaced attempt leaves the scores; recalibrate without it.
        request_recalibration(session, assignment.id, debounce_seconds, inputs_changed=True)
    return submission


def add_calibration_sample(
    session: Session,
    assignment: Assignment,
    staff: User,
    text: str,
    scores: Any,
    uploads: list[Upload],
    *,
    max_files: int,
    max_bytes: int,
    debounce_seconds: float = 0,
) -> Submission:
    """A staff-graded sample, stored as a submission so that reviewers are served it exactly like peer work."""
    checked_scores = validate_scores(assignment, scores)
    checked, reasons = _check_files(uploads, max_files, max_bytes)
    if not reasons and not (text.strip() or checked):
        reasons = [RejectionReason("empty", "A calibration sample needs text or files. Add the sample's content.")]
    if reasons:
        raise rejected(reasons)
    sample = Submission(
        assignment_id=assignment.id,
        author_id=staff.id,
        kind=STAFF_SAMPLE,
        attempt=1,
        status=ACTIVE,
        text=text,
        content_hash=normalised_hash(text),
        similarity_checked_at=utcnow(),
    )
    session.add(sample)
    session.flush()
    _store_files(session, sample, checked)
    session.add(StaffGrade(submission_id=sample.id, grader_id=staff.id, scores=checked_scores, note="calibration sample"))
    audit.record(session, assignment.course_id, staff.id, "calibration_sample.added", f"submission:{sample.id}", scores=checked_scores)
    request_recalibration(session, assignment.id, debounce_seconds, inputs_changed=True)
    return sample


def files_of(session: Session, submission_id: str) -> list[StoredFile]:
    return list(
        session.scalars(select(StoredFile).where(StoredFile.submission_id == submission_id).order_by(StoredFile.created_at, StoredFile.id))
    )


def get_visible_submission(session: Session, submission_id: str, caller: User) -> tuple[Submission, str]:
    """The submission and the caller's role: its author, mentors and staff; anyone else gets 404.

    A reviewer sees the work they claimed only through the claim, never here: a claim shows no ids.
    """
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise not_found("That submission")
    assignment = session.get_one(Assignment, submission.assignment_id)
    role = require_member(assignment.course_id, caller, "That submission")
    if role == LEARNER and (submission.author_id != caller.id or submission.kind != LEARNER_WORK):
        raise not_found("That submission")
    return submission, role


def get_visible_file(session: Session, file_id: str, caller: User) -> StoredFile:
    """A stored file, for mentors and staff of its course, its author, and a learner it was shown to by a claim."""
    stored = session.get(StoredFile, file_id)
    if stored is None:
        raise not_found("That file")
    owner = session.get_one(Submission, stored.submission_id)
    assignment = session.get_one(Assignment, owner.assignment_id)
    role = require_member(assignment.course_id, caller, "That file")
    if not (role in (MENTOR, STAFF) or owner.author_id == caller.id or allocation.has_claimed(session, owner.id, caller.id)):
        raise not_found("That file")
    return stored
