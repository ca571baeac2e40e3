"""A case about learner 0's work, a second mentor and another course's staff member, and ways to move a lease's
end into the past."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reviews.kernel.audit import AuditEvent
from reviews.kernel.db import db, utcnow
from reviews.moderation.models import Case
from tests.conftest import Caller, World, make_user


def open_case(world: World) -> str:
    """Learner 0 submits and asks a mentor to look at their work: an open case nobody holds."""
    assert world.submit(world.learners[0]).status_code == 201
    author = world.learners[0]
    submission_id = author.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    sent = author.post(
        f"/api/submissions/{submission_id}/reports", json={"kind": "other", "message": "Please check the marking of my risks section."}
    )
    assert sent.status_code == 201, sent.get_json()
    return str(sent.get_json()["case_id"])


def second_mentor(world: World) -> Caller:
    mentor = make_user(world.app, world.client, "mentor2@example.org", "Second mentor")
    assert world.staff.post(f"/api/courses/{world.course_id}/members", json={"user_id": mentor.id, "role": "mentor"}).status_code == 201
    return mentor


def other_course_staff(world: World) -> Caller:
    staff = make_user(world.app, world.client, "elsewhere@example.org", "Staff elsewhere")
    added = world.admin.post(f"/api/courses/{world.other_course_id}/members", json={"user_id": staff.id, "role": "staff"})
    assert added.status_code == 201
    return staff


def move_lease_end(world: World, case_id: str, by: timedelta) -> None:
    """Time passes: the lease ends ``by`` earlier than it was set to."""
    with world.app.app_context():
        case = db.session.get_one(Case, case_id)
        assert case.lease_expires_at is not None
        case.lease_expires_at = case.lease_expires_at - by
        db.session.commit()


def expire_lease(world: World, case_id: str) -> None:
    """The lease ran out a minute ago."""
    with world.app.app_context():
        case = db.session.get_one(Case, case_id)
        case.lease_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


def stored(world: World, case_id: str) -> dict[str, Any]:
    with world.app.app_context():
        case = db.session.get_one(Case, case_id)
        return {"status": case.status, "claimed_by": case.claimed_by_id, "lease_expires_at": case.lease_expires_at, "version": case.version}


def events(world: World, case_id: str, action: str) -> list[dict[str, Any]]:
    with world.app.app_context():
        rows = db.session.query(AuditEvent).filter_by(subject=f"case:{case_id}", action=action).order_by(AuditEvent.created_at).all()
        return [{"actor": r.actor_id, **r.data} for r in rows]


def hours_from_now(iso: str) -> float:
    return (datetime.fromisoformat(iso) - utcnow()).total_seconds() / 3600
