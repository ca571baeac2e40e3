"""How urgent a case is: its kind's priority, the reporter's record, and one age point an hour for every kind.

A case's urgency at time ``t`` is ``priority + AGE_POINTS_PER_HOUR * hours since it opened``. Every case ages at
the same rate, so the order of two cases never changes with ``t``: ranking by ``priority * 3600 / rate - opened``
(seconds since the epoch) is the same as ranking by urgency at any moment. That key is stored (``queue_rank``) and
indexed, and a cursor over it stays valid however long a mentor takes between pages.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, event, func, select
from sqlalchemy.orm import Session

from reviews.kernel.db import utcnow
from reviews.moderation.models import RESOLVED, Case

# One rate for every kind: a case gains one priority point for every hour it waits.
AGE_POINTS_PER_HOUR = 1
# A reporter's record counts once this many of their earlier reports were decided.
RECORD_MIN_DECIDED = 3
# A reporter whose reports were all upheld gains this many points; one whose reports were all dismissed loses as many.
RECORD_MAX_POINTS = 10


def queue_rank(priority: int, opened: Any) -> int:
    """The stored sort key: higher is more urgent, and it never needs recomputing as cases age."""
    return int(priority * 3600 // AGE_POINTS_PER_HOUR) - int(opened.timestamp())


def urgency(priority: int, opened: Any, now: Any) -> int:
    """The priority a case has reached by ``now`` (what the queue shows)."""
    return priority + int((now - opened).total_seconds() // 3600) * AGE_POINTS_PER_HOUR


@event.listens_for(Case, "before_insert")
def _rank_new_case(_mapper: Any, _connection: Any, target: Case) -> None:
    if target.created_at is None:
        target.created_at = utcnow()
    if target.priority is None:
        target.priority = 50
    target.queue_rank = queue_rank(target.priority, target.created_at)
    if target.status == RESOLVED and target.resolved_at is None:
        target.resolved_at = utcnow()


@event.listens_for(Case, "before_update")
def _rank_changed_case(_mapper: Any, _connection: Any, target: Case) -> None:
    target.queue_rank = queue_rank(target.priority, target.created_at)
    if target.status == RESOLVED:
        if target.resolved_at is None:
            target.resolved_at = utcnow()
    elif target.resolved_at is not None:  # reopened
        target.resolved_at = None


def upheld() -> Any:
    """SQL: 1 for a decided case whose outcome was not a dismissal."""
    return case((Case.outcome["action"].as_string() != "dismiss", 1), else_=0)


def reporter_records(session: Session, course_id: str, reporter_ids: list[str]) -> dict[str, dict[str, int]]:
    """For each reporter, how many of their reports in the course were decided and how many of those upheld
    (resolved with an outcome other than dismiss); one query."""
    if not reporter_ids:
        return {}
    rows = session.execute(
        select(Case.opened_by_id, func.count(Case.id), func.sum(upheld()))
        .where(Case.course_id == course_id, Case.opened_by_id.in_(set(reporter_ids)), Case.status == RESOLVED)
        .group_by(Case.opened_by_id)
    ).all()
    return {str(who): {"decided": int(decided), "upheld": int(up or 0)} for who, decided, up in rows}


def record_points(decided: int, upheld_count: int) -> int:
    """Points a reporter's record adds (or takes away, when negative) from a new report's priority."""
    if decided < RECORD_MIN_DECIDED:
        return 0
    share = upheld_count / decided
    return round((share - 0.5) * 2 * RECORD_MAX_POINTS)


def weigh_by_reporter(session: Session, new_case: Case, reporter_id: str) -> Case:
    """Raise or lower a new report's priority by its reporter's record of upheld reports. A report that joined a
    case someone else opened, or was weighed already, is left alone."""
    if new_case.opened_by_id != reporter_id or "reporter_record" in (new_case.evidence or {}):
        return new_case
    found = reporter_records(session, new_case.course_id, [reporter_id]).get(reporter_id, {"decided": 0, "upheld": 0})
    points = record_points(found["decided"], found["upheld"])
    new_case.priority = new_case.priority + points
    new_case.evidence = {**(new_case.evidence or {}), "reporter_record": {**found, "points": points}}
    return new_case
