"""What the queue's page shows (reviews/moderation/pages.py): its filters as a person reads them, a page of rows,
the links to the next page, and what a bulk action did."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, flash, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.courses.models import Assignment
from reviews.kernel.errors import DomainError
from reviews.moderation.models import CLAIMED, OPEN, RESOLVED, STAFF_REVIEW
from reviews.moderation.queue import (
    ALL,
    DEFAULT_LIMIT,
    STATUSES,
    UNRESOLVED,
    BulkResult,
    filters_from,
    known_kinds,
    queue_page,
    targets,
)
from reviews.moderation.schemas import KIND_WORDS

STATUS_WORDS = {
    OPEN: "Open",
    CLAIMED: "Claimed",
    STAFF_REVIEW: "Waiting for staff",
    RESOLVED: "Resolved",
    UNRESOLVED: "Not resolved yet",
    ALL: "All",
}


def page_view(session: Session, course_id: str, user: User, args: Mapping[str, Any]) -> dict[str, Any]:
    """What the queue's page shows for its query string: a filter the page does not know is dropped with a
    sentence saying so, and a cursor it did not give starts again at the most urgent case."""
    problems: list[str] = []
    wanted = {
        "status": args.get("status") or None,
        "kind": args.get("kind") or None,
        "assignment_id": args.get("assignment") or None,
        "mine": args.get("mine") == "1",
        "breached": args.get("breached") == "1",
    }
    try:
        filters = filters_from(wanted, known_kinds())
    except DomainError:
        problems.append("A filter had a value this page does not know, so it was left out.")
        wanted["status"] = wanted["status"] if wanted["status"] in STATUSES else None
        wanted["kind"] = wanted["kind"] if wanted["kind"] in known_kinds() else None
        filters = filters_from(wanted, known_kinds())
    sla = targets(current_app.config)
    cursor = args.get("cursor") or None
    try:
        page = queue_page(session, course_id, user, filters, sla, DEFAULT_LIMIT, cursor)
    except DomainError:
        problems.append("That page of the queue is no longer known; this is the most urgent page.")
        cursor, page = None, queue_page(session, course_id, user, filters, sla, DEFAULT_LIMIT, None)
    kept: dict[str, Any] = {
        key: value
        for key, value in (
            ("status", filters.status),
            ("kind", filters.kind),
            ("assignment", filters.assignment_id),
            ("mine", "1" if filters.mine else None),
            ("breached", "1" if filters.breached else None),
        )
        if value
    }
    here = url_for("moderation_pages.escalations", course_id=course_id)
    assignments = session.execute(
        select(Assignment.id, Assignment.title).where(Assignment.course_id == course_id).order_by(Assignment.created_at, Assignment.id)
    ).all()
    return {
        "rows": page.rows,
        "filters": filters,
        "breached_total": page.breached_total,
        "problems": problems,
        "status_options": [(s, STATUS_WORDS[s]) for s in STATUSES],
        "kind_options": [("", "Every kind"), *sorted(((k, KIND_WORDS.get(k, k)) for k in known_kinds()), key=lambda o: o[1])],
        "assignment_options": [("", "Every assignment")] + [(a, t) for a, t in assignments],
        "next_url": url_for("moderation_pages.escalations", course_id=course_id, cursor=page.next_cursor, **kept)
        if page.next_cursor
        else None,
        "first_url": url_for("moderation_pages.escalations", course_id=course_id, **kept) if cursor else None,
        "status_words": STATUS_WORDS,
        "here": here,
    }


def say_bulk(result: BulkResult, action: str) -> None:
    """Tell the mentor what a bulk action did, and why each case it skipped was skipped."""
    verb = "claimed" if action == "claim" else "dismissed"
    if result.done:
        flash(f"You {verb} {len(result.done)} case{'s' if len(result.done) != 1 else ''}.", "ok")
    for skipped in result.skipped:
        flash(f"Case {skipped['case_id'][:8]} was left as it was: {skipped['message']}", "error")
