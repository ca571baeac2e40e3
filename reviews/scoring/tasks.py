"""Scoring's background work."""

from __future__ import annotations

from flask import current_app

from reviews.kernel.background import task
from reviews.kernel.db import db
from reviews.kernel.transaction import run_in_transaction
from reviews.scoring.services import recalibrate


@task(max_retries=5, retry_delay=2.0)
def recalibrate_assignment(assignment_id: str) -> int | None:
    """Recompute the assignment's scores. Idempotent: a run over inputs already calibrated does nothing, and
    runs are serialised on the assignment row, so a retry or a duplicate delivery cannot undo a newer result.
    A deadlock with a resubmission runs it again at once (kernel/transaction.py), before the task's own retries."""
    config = current_app.config

    def run() -> int | None:
        version = recalibrate(
            db.session,
            assignment_id,
            method=config["CALIBRATION_METHOD"],
            width_share=config["ADAPTIVE_WIDTH_SHARE"],
            max_extra=config["OVER_REVIEW_EXTRA"],
        )
        db.session.commit()
        return version

    return run_in_transaction(db.session, run)
