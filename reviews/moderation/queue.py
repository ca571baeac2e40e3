"""The escalation queue: targets for each kind (SLA), filters, stable cursor pages, bulk claim and dismiss, ageing
cases handed to staff, and the numbers the staff console shows.

The queue is ordered by the stored ``queue_rank`` (reviews/moderation/ranking.py), highest first, then by id: a
case's rank never changes as it ages, so a cursor (the last row's rank and id) names the same place in the queue
however long a mentor waits, and cases opened meanwhile never shift or repeat a later page. Every list, count and
number here is one query, whatever the number of cases.
"""

from __future__ import annotations

import base64
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from reviews.accounts.models import User
from reviews.courses.models import Assignment
from reviews.kernel import audit
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError, invalid, not_found
from reviews.moderation import actions, leases, ranking, rules, services
from reviews.moderation.models import CLAIMED, OPEN, RESOLVED, STAFF_REVIEW, Case
from reviews.moderation.schemas import KIND_WORDS, PRIORITY
from reviews.notifications import moderation_hooks as tell
from reviews.submissions.models import Submission

UNRESOLVED, ALL = "unresolved", "all"
STATUSES = (OPEN, CLAIMED, STAFF_REVIEW, RESOLVED, UNRESOLVED, ALL)
BULK_ACTIONS = ("claim", "dismiss")
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
MAX_BULK = 200
# Appeals, for the appeal rate: of a review, and of a mentor's decision.
APPEAL_KINDS = ("unfair_review", "contested_decision")


@dataclass(frozen=True)
class Targets:
    """Target time to resolution of each kind, and how many targets a case may wait before it goes to staff."""

    hours: Mapping[str, float]
    default_hours: float = 72.0
    escalate_after: float = 2.0

    def of(self, kind: str) -> float:
        return float(self.hours.get(kind, self.default_hours))

    def breached(self, now: datetime, factor: float = 1.0) -> Any:
        """SQL: an unresolved case open longer than ``factor`` times its kind's target."""
        known = [and_(Case.kind == kind, Case.created_at < now - timedelta(hours=hours * factor)) for kind, hours in self.hours.items()]
        other = and_(Case.kind.not_in(list(self.hours)), Case.created_at < now - timedelta(hours=self.default_hours * factor))
        return and_(Case.status != RESOLVED, or_(*known, other))


def targets(config: Mapping[str, Any]) -> Targets:
    """The targets of the settings (CASE_SLA_HOURS, CASE_SLA_DEFAULT_HOURS, CASE_ESCALATE_AFTER_TARGETS)."""
    return Targets(
        dict(config.get("CASE_SLA_HOURS") or {}),
        float(config.get("CASE_SLA_DEFAULT_HOURS", 72)),
        float(config.get("CASE_ESCALATE_AFTER_TARGETS", 2)),
    )


@dataclass(frozen=True)
class Filters:
    status: str = OPEN
    kind: str | None = None
    assignment_id: str | None = None
    mine: bool = False
    breached: bool = False


def filters_from(args: Mapping[str, Any], known_kinds: set[str]) -> Filters:
    """The queue's filters from a query (the API's schema has checked the types); a wrong value is 422 naming it."""
    problems: dict[str, list[str]] = {}
    mine = bool(args.get("mine"))
    status = args.get("status") or (UNRESOLVED if mine else OPEN)
    if status not in STATUSES:
        problems["status"] = [f"Choose one of: {', '.join(STATUSES)}."]
    kind = args.get("kind") or None
    if kind is not None and kind not in known_kinds:
        problems["kind"] = [f"Not a kind of case; choose one of: {', '.join(sorted(known_kinds))}."]
    if problems:
        raise invalid(problems, "A filter of the queue has a value it does not know; see details.")
    return Filters(status, kind, args.get("assignment_id") or None, mine, bool(args.get("breached")))


def encode_cursor(rank: int, case_id: str) -> str:
    return base64.urlsafe_b64encode(f"{rank}|{case_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        rank, _, case_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        if not case_id:
            raise ValueError(cursor)
        return int(rank), case_id
    except ValueError as exc:
        raise invalid(
            {"cursor": ["Not a cursor this service gave: pass next_cursor from an earlier page as it is."]},
            "The cursor is not one this service gave; start again without it.",
        ) from exc


def age_words(delta: timedelta) -> str:
    """How long a case has waited, as a person says it."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return "just now" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


@dataclass
class QueueRow:
    case: Case
    learner: dict[str, str] | None
    assignment: dict[str, str] | None
    holder: dict[str, str] | None
    age: str
    age_hours: float
    breached: bool
    due_at: datetime
    urgency: int
    reporter_record: dict[str, Any] | None


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None
    breached_total: int
    filters: Filters = field(default_factory=Filters)


def _filtered(course_id: str, user: User, filters: Filters, sla: Targets, now: datetime) -> list[Any]:
    conditions: list[Any] = [Case.course_id == course_id]
    if filters.status == UNRESOLVED:
        conditions.append(Case.status != RESOLVED)
    elif filters.status != ALL:
        conditions.append(leases.status_is(filters.status, now))
    if filters.kind:
        conditions.append(Case.kind == filters.kind)
    if filters.assignment_id:
        conditions.append(Case.assignment_id == filters.assignment_id)
    if filters.mine:
        conditions.append(and_(Case.claimed_by_id == user.id, ~leases.status_is(OPEN, now)))
    if filters.breached:
        conditions.append(sla.breached(now))
    return conditions


def queue_page(
    session: Session,
    course_id: str,
    user: User,
    filters: Filters,
    sla: Targets,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    now: datetime | None = None,
) -> QueuePage:
    """One page of the queue, most urgent first, each row with whose work it is, the assignment, who holds it,
    its age and whether it is past its target; and the number of the course's cases past their target. Three
    queries, whatever the page's size."""
    now = now or utcnow()
    limit = max(1, min(limit, MAX_LIMIT))
    author, holder = aliased(User), aliased(User)
    conditions = _filtered(course_id, user, filters, sla, now)
    if cursor:
        rank, last_id = decode_cursor(cursor)
        conditions.append(or_(Case.queue_rank < rank, and_(Case.queue_rank == rank, Case.id > last_id)))
    # The page's ids first, over the narrow sort key alone; then the rows and their names for those ids only.
    page_ids = select(Case.id).where(*conditions).order_by(Case.queue_rank.desc(), Case.id).limit(limit + 1).subquery()
    found = session.execute(
        select(Case, author.id, author.name, Assignment.title, holder.name)
        .join(page_ids, page_ids.c.id == Case.id)
        .outerjoin(Submission, Submission.id == Case.submission_id)
        .outerjoin(author, author.id == Submission.author_id)
        .outerjoin(Assignment, Assignment.id == Case.assignment_id)
        .outerjoin(holder, holder.id == Case.claimed_by_id)
        .order_by(Case.queue_rank.desc(), Case.id)
    ).all()
    more = len(found) > limit
    found = found[:limit]
    reporters = [c.opened_by_id for c, *_ in found if c.opened_by_id]
    records = ranking.reporter_records(session, course_id, reporters)
    rows = []
    for case, author_id, author_name, assignment_title, holder_name in found:
        waited = now - case.created_at
        target = sla.of(case.kind)
        held_by = leases.effective_holder(case, now)
        record = None
        if case.opened_by_id:
            mine = records.get(case.opened_by_id, {"decided": 0, "upheld": 0})
            record = {**mine, "share": (mine["upheld"] / mine["decided"]) if mine["decided"] else None}
        rows.append(
            QueueRow(
                case=case,
                learner={"id": author_id, "name": author_name} if author_id else None,
                assignment={"id": case.assignment_id, "title": assignment_title} if case.assignment_id else None,
                holder={"id": held_by, "name": holder_name} if held_by else None,
                age=age_words(waited),
                age_hours=round(waited.total_seconds() / 3600, 2),
                breached=case.status != RESOLVED and waited > timedelta(hours=target),
                due_at=case.created_at + timedelta(hours=target),
                urgency=ranking.urgency(case.priority, case.created_at, now),
                reporter_record=record,
            )
        )
    last = found[-1][0] if found else None
    next_cursor = encode_cursor(last.queue_rank, last.id) if more and last is not None else None
    breached_total = int(session.scalar(select(func.count(Case.id)).where(Case.course_id == course_id, sla.breached(now))) or 0)
    return QueuePage(rows, next_cursor, breached_total, filters)


def row_json(row: QueueRow) -> dict[str, Any]:
    """A row of the queue's answer: the case as mentors and staff see it, with the queue's columns."""
    case = row.case
    return {
        # The case as mentors and staff see it, without what only its own answer carries (the author's
        # responses and contest links: a query each); one query for the whole page.
        **services.handler_fields(case),
        "criterion_key": case.criterion_key,
        "contests_case_id": case.contests_case_id,
        "learner": row.learner,
        "assignment": row.assignment,
        "holder": row.holder,
        "age": row.age,
        "age_hours": row.age_hours,
        "breached": row.breached,
        "due_at": row.due_at.isoformat(),
        "urgency": row.urgency,
        "reporter_record": row.reporter_record,
    }


def known_kinds() -> set[str]:
    return set(PRIORITY) | set(KIND_WORDS)


def list_json(
    session: Session, course_id: str, caller: User, role: str, query: Mapping[str, Any], config: Mapping[str, Any]
) -> dict[str, Any]:
    """The API's answer for a page of the queue (``query``: the checked query parameters)."""
    page = queue_page(
        session,
        course_id,
        caller,
        filters_from(query, known_kinds()),
        targets(config),
        int(query.get("limit") or DEFAULT_LIMIT),
        query.get("cursor"),
    )
    return {
        "cases": [row_json(row) for row in page.rows],
        "next_cursor": page.next_cursor,
        "breached_total": page.breached_total,
    }


# --- bulk actions


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {"done": self.done, "skipped": self.skipped}


def _may_handle(session: Session, case: Case, actor: User) -> None:
    """The same rule as acting on one case (rules.require_may_act), checked before anything changes: nobody acts
    on a case they opened or one about their own work, their own reviews or themselves, nor decides the contest
    of their own decision; only staff settle a case waiting for staff."""
    if case.status == RESOLVED:
        raise DomainError("conflict", "This case is resolved already; there is nothing left to do.")
    rules.require_may_act(session, case, actor)


def _dismiss(session: Session, case: Case, actor: User, note: str) -> None:
    """Dismiss in the mentor's name: a case nobody holds is taken first (no separate claim event: the dismissal
    is the one audit event of this case)."""
    if case.claimed_by_id != actor.id or leases.lease_expired(case):
        if not leases.claimable_by(case, actor):
            raise DomainError("already_claimed", "Another mentor holds this case. Leave it to them, or ask staff to take it over.")
        leases.take_lease(session, case, actor)
    actions.resolve(session, case, actor, {"action": "dismiss", "note": note})


def bulk_act(session: Session, course_id: str, actor: User, role: str, action: str, case_ids: list[str], note: str) -> BulkResult:
    """Claim or dismiss many cases of one course: each case on its own (a savepoint each), one audit event per
    case; a case the actor may not act on is left as it was and reported with the reason, never failed silently."""
    if action not in BULK_ACTIONS:
        raise invalid({"action": ["Choose claim or dismiss."]}, "Say whether to claim or to dismiss the chosen cases.")
    wanted = list(dict.fromkeys(case_ids))
    if not wanted:
        raise invalid({"case_ids": ["Choose at least one case."]}, "Choose the cases to act on first.")
    if len(wanted) > MAX_BULK:
        raise invalid({"case_ids": [f"At most {MAX_BULK} cases at once."]}, f"Act on at most {MAX_BULK} cases at once.")
    if action == "dismiss" and not note.strip():
        raise invalid(
            {"note": ["Say why these cases need no action."]}, "A dismissal needs a note: the reporters read it with the outcome."
        )
    found = {case.id: case for case in session.scalars(select(Case).where(Case.id.in_(wanted), Case.course_id == course_id))}
    result = BulkResult()
    for case_id in wanted:
        if case_id not in found:
            error = not_found("That case")
            result.skipped.append({"case_id": case_id, "code": error.code, "message": error.message})
            continue
        case = found[case_id]
        try:
            with session.begin_nested():
                _may_handle(session, case, actor)
                if action == "claim":
                    services.claim_case(session, case, actor)
                else:
                    _dismiss(session, case, actor, note)
                session.flush()
        except DomainError as exc:
            session.refresh(case)
            result.skipped.append({"case_id": case_id, "code": exc.code, "message": exc.message})
            continue
        result.done.append(case_id)
    return result


# --- ageing


def _tell_staff_of_age(session: Session, case_id: str, sla: Targets, now: datetime) -> None:
    """The course's staff hear of a case that went to them by its age (the hook a mentor's request uses)."""
    case = session.get_one(Case, case_id)
    target = sla.of(case.kind)
    why = f"because it waited {age_words(now - case.created_at)}, more than {sla.escalate_after:g} times its target of {target:g} hours"
    tell.handed_to_staff(session, case, KIND_WORDS.get(case.kind, case.kind.replace("_", " ")).lower(), "", why=why)


def escalate_overdue(session: Session, sla: Targets, now: datetime | None = None, limit: int = 500) -> int:
    """Hand every case open longer than ``escalate_after`` times its target to staff (status staff_review, the
    claim let go), one audit event each. Nothing is dismissed for its age. The update is conditional on the case
    still being open or claimed, so two sweeps at once escalate each case once."""
    now = now or utcnow()
    overdue = session.execute(
        select(Case.id, Case.course_id, Case.kind, Case.created_at)
        .where(Case.status.in_((OPEN, CLAIMED)), sla.breached(now, sla.escalate_after))
        .order_by(Case.created_at, Case.id)
        .limit(limit)
    ).all()
    escalated = 0
    for case_id, course_id, kind, opened in overdue:
        moved = session.execute(
            update(Case)
            .where(Case.id == case_id, Case.status.in_((OPEN, CLAIMED)))
            .values(
                status=STAFF_REVIEW,
                claimed_by_id=None,
                claimed_at=None,
                lease_expires_at=None,
                version=Case.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            continue
        audit.record(
            session,
            course_id,
            None,
            "case.escalated",
            f"case:{case_id}",
            reason="past its target time",
            target_hours=sla.of(kind),
            hours_open=round((now - opened).total_seconds() / 3600, 1),
        )
        _tell_staff_of_age(session, case_id, sla, now)
        escalated += 1
    session.expire_all()
    return escalated


# --- the staff console


@dataclass(frozen=True)
class CaseNumbers:
    open_by_kind: list[tuple[str, int]]
    median_hours_to_resolve: float | None
    resolved: int
    breaches: int
    appeals: dict[str, int]

    def appeal_rate(self, assignment_id: str, submissions: int) -> float | None:
        return self.appeals.get(assignment_id, 0) / submissions if submissions else None


def console_numbers(session: Session, course_id: str, sla: Targets, now: datetime | None = None) -> CaseNumbers:
    """Open cases by kind, the median time from opening to resolution, the cases past their target and the appeals
    per assignment: four queries, whatever the number of cases."""
    now = now or utcnow()
    by_kind = session.execute(
        select(Case.kind, func.count(Case.id))
        .where(Case.course_id == course_id, Case.status != RESOLVED)
        .group_by(Case.kind)
        .order_by(func.count(Case.id).desc(), Case.kind)
    ).all()
    spans = session.execute(
        select(Case.created_at, Case.resolved_at).where(Case.course_id == course_id, Case.status == RESOLVED, Case.resolved_at.is_not(None))
    ).all()
    hours = [(done - opened).total_seconds() / 3600 for opened, done in spans]
    breaches = int(session.scalar(select(func.count(Case.id)).where(Case.course_id == course_id, sla.breached(now))) or 0)
    appeals = session.execute(
        select(Case.assignment_id, func.count(Case.id))
        .where(Case.course_id == course_id, Case.kind.in_(APPEAL_KINDS), Case.assignment_id.is_not(None))
        .group_by(Case.assignment_id)
    ).all()
    return CaseNumbers(
        [(str(kind), int(count)) for kind, count in by_kind],
        round(statistics.median(hours), 1) if hours else None,
        len(hours),
        breaches,
        {str(a): int(n) for a, n in appeals},
    )
