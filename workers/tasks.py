"""Tasks: ids in, a service call, commit. Each says what makes it safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from reviews.allocation.services import expire_claims as expire_overdue_claims
from reviews.allocation.services import open_needs_reviews_cases
from reviews.integrity import services as integrity
from reviews.kernel.background import enqueue
from reviews.kernel.db import db, utcnow
from reviews.ops import sweep as sweep_service
from reviews.scoring.services import recalibrate
from reviews.submissions.models import Submission

log = logging.getLogger(__name__)


@shared_task(name="fairpeer.recalibrate_assignment", bind=True, max_retries=5, default_retry_delay=2)
def recalibrate_assignment(self, assignment_id: str) -> int | None:  # type: ignore[no-untyped-def]
    """Recompute the assignment's scores. Idempotent: a run over inputs already calibrated does nothing, and
    runs are serialised on the assignment row, so a retry or a duplicate delivery cannot undo a newer result."""
    try:
        return recalibrate(
            db.session,
            assignment_id,
            method=current_app.config["CALIBRATION_METHOD"],
            fault_sleep=current_app.config["FAULT_RECALIBRATE_SLEEP"],
            width_share=current_app.config["ADAPTIVE_WIDTH_SHARE"],
            max_extra=current_app.config["OVER_REVIEW_EXTRA"],
        )
    except Exception as exc:
        db.session.rollback()
        log.exception("recalibration of %s failed", assignment_id)
        if current_app.config.get("BACKGROUND_MODE") == "celery":
            raise self.retry(exc=exc) from exc
        raise


@shared_task(name="fairpeer.check_similarity")
def check_similarity(submission_id: str) -> int:
    """Compare a new submission with the others. Idempotent: cases are keyed by the pair, and a checked
    submission is stamped, so a second run opens nothing new."""
    opened = integrity.check_submission(db.session, submission_id, current_app.config["SIMILARITY_THRESHOLD"])
    if opened:
        # Copies come in clusters: regroup the whole assignment once this pair is known.
        submission = db.session.get(Submission, submission_id)
        if submission is not None:
            enqueue(db.session, "fairpeer.similarity_sweep", submission.assignment_id)
    db.session.commit()
    return opened


@shared_task(name="fairpeer.similarity_sweep")
def similarity_sweep(assignment_id: str) -> int:
    """Re-check every pair of an assignment and group clusters of copies into one case each. Idempotent: a
    cluster's case is keyed by its first member."""
    clusters = integrity.sweep_assignment(db.session, assignment_id, current_app.config["SIMILARITY_THRESHOLD"])
    db.session.commit()
    return len(clusters)


@shared_task(name="fairpeer.sweep")
def sweep() -> dict[str, int]:
    """Re-enqueue work whose result is missing or older than its inputs. Idempotent: it only enqueues
    idempotent tasks."""
    counts = sweep_service.find_and_enqueue(db.session)
    db.session.commit()
    return counts


@shared_task(name="fairpeer.expire_claims")
def expire_claims() -> int:
    """Expire overdue claims. Idempotent and safe when two run at once: each claim expires by a conditional update."""
    count = expire_overdue_claims(db.session)
    db.session.commit()
    return count


@shared_task(name="fairpeer.tend_queue")
def tend_queue() -> dict[str, int]:
    """Expire overdue claims and send submissions stuck without reviews to staff. Safe when two workers run it at
    once: claims expire by conditional update, and each needs_reviews case has a dedupe key."""
    expired = expire_overdue_claims(db.session)
    db.session.commit()
    stuck = open_needs_reviews_cases(db.session, utcnow(), current_app.config["NEEDS_REVIEWS_AFTER_HOURS"])
    db.session.commit()
    return {"expired": expired, "needs_reviews": stuck}


@shared_task(name="fairpeer.ping")
def ping() -> str:
    """The health check's round trip; touches nothing."""
    return "pong"
