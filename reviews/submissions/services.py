"""Submitting work: deadlines, attempts, the junk gate, replacing an earlier attempt, calibration samples."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation import services as allocation
from reviews.courses.models import Assignment, Membership
from reviews.integrity.files import inspect_file
from reviews.integrity.gate import Rejection, check_text
from reviews.integrity.text import normalised_hash
from reviews.kernel import audit
from reviews.kernel.background import enqueue
from reviews.kernel.db import utcnow
from reviews.kernel.errors import ApiError, invalid
from reviews.scoring.requests import request_recalibration
from reviews.submissions.models import ACTIVE, LEARNER_WORK, STAFF_SAMPLE, SUPERSEDED, StaffGrade, StoredFile, Submission
from reviews.submissions.models import Rejection as RejectionLog


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


def rejected(reasons: list[Rejection]) -> ApiError:
    first = reasons[0].message
    return ApiError(
        422,
        "submission_rejected",
        f"Your submission was not accepted: {first}",
        {"reasons": [{"code": r.code, "message": r.message} for r in reasons]},
    )


def _check_files(uploads: list[Upload], max_files: int, max_bytes: int) -> tuple[list[tuple[Upload, str, str]], list[Rejection]]:
    reasons: list[Rejection] = []
    if len(uploads) > max_files:
        reasons.append(
            Rejection("too_many_files", f"You attached {len(uploads)} files; at most {max_files} are allowed. Combine or remove some.")
        )
        return [], reasons
    checked = []
    for upload in uploads:
        if len(upload.data) > max_bytes:
            raise ApiError(
                413,
                "file_too_large",
                f"The file {upload.filename!r} is {len(upload.data)} bytes; the limit is {max_bytes}. Send a smaller file.",
                {"filename": upload.filename, "max_bytes": max_bytes},
            )
        kind, text, problems = inspect_file(upload.filename, upload.data, max_bytes=max_bytes)
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
        raise ApiError(
            409, "past_due", f"The deadline for this assignment passed at {assignment.due_at.isoformat()}; submissions are closed."
        )
    used = attempts_used(session, assignment.id, author.id)
    if assignment.max_attempts is not None and used >= assignment.max_attempts:
        raise ApiError(
            409,
            "attempts_exhausted",
            f"You have used all {assignment.max_attempts} attempts for this assignment; your latest attempt is the one that counts.",
            {"attempts": used, "max_attempts": assignment.max_attempts},
        )
    previous = latest_submission(session, assignment.id, author.id)
    if previous is not None and assignment.attempt_cooldown_hours > 0:
        ready_at = previous.created_at + timedelta(hours=assignment.attempt_cooldown_hours)
        if now < ready_at:
            wait = math.ceil((ready_at - now).total_seconds())
            raise ApiError(
                429,
                "cooldown",
                f"You can submit a new attempt in {wait} seconds. Use the time to act on the reviews you received.",
                {"retry_after": wait},
                {"Retry-After": str(wait)},
            )
    checked, reasons = _check_files(uploads, max_files, max_bytes)
    full_text = "\n".join([text, *(t for _, _, t in checked if t)])
    if not reasons:
        reasons = check_text(
            full_text,
            min_words=assignment.min_words,
            prompt=assignment.prompt,
            template=assignment.template,
            rubric_text="\n".join(f"{c['title']} {c.get('description', '')}" for c in assignment.criteria),
        )
    if reasons:
        session.rollback()
        session.add(RejectionLog(assignment_id=assignment.id, author_id=author.id, reasons=[r.code for r in reasons]))
        session.flush()
        from reviews.integrity.services import note_rejection

        note_rejection(session, assignment, author.id)
        session.commit()
        raise rejected(reasons)

    if previous is not None and previous.status == ACTIVE:
        previous.status = SUPERSEDED
        allocation.cancel_claims_on(session, previous.id)
    submission = Submission(
        assignment_id=assignment.id,
        author_id=author.id,
        kind=LEARNER_WORK,
        attempt=used + 1,
        status=ACTIVE,
        text=text,
        content_hash=normalised_hash(full_text),
        created_at=now,
    )
    session.add(submission)
    session.flush()
    _store_files(session, submission, checked)
    enqueue(session, "fairpeer.check_similarity", submission.id)
    if previous is not None:
        # The replaced attempt leaves the scores; recalibrate without it.
        request_recalibration(session, assignment.id, debounce_seconds, inputs_changed=True)
    return submission


def validate_scores(assignment: Assignment, scores: Any, field: str = "scores") -> dict[str, float]:
    """Every criterion scored, each within 0..max_points; nothing else."""
    if not isinstance(scores, dict):
        raise invalid({field: ["Must be an object of criterion key to points."]})
    problems: dict[str, list[str]] = {}
    out: dict[str, float] = {}
    known = {c["key"]: c for c in assignment.criteria}
    for key in scores:
        if key not in known:
            problems[f"{field}.{key}"] = [f"Unknown criterion; the rubric's keys are {sorted(known)}."]
    for key, criterion in known.items():
        if key not in scores:
            problems[f"{field}.{key}"] = ["Missing: score every criterion."]
            continue
        value = scores[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems[f"{field}.{key}"] = ["Must be a number."]
        elif not 0 <= value <= criterion["max_points"]:
            problems[f"{field}.{key}"] = [f"Must be between 0 and {criterion['max_points']}."]
        else:
            out[key] = float(value)
    if problems:
        raise invalid(problems, "Some scores are missing or out of range; score every criterion of the rubric within its points.")
    return out


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
        reasons = [Rejection("empty", "A calibration sample needs text or files. Add the sample's content.")]
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


def file_json(stored: StoredFile) -> dict[str, Any]:
    return {
        "id": stored.id,
        "filename": stored.filename,
        "content_type": stored.content_type,
        "size": stored.size,
        "url": f"/api/files/{stored.id}",
    }


def files_of(session: Session, submission_id: str) -> list[StoredFile]:
    return list(
        session.scalars(select(StoredFile).where(StoredFile.submission_id == submission_id).order_by(StoredFile.created_at, StoredFile.id))
    )


def progress_json(session: Session, assignment: Assignment, learner_id: str) -> dict[str, Any]:
    from reviews.scoring.services import score_json

    latest = latest_submission(session, assignment.id, learner_id)
    given = allocation.reviews_given(session, assignment.id, learner_id)
    return {
        "submission": None
        if latest is None
        else {"id": latest.id, "attempt": latest.attempt, "status": latest.status, "created_at": latest.created_at.isoformat()},
        "attempts": attempts_used(session, assignment.id, learner_id),
        "max_attempts": assignment.max_attempts,
        "reviews_given": given,
        "reviews_owed": max(0, assignment.reviews_to_give - given),
        "score": None if latest is None else score_json(session, assignment, latest, for_author=True),
    }


def get_visible_submission(session: Session, submission_id: str, caller: User) -> tuple[Submission, str]:
    """The submission and the caller's role: its author, mentors and staff; anyone else gets 404.

    A reviewer sees the work they claimed only through the claim, never here: a claim shows no ids.
    """
    from reviews.kernel.auth import LEARNER, require_member
    from reviews.kernel.errors import not_found

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
    from reviews.kernel.auth import MENTOR, STAFF, require_member
    from reviews.kernel.errors import not_found

    stored = session.get(StoredFile, file_id)
    if stored is None:
        raise not_found("That file")
    owner = session.get_one(Submission, stored.submission_id)
    assignment = session.get_one(Assignment, owner.assignment_id)
    role = require_member(assignment.course_id, caller, "That file")
    if not (role in (MENTOR, STAFF) or owner.author_id == caller.id or allocation.has_claimed(session, owner.id, caller.id)):
        raise not_found("That file")
    return stored


def file_download(stored: StoredFile) -> Any:
    """The bytes as an attachment that browsers never render in place (no stored-XSS through uploads)."""
    import io

    from flask import send_file

    response = send_file(io.BytesIO(stored.data), mimetype="application/octet-stream", as_attachment=True, download_name=stored.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
