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
from reviews.kernel.db import utcnow
from reviews.kernel.errors import ApiError, invalid
from reviews.moderation import services as moderation
from reviews.scoring.requests import request_recalibration
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


def _reviewer_hash(assignment_key: str, reviewer_key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{assignment_key}\x00{reviewer_key}".encode()).digest()[:8], "big")


def wants_sample(assignment: Assignment, reviewer_key: str, claim_index: int) -> bool:
    """Serve a staff sample at this claim (0-based index among the reviewer's claims)?

    Exactly one sample among the first three claims, at a position drawn per reviewer (so not always the
    first), then samples at ``calibration_share`` from the fourth claim on, at a reviewer-specific phase.
    Deterministic (a hash of the assignment's title and the reviewer's email, not of random ids), so the same
    scenario allocates the same way on every database, and nothing in the order tells a reviewer which item was
    a sample.
    """
    share = assignment.calibration_share
    if share <= 0:
        return False
    h = _reviewer_hash(assignment.title, reviewer_key)
    if claim_index < 3:
        return claim_index == h % 3
    phase = (h >> 8) / 2**56
    k = claim_index - 3
    return int((k + 1) * share + phase) > int(k * share + phase)


def _pick(session: Session, assignment: Assignment, reviewer_id: str, *, samples: bool, extra: int | None) -> Submission | None:
    """The eligible item with the fewest live-plus-completed reviews, ties to the oldest.

    ``extra`` None: only items short of their target. Otherwise over-review: items below reviews_required + extra.
    """
    seen = exists().where(Exposure.submission_id == Submission.id, Exposure.viewer_id == reviewer_id)
    query = select(Submission).where(
        Submission.assignment_id == assignment.id,
        Submission.status == ACTIVE,
        Submission.author_id != reviewer_id,
        Submission.kind == (STAFF_SAMPLE if samples else LEARNER_WORK),
        ~seen,
    )
    if not samples:
        query = query.where(~moderation.holds(Submission.id))
        if extra is None:
            query = query.where(Submission.review_load < func.coalesce(Submission.reviews_target, assignment.reviews_required))
        else:
            query = query.where(Submission.review_load < assignment.reviews_required + extra)
    query = query.order_by(Submission.review_load, Submission.created_at, Submission.id).limit(1)
    # FOR UPDATE SKIP LOCKED on PostgreSQL: concurrent claimers take different rows, and the review_load
    # condition is re-checked on the locked row. SQLite ignores it; there BEGIN IMMEDIATE serialises claims.
    # FOR NO KEY UPDATE, not FOR UPDATE: a recalibration inserting Score rows takes key-share locks on these
    # submissions, which must not make them look taken.
    return session.scalar(query.with_for_update(skip_locked=True, of=Submission, key_share=True))


def claim_next_review(session: Session, assignment: Assignment, reviewer: User, lease_minutes: int, over_review_extra: int) -> ClaimOutcome:
    """The reviewer's live claim, or a new one on the item that most needs a review.

    Never their own work, never an item they were shown before, only the latest attempt of a submission.
    """
    now = utcnow()
    # One learner's claims on one course run one at a time: two requests at once must not both create a claim.
    session.execute(
        select(Membership.id).where(Membership.course_id == assignment.course_id, Membership.user_id == reviewer.id).with_for_update()
    )
    # One round trip for both questions asked of every claim: a live claim to return, and work of one's own.
    live = (
        select(ReviewClaim.id)
        .where(
            ReviewClaim.assignment_id == assignment.id,
            ReviewClaim.reviewer_id == reviewer.id,
            ReviewClaim.status == LIVE,
            ReviewClaim.expires_at >= now,
        )
        .limit(1)
        .scalar_subquery()
    )
    own = exists().where(
        Submission.assignment_id == assignment.id,
        Submission.author_id == reviewer.id,
        Submission.kind == LEARNER_WORK,
        Submission.status == ACTIVE,
    )
    live_id, has_own = session.execute(select(live, own)).one()
    if live_id is not None:
        current = session.get_one(ReviewClaim, live_id)
        return ClaimOutcome(current, session.get_one(Submission, current.submission_id), False)
    if not has_own:
        raise ApiError(403, "submit_first", "Submit your own work to this assignment first; then you can review others'.")
    if assignment.review_due_at is not None and now > assignment.review_due_at:
        raise ApiError(409, "past_due", "The review deadline has passed; no more reviews can be claimed.")
    # Overdue claims go back to the pool through the periodic tend_queue task, not on this hot path.
    item = None
    if assignment.calibration_share > 0 and wants_sample(assignment, reviewer.email, claims_made(session, assignment.id, reviewer.id)):
        item = _pick(session, assignment, reviewer.id, samples=True, extra=None)
    if item is None:
        item = _pick(session, assignment, reviewer.id, samples=False, extra=None)
    if item is None:
        item = _pick(session, assignment, reviewer.id, samples=False, extra=over_review_extra)
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


def submit_review(session: Session, claim: ReviewClaim, assignment: Assignment, body: dict[str, Any], debounce_seconds: float = 0) -> Review:
    """Store a review of the claimed item; a late review counts when the item still needs one."""
    # The caller loaded the claim FOR UPDATE: of two sends of one review, the second sees it completed.
    if claim.status == COMPLETED:
        raise ApiError(409, "already_reviewed", "You already sent a review for this claim. Claim a new item to review more.")
    scores, comments, overall = validate_review(assignment, body)
    submission = session.get_one(Submission, claim.submission_id, with_for_update={"key_share": True})
    now = utcnow()
    if claim.status == LIVE and claim.expires_at < now:
        claim.status = EXPIRED
        submission.review_load -= 1
    if claim.status != LIVE:
        # Samples anchor the calibration, so a late review of one is always welcome.
        still_needed = (
            submission.status == ACTIVE
            and claim.status == EXPIRED
            and (submission.kind == STAFF_SAMPLE or submission.review_load < (submission.reviews_target or assignment.reviews_required))
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
    request_recalibration(session, assignment.id, debounce_seconds)
    return review


def has_claimed(session: Session, submission_id: str, viewer_id: str) -> bool:
    """Was this submission shown to the viewer through a claim (the only way a learner sees others' work)?"""
    return session.scalar(select(Exposure.id).where(Exposure.submission_id == submission_id, Exposure.viewer_id == viewer_id).limit(1)) is not None


def member_role(session: Session, course_id: str, user_id: str) -> str | None:
    return session.scalar(select(Membership.role).where(and_(Membership.course_id == course_id, Membership.user_id == user_id)))


def open_needs_reviews_cases(session: Session, now: datetime, after_hours: float) -> int:
    """Nobody stuck: a submission still short of its reviews long after it was submitted goes to staff.

    Safe when two workers run it at once: each case has a dedupe key, so it is opened once.
    """
    cutoff = now - timedelta(hours=after_hours)
    rows = session.execute(
        select(Submission, Assignment)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(
            Submission.kind == LEARNER_WORK,
            Submission.status == ACTIVE,
            Submission.created_at < cutoff,
            Submission.reviews_done < func.coalesce(Submission.reviews_target, Assignment.reviews_required),
        )
        .order_by(Submission.created_at, Submission.id)
    ).all()
    opened = 0
    for submission, assignment in rows:
        waited = (now - submission.created_at).total_seconds() / 3600
        key = f"needs_reviews:{submission.id}"
        if moderation.case_exists(session, key):
            continue
        moderation.open_case(
            session,
            course_id=assignment.course_id,
            assignment_id=assignment.id,
            kind="needs_reviews",
            subject_type="submission",
            subject_ids=[submission.id],
            submission_id=submission.id,
            evidence={"reviews_done": submission.reviews_done, "reviews_needed": submission.reviews_target or assignment.reviews_required,
                      "waiting_hours": round(waited, 1)},
            dedupe_key=key,
        )
        opened += 1
    return opened


def adapt_review_targets(
    session: Session, assignment: Assignment, widths: dict[str, tuple[float, int]], *, width_share: float, max_extra: int
) -> list[str]:
    """Adaptive review count: ask for one more review of each submission whose score is too uncertain.

    ``widths`` maps submission id to (width of its 95% interval, completed reviews). A submission gets one more
    review at a time, up to reviews_required + max_extra; returns the ids still too uncertain at that cap.
    """
    limit = width_share * assignment.max_total
    cap = assignment.reviews_required + max_extra
    at_cap: list[str] = []
    wide = {sid: n for sid, (width, n) in widths.items() if width > limit}
    if not wide:
        return at_cap
    for submission in session.scalars(select(Submission).where(Submission.id.in_(list(wide))).order_by(Submission.created_at, Submission.id)):
        target = submission.reviews_target or assignment.reviews_required
        if wide[submission.id] < target:
            continue  # still waiting for the reviews already asked for
        if target < cap:
            submission.reviews_target = target + 1
        else:
            at_cap.append(submission.id)
    return at_cap
