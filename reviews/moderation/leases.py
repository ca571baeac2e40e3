"""A mentor's claim on a case is a lease: it lasts the course's ``case_lease_hours``, its holder may renew or
release it, staff may take the case over, and an expired lease puts the case back in the queue.

A claim whose lease has run out counts as open wherever that matters (the case's answer, the queue's filters,
another mentor claiming it) from the moment it runs out; the periodic sweep (``tasks.expire_case_leases``) then
writes the status back and audits it. Every change of a case moves its ``version`` (the answers' ETag); a change
sent with ``If-Match`` is held against it here (``require_version``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.courses.access import STAFF, role_in
from reviews.courses.models import Course
from reviews.kernel import audit
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError, forbidden
from reviews.moderation.models import CLAIMED, OPEN, RESOLVED, STAFF_REVIEW, Case
from reviews.moderation.schemas import KIND_WORDS
from reviews.notifications import moderation_hooks as tell

DEFAULT_LEASE_HOURS = 4.0
STALE_VERSION = "This case changed since you opened it. Reload it, check what changed, and then act again."


def lease_length(session: Session, case: Case) -> timedelta:
    hours = session.scalar(select(Course.case_lease_hours).where(Course.id == case.course_id))
    return timedelta(hours=float(hours if hours is not None else DEFAULT_LEASE_HOURS))


def lease_expired(case: Case, now: datetime | None = None) -> bool:
    """True when the case is claimed and its lease has run out (the sweep has not put it back yet)."""
    return case.status == CLAIMED and case.lease_expires_at is not None and case.lease_expires_at <= (now or utcnow())


def effective_status(case: Case, now: datetime | None = None) -> str:
    return OPEN if lease_expired(case, now) else case.status


def effective_holder(case: Case, now: datetime | None = None) -> str | None:
    return None if lease_expired(case, now) else case.claimed_by_id


def lease_end(case: Case) -> str | None:
    """When the live lease of a claimed case runs out (ISO 8601), else None."""
    if effective_status(case) != CLAIMED or case.lease_expires_at is None:
        return None
    return case.lease_expires_at.isoformat()


def status_is(status: str, now: datetime | None = None) -> Any:
    """SQL condition: the case's status as its answers show it (an expired claim is open, not claimed)."""
    moment = now or utcnow()
    expired = and_(Case.status == CLAIMED, Case.lease_expires_at.is_not(None), Case.lease_expires_at <= moment)
    if status == OPEN:
        return or_(Case.status == OPEN, expired)
    if status == CLAIMED:
        return and_(Case.status == CLAIMED, ~expired)
    return Case.status == status


def take_lease(session: Session, case: Case, holder: User) -> None:
    """Give ``holder`` a fresh lease on the case (a claim, a claim again after expiry, a takeover)."""
    now = utcnow()
    case.claimed_by_id, case.claimed_at = holder.id, now
    case.lease_expires_at = now + lease_length(session, case)
    if case.status in (OPEN, CLAIMED):
        case.status = CLAIMED


def claimable_by(case: Case, mentor: User) -> bool:
    """Whether another holder stands in the mentor's way: nobody, or a holder whose lease ran out."""
    holder = effective_holder(case)
    return holder is None or holder == mentor.id


def _require_holder(case: Case, caller: User, doing: str) -> None:
    if case.status == RESOLVED:
        raise DomainError("conflict", "This case is resolved already; there is no claim left to change.")
    if case.status == STAFF_REVIEW:
        raise DomainError("conflict", "This case is waiting for staff; its claim can no longer be changed.")
    if case.status != CLAIMED or case.claimed_by_id != caller.id:
        raise forbidden(f"Only the mentor who holds the claim on this case may {doing} it. Claim the case first.")


def require_live_lease(case: Case, caller: User) -> None:
    """Acting on a case needs a claim that has not run out."""
    if case.claimed_by_id == caller.id and lease_expired(case):
        raise DomainError(
            "lease_expired",
            "Your claim on this case ran out and the case went back to the queue. Claim it again to act on it.",
            {"lease_expired_at": case.lease_expires_at.isoformat() if case.lease_expires_at else None},
        )


def renew(session: Session, case: Case, holder: User) -> Case:
    """The holder extends the lease by the course's lease length from now."""
    _require_holder(case, holder, "renew")
    require_live_lease(case, holder)
    case.lease_expires_at = utcnow() + lease_length(session, case)
    audit.record(session, case.course_id, holder.id, "case.lease_renewed", f"case:{case.id}", expires_at=case.lease_expires_at.isoformat())
    return case


def release(session: Session, case: Case, holder: User) -> Case:
    """The holder gives the case back to the queue."""
    _require_holder(case, holder, "release")
    _back_to_queue(case)
    audit.record(session, case.course_id, holder.id, "case.released", f"case:{case.id}")
    return case


def take_over(session: Session, case: Case, staff: User) -> Case:
    """Staff (and admins) take a case from whoever holds it, or from the queue, with a fresh lease."""
    if role_in(case.course_id, staff) != STAFF:
        raise forbidden("Only staff of this course may take a case over. Ask staff, or claim a case that is open.")
    if case.status == RESOLVED:
        raise DomainError("conflict", "This case is resolved already; there is nothing left to take over.")
    previous = effective_holder(case)
    take_lease(session, case, staff)
    audit.record(session, case.course_id, staff.id, "case.taken_over", f"case:{case.id}", previous_holder=previous)
    tell.taken_over(session, case, KIND_WORDS.get(case.kind, case.kind.replace("_", " ")).lower(), previous, staff.id)
    return case


def _back_to_queue(case: Case) -> None:
    case.status = OPEN
    case.claimed_by_id = case.claimed_at = case.lease_expires_at = None


def expire_leases(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Put every case whose lease ran out back in the queue, one audit event each. Each case changes by a
    conditional update (still claimed by the same holder with the same lease end), so two sweeps at once, or a
    renewal meanwhile, never put a case back twice or take a renewed claim away."""
    moment = now or utcnow()
    found = session.execute(
        select(Case.id, Case.course_id, Case.claimed_by_id, Case.lease_expires_at)
        .where(Case.status == CLAIMED, Case.lease_expires_at.is_not(None), Case.lease_expires_at <= moment)
        .order_by(Case.lease_expires_at, Case.id)
        .limit(limit)
    ).all()
    expired = 0
    for case_id, course_id, holder, ended in found:
        changed = session.execute(
            update(Case)
            .where(Case.id == case_id, Case.status == CLAIMED, Case.claimed_by_id == holder, Case.lease_expires_at == ended)
            .values(status=OPEN, claimed_by_id=None, claimed_at=None, lease_expires_at=None, version=Case.version + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(changed, "rowcount", 0) == 1:
            audit.record(
                session, course_id, None, "case.lease_expired", f"case:{case_id}", previous_holder=holder, expired_at=ended.isoformat()
            )
            expired += 1
    return expired


def parse_if_match(sent: str | None) -> list[str] | None:
    """The versions an ``If-Match`` header (or the pages' ``if_match`` field) names; None when nothing was sent
    (older clients: no check); ``["*"]`` matches any version."""
    if sent is None or not sent.strip():
        return None
    tags = []
    for part in sent.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tags.append(tag.strip('"'))
    return tags


def etag(case: Case) -> str:
    return f'"{case.version}"'


def require_version(case: Case, sent: str | None, current: Callable[[], dict[str, Any]]) -> None:
    """409 ``conflict`` with the case as the caller sees it now (``current()``) when ``sent`` names another version."""
    tags = parse_if_match(sent)
    if tags is None or "*" in tags or str(case.version) in tags:
        return
    raise DomainError("conflict", STALE_VERSION, {"case": current(), "version": case.version})


def lease_in_words(iso: str | None, now: datetime | None = None) -> str:
    """When a lease ends, as the pages say it: "at 14:30 UTC on 3 December 2026, in 3 hours 58 minutes"."""
    if not iso:
        return "never: nobody holds this case"
    end = datetime.fromisoformat(iso)
    left = end - (now or utcnow())
    when = f"at {end:%H:%M} UTC on {end.day} {end:%B %Y}"
    if left.total_seconds() <= 0:
        return f"{when}, which has passed"
    minutes = int(left.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes else "less than a minute")
    return f"{when}, in {' '.join(parts)}"
