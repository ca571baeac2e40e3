"""Integrity's background work: the copy check of each new submission, and regrouping an assignment's copies."""

from __future__ import annotations

from flask import current_app

from reviews.integrity import services as integrity
from reviews.kernel.background import enqueue, task
from reviews.kernel.db import db
from reviews.submissions.models import Submission


@task
def check_similarity(submission_id: str) -> int:
    """Compare a new submission with the others. Idempotent: cases are keyed by the pair, and a checked
    submission is stamped, so a second run opens nothing new."""
    opened = integrity.check_submission(db.session, submission_id, current_app.config["SIMILARITY_THRESHOLD"])
    if opened:
        # Copies come in clusters: regroup the whole assignment once this pair is known.
        submission = db.session.get(Submission, submission_id)
        if submission is not None:
            enqueue(db.session, group_copies, submission.assignment_id)
    db.session.commit()
    return opened


@task
def group_copies(assignment_id: str) -> int:
    """Re-check every pair of an assignment and group clusters of copies into one case each. Idempotent: a
    cluster's case is keyed by its first member."""
    clusters = integrity.group_copies(db.session, assignment_id, current_app.config["SIMILARITY_THRESHOLD"])
    db.session.commit()
    return len(clusters)
