"""Allocation's background work: keeping the review queue moving."""

from __future__ import annotations

from flask import current_app

from reviews.allocation.services import expire_claims, open_needs_reviews_cases
from reviews.kernel import metrics
from reviews.kernel.background import task
from reviews.kernel.db import db, utcnow


@task(periodic=True)
def tend_queue() -> dict[str, int]:
    """Expire overdue claims and send submissions stuck without reviews to staff. Safe when two workers run it at
    once: claims expire by conditional update, and each needs_reviews case has a dedupe key."""
    expired = expire_claims(db.session)
    db.session.commit()
    stuck = open_needs_reviews_cases(db.session, utcnow(), current_app.config["NEEDS_REVIEWS_AFTER_HOURS"])
    db.session.commit()
    metrics.review_sla_breached(stuck)  # each is a submission short of reviews past the NEEDS_REVIEWS_AFTER_HOURS target
    return {"expired": expired, "needs_reviews": stuck}
