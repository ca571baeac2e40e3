"""Handing out reviews: who reviews what, under a lease, safely under concurrency."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import JSON, Table, Update, and_, bindparam, exists, func, insert, literal_column, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from reviews.accounts.models import User
from reviews.allocation.models import COMPLETED, EXPIRED, LIVE, WITHDRAWN, Exposure, Review, ReviewClaim
from reviews.courses.access import LEARNER
from reviews.courses.models import Assignment, Membership
from reviews.courses.rubric import validate_scores
from reviews.courses.services import get_assignment_for
from reviews.integrity.short_text import ReviewRefusal, check_review_comments
from reviews.kernel.db import Base, UTCDateTime, new_id, utcnow
from reviews.kernel.errors import DomainError, forbidden, invalid, not_found
from reviews.kernel.metrics import claim_made, review_stored
from reviews.moderation import services as moderation
from reviews.scoring.recalibration import request_recalibration
from reviews.submissions.models import ACTIVE, LEARNER_WORK, STAFF_SAMPLE, StoredFile, Submission
from reviews.training import services as training


@dataclass(frozen=True)
class ClaimOutcome:
    """What a claim request answers with. ``claim`` is not attached to the session when ``created``: reviews go
    through claim_for_review, which locks it."""

    assignment: Assignment
    claim: ReviewClaim
    submission_id: str
    text: str  # the item's text
    created: bool
    has_files: bool = True  # False when the item is known to have no files (spares a query)


def _release_load(session: Session, claim_ids_and_subs: list[tuple[str, str]]) -> None:
    for _claim_id, submission_id in claim_ids_and_subs:
        session.execute(update(Submission).where(Submission.id == submission_id).values(review_load=Submission.review_load - 1))


def withdraw_claims_on(session: Session, submission_id: str) -> int:
    """Withdraw the live claims on a submission that left the pool (replaced, cancelled)."""
    rows = session.execute(
        select(ReviewClaim.id, ReviewClaim.submission_id).where(ReviewClaim.submission_id == submission_id, ReviewClaim.status == LIVE)
    ).all()
    if rows:
        session.execute(update(ReviewClaim).where(ReviewClaim.id.in_([r[0] for r in rows])).values(status=WITHDRAWN))
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
        result = session.execute(update(ReviewClaim).where(ReviewClaim.id == claim_id, ReviewClaim.status == LIVE).values(status=EXPIRED))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            _release_load(session, [(claim_id, submission_id)])
            expired += 1
    return expired


def table_of(model: type[Base]) -> Table:
    """A model's table, typed as one (Core statements on the table skip the ORM's per-call work)."""
    return cast(Table, model.__table__)


def _when(name: str) -> Any:
    """A bind parameter for a timestamp column (aware datetimes in, naive UTC stored)."""
    return bindparam(name, type_=UTCDateTime())


# The reviewer's live claim in an assignment. Parameters: assignment_id, reviewer_id, now.
_LIVE_CLAIM = select(ReviewClaim).where(
    ReviewClaim.assignment_id == bindparam("assignment_id"),
    ReviewClaim.reviewer_id == bindparam("reviewer_id"),
    ReviewClaim.status == LIVE,
    ReviewClaim.expires_at >= _when("now"),
)


def live_claim(session: Session, assignment_id: str, reviewer_id: str, now: datetime) -> ReviewClaim | None:
    return session.scalar(_LIVE_CLAIM, {"assignment_id": assignment_id, "reviewer_id": reviewer_id, "now": now})


def claims_made(session: Session, assignment_id: str, reviewer_id: str) -> int:
    return int(
        session.scalar(
            select(func.count(ReviewClaim.id)).where(
                ReviewClaim.assignment_id == assignment_id, ReviewClaim.reviewer_id == reviewer_id, ReviewClaim.status != WITHDRAWN
            )
        )
        or 0
    )


def reviews_given(session: Session, assignment_id: str, reviewer_id: str) -> int:
    return int(
        session.scalar(select(func.count(Review.id)).where(Review.assignment_id == assignment_id, Review.reviewer_id == reviewer_id)) or 0
    )


# What the deployment's SECRET_KEY is mixed with to give the sample schedule's own key: a leak of a key derived
# for another use (or of this one) does not give the others.
_SAMPLE_SCHEDULE_PURPOSE = b"fairpeer:sample-schedule:v1"


def sample_schedule_key(secret_key: str | bytes) -> bytes:
    """The key of the staff-sample schedule: HMAC-SHA256(SECRET_KEY, purpose), so it is this deployment's secret."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    if not secret:
        # An empty key would make the schedule computable by anyone who reads this code.
        raise RuntimeError("SECRET_KEY is empty: the staff-sample schedule needs a per-deployment secret.")
    return hmac.new(secret, _SAMPLE_SCHEDULE_PURPOSE, hashlib.sha256).digest()


def _deployment_sample_key() -> bytes:
    """The running app's schedule key (like request_recalibration, the service reads the app's configuration)."""
    return sample_schedule_key(current_app.config["SECRET_KEY"])


def wants_sample(assignment: Assignment, reviewer_id: str, claim_index: int, *, key: bytes) -> bool:
    """Serve a staff sample at this claim (0-based index among the reviewer's claims)?

    Exactly one sample among the first three claims, at a position drawn per reviewer (so not always the
    first), then samples at ``calibration_share`` from the fourth claim on, at a reviewer-specific phase.
    The draw is a keyed hash, HMAC-SHA256(``key``, assignment id, reviewer id), with ``key`` the deployment's
    secret (sample_schedule_key): a reviewer who knows every public fact (this code, titles, emails, ids, the
    order and times of their claims) cannot tell which of their claims was a sample better than by chance.
    Stable ids, not names: a schedule never moves under a reviewer who has started it.
    """
    share = assignment.calibration_share
    if share <= 0:
        return False
    digest = hmac.new(key, f"{assignment.id}\x00{reviewer_id}".encode(), hashlib.sha256).digest()
    if claim_index < 3:
        return claim_index == int.from_bytes(digest[:8], "big") % 3
    phase = int.from_bytes(digest[8:15], "big") / 2**56
    k = claim_index - 3
    return int((k + 1) * share + phase) > int(k * share + phase)


def _pick_statement(*, over_review: bool) -> Update:
    """Take the eligible item with the fewest live-plus-completed reviews, ties to the oldest, in one statement.

    ``UPDATE submissions SET review_load = review_load + 1 WHERE id = (SELECT ... LIMIT 1 FOR NO KEY UPDATE SKIP
    LOCKED) RETURNING ...``: on PostgreSQL concurrent claimers lock different rows and the load condition holds on
    the row taken; SQLite ignores the locking clause, and BEGIN IMMEDIATE serialises claims there. NO KEY UPDATE,
    not UPDATE: a recalibration inserting Score rows takes key-share locks on these submissions, which must not
    make them look taken. Peer work: items short of their target, or with ``over_review`` items below ``cap``
    (reviews_required plus the over-review allowance), not held by a case; staff samples: any. Parameters:
    assignment, reviewer, item_kind, required, cap (not column names, which UPDATE reserves).

    The kind is a parameter, not a second statement: a sample and peer work are taken by the very same statement
    (same cache key, same compiled SQL, same work in Python), so the time a claim takes does not say which it was.
    """
    candidate = aliased(Submission, name="candidate")
    seen = exists().where(Exposure.submission_id == candidate.id, Exposure.viewer_id == bindparam("reviewer"))
    if over_review:
        room = candidate.review_load < bindparam("cap")
    else:
        room = candidate.review_load < func.coalesce(candidate.reviews_target, bindparam("required"))
    pick = select(candidate.id).where(
        candidate.assignment_id == bindparam("assignment"),
        candidate.status == ACTIVE,
        candidate.author_id != bindparam("reviewer"),
        candidate.kind == bindparam("item_kind"),
        ~seen,
        or_(candidate.kind == STAFF_SAMPLE, and_(~moderation.holds(candidate.id), room)),
    )
    # Work whose released score lost a review to a decision is served first (scoring/released.py).
    pick = pick.order_by(candidate.serve_rank, candidate.review_load, candidate.created_at, candidate.id).limit(1)
    pick = pick.with_for_update(skip_locked=True, of=candidate, key_share=True)
    # Spares the files query for items without files. Spelled ``submissions.id``: SQLAlchemy writes RETURNING
    # columns unqualified on SQLite, where a bare ``id`` inside this subquery would mean stored_files.id.
    has_files = exists().where(StoredFile.submission_id == literal_column("submissions.id"))
    # A Core statement on the table: the ORM's UPDATE path would rebuild it (and its cache key) on every call.
    table = table_of(Submission)
    return (
        update(table)
        .where(table.c.id == pick.scalar_subquery())
        .values(review_load=table.c.review_load + 1)
        .returning(table.c.id, table.c.text, has_files)
    )


_PICK = _pick_statement(over_review=False)
_PICK_OVER_REVIEW = _pick_statement(over_review=True)

# A new claim and its exposure. Parameters: claim, at, assignment, item, reviewer, expires, exposure.
_INSERT_CLAIM = insert(table_of(ReviewClaim)).values(
    id=bindparam("claim"),
    created_at=_when("at"),
    assignment_id=bindparam("assignment"),
    submission_id=bindparam("item"),
    reviewer_id=bindparam("reviewer"),
    status=LIVE,
    expires_at=_when("expires"),
    completed_at=None,
)
_INSERT_EXPOSURE = insert(table_of(Exposure)).values(
    id=bindparam("exposure"),
    created_at=_when("at"),
    submission_id=bindparam("item"),
    viewer_id=bindparam("reviewer"),
    claim_id=bindparam("claim"),
)
# On PostgreSQL both in one round trip (a data-modifying WITH; the foreign key is checked at the statement's end).
_INSERT_CLAIM_WITH_EXPOSURE = _INSERT_EXPOSURE.add_cte(_INSERT_CLAIM.cte("new_claim"))


def _in_one_statement(session: Session) -> bool:
    """Several writes in one statement (WITH ... INSERT/UPDATE) where the database allows it: PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


# One round trip for both questions asked of every claim: a live claim to return, and work of one's own.
_LIVE_AND_OWN = select(
    _LIVE_CLAIM.with_only_columns(ReviewClaim.id).limit(1).scalar_subquery(),
    exists().where(
        Submission.assignment_id == bindparam("assignment_id"),
        Submission.author_id == bindparam("reviewer_id"),
        Submission.kind == LEARNER_WORK,
        Submission.status == ACTIVE,
    ),
)

# The claimant's assignment with their membership row locked, in one round trip: one learner's claims on one
# course run one at a time, so two requests at once cannot both create a claim.
_CLAIMANT = (
    select(Assignment, Membership.role)
    .join(Membership, (Membership.course_id == Assignment.course_id) & (Membership.user_id == bindparam("user_id")))
    .where(Assignment.id == bindparam("assignment_id"))
    .with_for_update(of=Membership)
)


def _assignment_for_claimant(session: Session, assignment_id: str, user: User) -> Assignment:
    """The assignment a learner claims reviews in, their membership row locked until the transaction ends.

    Anyone else gets what ``get_assignment_for`` says: 404 to a non-member, 403 to another role.
    """
    if not user.is_admin:
        row = session.execute(_CLAIMANT, {"assignment_id": assignment_id, "user_id": user.id}).one_or_none()
        if row is not None and row[1] == LEARNER:
            assignment: Assignment = row[0]
            return assignment
    get_assignment_for(session, assignment_id, user, (LEARNER,), "claim reviews")
    raise forbidden("Only learners of this course may claim reviews.")


def claim_next_review(
    session: Session,
    assignment_id: str,
    reviewer: User,
    lease_minutes: int,
    over_review_extra: int,
    *,
    sample_key: bytes | None = None,
) -> ClaimOutcome:
    """The reviewer's live claim, or a new one on the item that most needs a review.

    Never their own work, never an item they were shown before, only the latest attempt of a submission; with
    ``training_samples`` set, not before the learner's training is done (409 ``training_required``). Staff
    samples come when wants_sample says, keyed with ``sample_key`` (by default the running app's, derived from
    its SECRET_KEY).
    """
    assignment = _assignment_for_claimant(session, assignment_id, reviewer)
    now = utcnow()
    live_id, has_own = session.execute(_LIVE_AND_OWN, {"assignment_id": assignment.id, "reviewer_id": reviewer.id, "now": now}).one()
    if live_id is not None:
        current = session.get_one(ReviewClaim, live_id)
        item = session.get_one(Submission, current.submission_id)
        return ClaimOutcome(assignment, current, item.id, item.text, False)
    if not has_own:
        raise DomainError("submit_first", "Submit your own work to this assignment first; then you can review others'.")
    if assignment.review_due_at is not None and now > assignment.review_due_at:
        raise DomainError("past_due", "The review deadline has passed; no more reviews can be claimed.")
    if assignment.training_samples > 0:
        training.require_training_done(session, assignment, reviewer.id)
    # Overdue claims go back to the pool through the periodic tend_queue task, not on this hot path.
    params = {
        "assignment": assignment.id,
        "reviewer": reviewer.id,
        "required": assignment.reviews_required,
        "cap": assignment.reviews_required + over_review_extra,
    }
    picks = [(_PICK, LEARNER_WORK), (_PICK_OVER_REVIEW, LEARNER_WORK)]
    if assignment.calibration_share > 0 and wants_sample(
        assignment, reviewer.id, claims_made(session, assignment.id, reviewer.id), key=sample_key or _deployment_sample_key()
    ):
        picks.insert(0, (_PICK, STAFF_SAMPLE))
    row = None
    for statement, kind in picks:
        row = session.execute(statement, {**params, "item_kind": kind}).one_or_none()
        if row is not None:
            break
    if row is None:
        raise DomainError("nothing_to_review", "There is nothing for you to review right now. Try again later.")
    item_id, text, has_files = row
    expires = now + timedelta(minutes=lease_minutes)
    params = {
        "claim": new_id(),
        "at": now,
        "assignment": assignment.id,
        "item": item_id,
        "reviewer": reviewer.id,
        "expires": expires,
        "exposure": new_id(),
    }
    # Plain inserts, not the unit of work: two rows nothing else in this request touches.
    if _in_one_statement(session):
        session.execute(_INSERT_CLAIM_WITH_EXPOSURE, params)
    else:
        session.execute(_INSERT_CLAIM, params)
        session.execute(_INSERT_EXPOSURE, params)
    claim_made(session)
    claim = ReviewClaim(
        id=params["claim"],
        created_at=now,
        assignment_id=assignment.id,
        submission_id=item_id,
        reviewer_id=reviewer.id,
        status=LIVE,
        expires_at=expires,
    )
    return ClaimOutcome(assignment, claim, item_id, text, True, bool(has_files))


class ReviewRejected(DomainError):
    """The review gate refused a review's comments (reviews/integrity/short_text.py): 422 ``review_rejected``, shaped
    like a refused submission (``details.reasons``: code, message and the field each concerns), with the sentences
    by field too (``details.fields``), so that a page shows each beside its box. Nothing is stored."""

    def __init__(self, refusals: list[ReviewRefusal]) -> None:
        message = refusals[0].message if len(refusals) == 1 else f"{len(refusals)} comments need rewriting; see each reason."
        fields: dict[str, list[str]] = {}
        for refusal in refusals:
            fields.setdefault(refusal.field, []).append(refusal.message)
        super().__init__(
            "review_rejected",
            f"Your review was not sent: {message}",
            {"reasons": [{"code": r.code, "message": r.message, "field": r.field} for r in refusals], "fields": fields},
        )
        self.refusals = refusals


def validate_review(assignment: Assignment, body: dict[str, Any]) -> tuple[dict[str, float], dict[str, str], str]:
    """The review's scores, comments and overall comment, or why not: 422 ``invalid_request`` for scores outside
    the rubric or comments on no criterion of it, 422 ``review_rejected`` when the review gate refuses a comment."""
    scores = validate_scores(assignment, body.get("scores"))
    comments = body.get("comments") or {}
    keys = {c["key"] for c in assignment.criteria}
    unknown = [k for k in comments if k not in keys]
    if unknown:
        raise invalid({f"comments.{k}": ["Unknown criterion."] for k in unknown}, "Comments must be keyed by the rubric's criteria.")
    comments, overall = {k: str(v) for k, v in comments.items()}, body.get("overall_comment") or ""
    refusals = check_review_comments(assignment.criteria, scores, comments, overall, require_overall=assignment.require_overall_comment)
    if refusals:
        raise ReviewRejected(refusals)
    return scores, comments, overall


# The claim, its assignment and its item, the claim and the item locked: of two sends of one review, the second
# waits and then sees the claim completed; the item's counters change under the lock.
_CLAIM_FOR_REVIEW = (
    select(ReviewClaim, Assignment, Submission)
    .join(Assignment, Assignment.id == ReviewClaim.assignment_id)
    .join(Submission, Submission.id == ReviewClaim.submission_id)
    .where(ReviewClaim.id == bindparam("claim_id"))
    .with_for_update(of=(ReviewClaim, Submission), key_share=True)
    .execution_options(populate_existing=True)
)


# A review, its claim completed and its item counted. Parameters: review, at, claim, item, reviewer, scores,
# comments, overall, load.
_INSERT_REVIEW = insert(table_of(Review)).values(
    id=bindparam("review"),
    created_at=_when("at"),
    claim_id=bindparam("claim"),
    assignment_id=bindparam("assignment"),
    submission_id=bindparam("item"),
    reviewer_id=bindparam("reviewer"),
    scores=bindparam("scores", type_=JSON()),
    comments=bindparam("comments", type_=JSON()),
    overall_comment=bindparam("overall"),
    discounted=False,
    weight=None,
)
_COMPLETE_CLAIM = (
    update(table_of(ReviewClaim)).where(table_of(ReviewClaim).c.id == bindparam("claim")).values(status=COMPLETED, completed_at=_when("at"))
)
# The load is set, not incremented: it was read under the row lock claim_for_review took.
_COUNT_REVIEW = (
    update(table_of(Submission))
    .where(table_of(Submission).c.id == bindparam("item"))
    .values(review_load=bindparam("load"), reviews_done=table_of(Submission).c.reviews_done + 1)
)
_REVIEW_WRITES = (_INSERT_REVIEW, _COMPLETE_CLAIM, _COUNT_REVIEW)
_REVIEW_IN_ONE_STATEMENT = _INSERT_REVIEW.add_cte(_COMPLETE_CLAIM.cte("completed_claim")).add_cte(_COUNT_REVIEW.cte("counted_item"))


def own_claim(session: Session, claim_id: str, reviewer_id: str) -> ReviewClaim:
    """The reviewer's own claim; anyone else's claim does not exist for them (404). The API and the pages both ask this."""
    claim = session.get(ReviewClaim, claim_id)
    if claim is None or claim.reviewer_id != reviewer_id:
        raise not_found("That claim")
    return claim


def claim_for_review(session: Session, claim_id: str, reviewer_id: str) -> tuple[ReviewClaim, Assignment, Submission]:
    """The reviewer's own claim with its assignment and item, locked for submit_review; anyone else's claim does
    not exist for them (404)."""
    row = session.execute(_CLAIM_FOR_REVIEW, {"claim_id": claim_id}).one_or_none()
    if row is None or row[0].reviewer_id != reviewer_id:
        raise not_found("That claim")
    return row[0], row[1], row[2]


def claim_grace(config: Any) -> timedelta:
    """How long after its claim expired a review is still taken: CLAIM_GRACE_MINUTES, unset meaning the lease length."""
    minutes = config.get("CLAIM_GRACE_MINUTES")
    return timedelta(minutes=float(config["CLAIM_LEASE_MINUTES"] if minutes is None else minutes))


def submit_review(
    session: Session,
    claim: ReviewClaim,
    assignment: Assignment,
    submission: Submission,
    body: dict[str, Any],
    debounce_seconds: float = 0,
    *,
    grace: timedelta | None = None,
) -> Review:
    """Store a review of the claimed item (claim and item as locked by claim_for_review).

    One late rule for every item, staff sample or peer work: a review of an expired claim is taken while the item
    is still in the pool and the review arrives within ``grace`` (default claim_grace of the running app's
    configuration) of the claim's expiry, and refused with ``claim_expired`` after that. Nothing else counts
    (not how many reviews the item has), so the answer tells a reviewer nothing they could not see. A late review
    of an item someone else claimed meanwhile is one review more than its target: the load counts it like any
    completed review, and the over-review cap only stops new claims.
    """
    if claim.status == COMPLETED:
        raise DomainError("already_reviewed", "You already sent a review for this claim. Claim a new item to review more.")
    scores, comments, overall = validate_review(assignment, body)
    now = utcnow()
    status, load = claim.status, submission.review_load
    if status == LIVE and claim.expires_at < now:
        # Expired, not yet swept: its place in the load is given back here, as expire_claims would.
        status, load = EXPIRED, load - 1
    if status != LIVE:
        if grace is None:
            grace = claim_grace(current_app.config)
        in_grace = status == EXPIRED and submission.status == ACTIVE and now <= claim.expires_at + grace
        if not in_grace:
            raise DomainError("claim_expired", "Your claim on this item has ended and its review can no longer be taken. Claim a new item.")
        load += 1
    params = {
        "review": new_id(),
        "at": now,
        "claim": claim.id,
        "assignment": assignment.id,
        "item": submission.id,
        "reviewer": claim.reviewer_id,
        "scores": scores,
        "comments": comments,
        "overall": overall,
        "load": load,
    }
    # Plain statements, not the unit of work (this is the busiest write); the locked objects are kept in step.
    for statement in (_REVIEW_IN_ONE_STATEMENT,) if _in_one_statement(session) else _REVIEW_WRITES:
        session.execute(statement, params)
    for target, values in (
        (claim, {"status": COMPLETED, "completed_at": now}),
        (submission, {"review_load": load, "reviews_done": submission.reviews_done + 1}),
    ):
        for key, value in values.items():
            set_committed_value(target, key, value)
    review_stored(session)
    request_recalibration(session, assignment.id, debounce_seconds)
    return Review(
        id=params["review"],
        created_at=now,
        claim_id=claim.id,
        assignment_id=assignment.id,
        submission_id=submission.id,
        reviewer_id=claim.reviewer_id,
        scores=scores,
        comments=comments,
        overall_comment=overall,
        discounted=False,
    )


def has_claimed(session: Session, submission_id: str, viewer_id: str) -> bool:
    """Was this submission shown to the viewer through a claim (the only way a learner sees others' work)?"""
    return (
        session.scalar(select(Exposure.id).where(Exposure.submission_id == submission_id, Exposure.viewer_id == viewer_id).limit(1))
        is not None
    )


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
    existing = moderation.existing_dedupe_keys(session, (f"needs_reviews:{submission.id}" for submission, _ in rows))
    for submission, assignment in rows:
        waited = (now - submission.created_at).total_seconds() / 3600
        key = f"needs_reviews:{submission.id}"
        if key in existing:
            continue
        moderation.open_case(
            session,
            course_id=assignment.course_id,
            assignment_id=assignment.id,
            kind="needs_reviews",
            subject_type="submission",
            subject_ids=[submission.id],
            submission_id=submission.id,
            evidence={
                "reviews_done": submission.reviews_done,
                "reviews_needed": submission.reviews_target or assignment.reviews_required,
                "waiting_hours": round(waited, 1),
            },
            dedupe_key=key,
        )
        opened += 1
    return opened
