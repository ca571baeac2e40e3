"""Handing out reviews: who reviews what, under a lease, safely under concurrency."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation.models import CANCELLED, COMPLETED, EXPIRED, LIVE, Exposure, Review, ReviewClaim
from reviews.courses.models import Assignment, Membership
from reviews.kernel.background import enqueue
from reviews.kernel.db import utcnow
from reviews.kernel.errors import ApiError, invalid
from reviews.submissions.models import ACTIVE, LEARNER_WORK, STAFF_SAMPLE, Submission


@dataclass(frozen=True)
class ClaimOutcome:
    claim: ReviewClaim
    submission: Submission
    created: bool


def _release_load(session: Session, claim_ids_and_subs: list[tuple[str, str]]) -> None:
    for _claim_id, submission_id in claim_ids_and_subs:
        session.execute(update(Submission).where(Submission.id == submission_id).values(review_load=Submission.review_load - 1))


def cancel_claims_on(session: Session, submission_id: str) -> int:
    """Cancel the live claims on a submission that left the pool (replaced, cancelled)."""
    rows = session.execute(
        select(ReviewClaim.id, ReviewClaim.submission_id).where(ReviewClaim.submission_id == submission_id, ReviewClaim.status == LIVE)
    ).all()
    if rows:
        session.execute(update(ReviewClaim).where(ReviewClaim.id.in_([r[0] for r in rows])).values(status=CANCELLED))
        _release_load(session, [(r[0], r[1]) for r in rows])
    return len(rows)


def expire_claims(session: Session, now: datetime | None = None, assignment_id: str | None = None) -> int:
    """Expire overdue claims and give their items back to the pool; safe to run twice or concurrently."""
    now = now or utcnow()
    query = select(ReviewClaim.id, ReviewClaim.submission_id).where(ReviewClaim.status == LIVE, ReviewClaim.expires_at < now)
    if assignment_id is not None:
        query = query.where(ReviewClaim.assignment_id == assignment_id)
    expired = 0
    for claim_id, submission_id in session.execute(query.order_by(ReviewClaim.expires_at)).all():
        # Conditional update: of two sweeps racing, only one sees rowcount 1 and gives the load back.
        result = session.execute(
            update(ReviewClaim).where(ReviewClaim.id == claim_id, ReviewClaim.status == LIVE).values(status=EXPIRED)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            _release_load(session, [(claim_id, submission_id)])
            expired += 1
    return expired


def live_claim(session: Session, assignment_id: str, reviewer_id: str, now: datetime) -> ReviewClaim | None:
    return session.scalar(
        select(ReviewClaim).where(
            ReviewClaim.assignment_id == assignment_id,
            ReviewClaim.reviewer_id == reviewer_id,
            ReviewClaim.status == LIVE,
            ReviewClaim.expires_at >= now,
        )
    )


def claims_made(session: Session, assignment_id: str, reviewer_id: str) -> int:
    return int(
        session.scalar(
            select(func.count(ReviewClaim.id)).where(
                ReviewClaim.assignment_id == assignment_id, ReviewClaim.reviewer_id == reviewer_id, ReviewClaim.status != CANCELLED
            )
        )
        or 0
    )


def reviews_given(session: Session, assignment_id: str, reviewer_id: str) -> int:
    return int(
        session.scalar(select(func.count(Review.id)).where(Review.assignment_id == assignment_id, Review.reviewer_id == reviewer_id)) or 0
    )


def _wants_sample(assignment: Assignment, reviewer_id: str, claim_index: int) -> bool:
    """Serve a staff sample at this claim? Spread at ``calibration_share``, at a reviewer-specific phase.

    Deterministic (a hash of assignment and reviewer), so the same scenario allocates the same way on every
    database, yet a reviewer cannot tell from the position alone which item was a sample.
    """
    share = assignment.calibration_share
    if share <= 0:
        return False
    phase = int.from_bytes(hashlib.sha256(f"{assignment.id}:{reviewer_id}".encode()).digest()[:8], "big") / 2**64
    return int((claim_index + 1) * share + phase) > int(claim_index * share + phase)


def _pick(session: Session, assignment: Assignment, reviewer_id: str, *, samples: bool, cap: int | None) -> Submission | None:
    seen = exists().where(Exposure.submission_id == Submission.id, Exposure.viewer_id == reviewer_id)
    query = select(Submission).where(
        Submission.assignment_id == assignment.id,
        Submission.status == ACTIVE,
        Submission.author_id != reviewer_id,
        Submission.kind == (STAFF_SAMPLE if samples else LEARNER_WORK),
        ~seen,
    )
    if cap is not None:
        query = query.where(Submission.review_load < cap)
    query = query.order_by(Submission.review_load, Submission.created_at, Submission.id).limit(1)
    # FOR UPDATE SKIP LOCKED on PostgreSQL: concurrent claimers take different rows, and the review_load
    # condition is re-checked on the locked row. SQLite ignores it; there BEGIN IMMEDIATE serialises claims.
    return session.scalar(query.with_for_update(skip_locked=True, of=Submission))


def claim_next_review(session: Session, assignment: Assignment, reviewer: User, lease_minutes: int, over_review_extra: int) -> ClaimOutcome:
    """The reviewer's live claim, or a new one on the item that most needs a review.

    Never their own work, never an item they were shown before, only the latest attempt of a submission.
    """
    now = utcnow()
    current = live_claim(session, assignment.id, reviewer.id, now)
    if current is not None:
        return ClaimOutcome(current, session.get_one(Submission, current.submission_id), False)
    own = session.scalar(
        select(Submission.id).where(
            Submission.assignment_id == assignment.id,
            Submission.author_id == reviewer.id,
            Submission.kind == LEARNER_WORK,
            Submission.status == ACTIVE,
        )
    )
    if own is None:
        raise ApiError(403, "submit_first", "Submit your own work to this assignment first; then you can review others'.")
    if assignment.review_due_at is not None and now > assignment.review_due_at:
        raise ApiError(409, "past_due", "The review deadline has passed; no more reviews can be claimed.")
    expire_claims(session, now, assignment.id)
    item = None
    if _wants_sample(assignment, reviewer.id, claims_made(session, assignment.id, reviewer.id)):
        item = _pick(session, assignment, reviewer.id, samples=True, cap=None)
    if item is None:
        item = _pick(session, assignment, reviewer.id, samples=False, cap=assignment.reviews_required)
    if item is None:
        item = _pick(session, assignment, reviewer.id, samples=False, cap=assignment.reviews_required + over_review_extra)
    if item is None:
        raise ApiError(404, "nothing_to_review", "There is nothing for you to review right now. Try again later.")
    item.review_load += 1
    claim = ReviewClaim(assignment_id=assignment.id, submission_id=item.id, reviewer_id=reviewer.id, expires_at=now + timedelta(minutes=lease_minutes))
    session.add(claim)
    session.flush()
    session.add(Exposure(submission_id=item.id, viewer_id=reviewer.id, claim_id=claim.id))
    return ClaimOutcome(claim, item, True)


def validate_review(assignment: Assignment, body: dict[str, Any]) -> tuple[dict[str, float], dict[str, str], str]:
    from reviews.submissions.services import validate_scores

    scores = validate_scores(assignment, body.get("scores"))
    comments = body.get("comments") or {}
    keys = {c["key"] for c in assignment.criteria}
    unknown = [k for k in comments if k not in keys]
    if unknown:
        raise invalid({f"comments.{k}": ["Unknown criterion."] for k in unknown}, "Comments must be keyed by the rubric's criteria.")
    return scores, {k: str(v) for k, v in comments.items()}, body.get("overall_comment") or ""


def submit_review(session: Session, claim: ReviewClaim, assignment: Assignment, body: dict[str, Any]) -> Review:
    """Store a review of the claimed item; a late review counts when the item still needs one."""
    if claim.status == COMPLETED or session.scalar(select(Review.id).where(Review.claim_id == claim.id)) is not None:
        raise ApiError(409, "already_reviewed", "You already sent a review for this claim. Claim a new item to review more.")
    scores, comments, overall = validate_review(assignment, body)
    submission = session.get_one(Submission, claim.submission_id, with_for_update=True)
    now = utcnow()
    if claim.status == LIVE and claim.expires_at < now:
        claim.status = EXPIRED
        submission.review_load -= 1
    if claim.status != LIVE:
        # Samples anchor the calibration, so a late review of one is always welcome.
        still_needed = (
            submission.status == ACTIVE
            and claim.status == EXPIRED
            and (submission.kind == STAFF_SAMPLE or submission.review_load < assignment.reviews_required)
        )
        if not still_needed:
            raise ApiError(409, "claim_expired", "Your claim on this item expired and it no longer needs your review. Claim a new item.")
        submission.review_load += 1
    claim.status, claim.completed_at = COMPLETED, now
    submission.reviews_done += 1
    review = Review(
        claim_id=claim.id,
        assignment_id=assignment.id,
        submission_id=submission.id,
        reviewer_id=claim.reviewer_id,
        scores=scores,
        comments=comments,
        overall_comment=overall,
    )
    session.add(review)
    session.execute(update(Assignment).where(Assignment.id == assignment.id).values(inputs_changed_at=now))
    enqueue(session, "fairpeer.recalibrate_assignment", assignment.id)
    return review


def has_claimed(session: Session, submission_id: str, viewer_id: str) -> bool:
    """Was this submission shown to the viewer through a claim (the only way a learner sees others' work)?"""
    return session.scalar(select(Exposure.id).where(Exposure.submission_id == submission_id, Exposure.viewer_id == viewer_id).limit(1)) is not None


def member_role(session: Session, course_id: str, user_id: str) -> str | None:
    return session.scalar(select(Membership.role).where(and_(Membership.course_id == course_id, Membership.user_id == user_id)))
