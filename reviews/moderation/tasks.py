"""Moderation's background work: claims on cases whose lease ran out go back to the queue."""

from __future__ import annotations

from flask import current_app

from reviews.kernel.background import task
from reviews.kernel.db import db, utcnow
from reviews.moderation.leases import expire_leases
from reviews.moderation.queue import escalate_overdue, targets
from reviews.notifications.digest import send_sla_digests


@task(periodic=True)
def expire_case_leases() -> dict[str, int]:
    """Put cases whose claim ran out back in the queue, each audited once. Idempotent: only cases still claimed
    past their lease change, and two sweeps at once skip each other's rows."""
    expired = expire_leases(db.session)
    db.session.commit()
    return {"expired": expired}


@task(periodic=True)
def escalate_overdue_cases() -> dict[str, int]:
    """Hand cases open far past their target time (CASE_ESCALATE_AFTER_TARGETS times it) to staff, each audited
    once; none is dismissed for its age. Idempotent: the change is conditional on the case still being open or
    claimed, so a second run, or two at once, escalate nothing twice."""
    escalated = escalate_overdue(db.session, targets(current_app.config))
    db.session.commit()
    return {"escalated": escalated}


@task(periodic=True)
def send_sla_digest() -> dict[str, int]:
    """Once a day (from SLA_DIGEST_HOUR_UTC on), tell each mentor and staff member of a course with cases past
    their target how many there are and which waited longest. Runs on every sweep; idempotent: each person's
    digest of a day has an id made from a key per person per day, so a second run, or two at once, sends it once."""
    config = current_app.config
    now = utcnow()
    if now.hour < int(config["SLA_DIGEST_HOUR_UTC"]):
        return {"sent": 0}
    sent = send_sla_digests(db.session, targets(config), now)
    db.session.commit()
    return {"sent": sent}
