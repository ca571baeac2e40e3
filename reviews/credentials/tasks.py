"""Credentials' background work: issue and revoke after every change to what a record shows, and a sweep for
runs that were lost.

What changes a record is seen where it is written: a flush that writes a score, a staff grade, a submission's
status (marked as copied, reinstated) or an assignment's release asks for a run of that assignment, debounced, sent
after the commit like every task. No other feature has to know that credentials exist."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import and_, event, exists, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, aliased

from reviews.courses.models import Assignment
from reviews.credentials import keys
from reviews.credentials.issuing import reconcile_assignment
from reviews.credentials.models import PROJECT, IssuedCredential
from reviews.kernel.background import enqueue, task
from reviews.kernel.db import db, utcnow
from reviews.kernel.transaction import run_in_transaction
from reviews.scoring.models import Score
from reviews.scoring.recalibration import first_in_window
from reviews.submissions.models import ACTIVE, CANCELLED, LEARNER_WORK, StaffGrade, Submission

_CHANGED = "fairpeer_credentials_changed"
log = logging.getLogger(__name__)


@task(max_retries=5, retry_delay=2.0)
def issue_assignment_credentials(assignment_id: str) -> dict[str, int]:
    """Make the assignment's credentials agree with its learners' records (issuing.reconcile_assignment).
    Idempotent: a run with nothing changed issues and revokes nothing; runs are serialised on the assignment row,
    and the unique (series, sequence) makes a racing duplicate fail rather than issue twice (it is retried and
    then finds nothing to do)."""
    config = current_app.config
    if keys.configured_key(config) is None:
        log.warning("credentials not issued: no signing key is configured (fairpeer init makes one; or set FAIRPEER_SIGNING_KEY_FILE)")
        return {"issued": 0, "revoked": 0}

    def run() -> dict[str, int]:
        outcome = reconcile_assignment(
            db.session, assignment_id, lambda: keys.signer(db.session, config), base_url=config["CREDENTIALS_BASE_URL"]
        )
        db.session.commit()
        return {"issued": len(outcome.issued), "revoked": len(outcome.revoked)}

    return run_in_transaction(db.session, run)


def request_credentials(session: Session, assignment_id: str) -> None:
    """Ask for a credential run of the assignment after the debounce delay, unless one is already coming."""
    seconds = float(current_app.config.get("CREDENTIALS_DEBOUNCE_SECONDS", 2))
    if current_app.extensions["fairpeer.background"].mode == "inline":
        seconds = 0  # inline work runs at once, in order
    if first_in_window(f"credentials:{assignment_id}", seconds):
        enqueue(session, issue_assignment_credentials, assignment_id, countdown=seconds or None)


def _changed(obj: Any, *names: str) -> bool:
    state = sa_inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _flush_context: Any) -> None:
    """Note which assignments a flush changed the records of; asked for at the commit (below)."""
    if not has_app_context() or "fairpeer.background" not in current_app.extensions:
        return
    changed: set[str] = session.info.setdefault(_CHANGED, set())
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Score) or (
            isinstance(obj, Submission) and obj.kind == LEARNER_WORK and obj not in session.new and _changed(obj, "status")
        ):
            changed.add(obj.assignment_id)
        elif isinstance(obj, StaffGrade):
            submission = session.get(Submission, obj.submission_id)
            if submission is not None:
                changed.add(submission.assignment_id)
        elif isinstance(obj, Assignment) and obj not in session.new and _changed(obj, "released_at", "review_due_at"):
            changed.add(obj.id)


@event.listens_for(Session, "before_commit")
def _ask_for_runs(session: Session) -> None:
    """At the outermost commit only: a savepoint's release also counts as a commit to SQLAlchemy, and work enqueued
    before one would be sent at its release, while the transaction that made it is still open."""
    if session.in_nested_transaction() or not has_app_context() or "fairpeer.background" not in current_app.extensions:
        return
    session.flush()  # what the commit would flush, so that it is noted too
    for assignment_id in sorted(session.info.pop(_CHANGED, set())):
        request_credentials(session, assignment_id)


# Work younger than this is probably still in flight.
GRACE = timedelta(seconds=10)


def assignments_missing_credentials(session: Session) -> list[str]:
    """Assignments where a run was lost: a released score of a latest attempt with no credential at all, or work
    marked as copied whose credential is still current. (A record whose score moved after its credential was
    issued is caught by the next change's run.)"""
    now = utcnow()
    cutoff = now - GRACE
    later = aliased(Submission)
    released = or_(
        Score.released_at.is_not(None),
        Assignment.released_at.is_not(None),
        and_(Assignment.review_due_at.is_not(None), Assignment.review_due_at < cutoff),
    )
    missing = (
        select(Submission.assignment_id)
        .join(Score, Score.submission_id == Submission.id)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(
            Submission.kind == LEARNER_WORK,
            Submission.status == ACTIVE,
            Score.value.is_not(None),
            Score.computed_at < cutoff,
            released,
            ~exists().where(IssuedCredential.submission_id == Submission.id),
            ~exists().where(
                later.assignment_id == Submission.assignment_id, later.author_id == Submission.author_id, later.attempt > Submission.attempt
            ),
        )
    )
    copied = (
        select(IssuedCredential.assignment_id)
        .join(Submission, Submission.id == IssuedCredential.submission_id)
        .where(IssuedCredential.kind == PROJECT, IssuedCredential.revoked_at.is_(None), Submission.status == CANCELLED)
    )
    return sorted({a for a in session.scalars(missing.union(copied)) if a is not None})


@task(periodic=True)
def sweep_credentials() -> dict[str, int]:
    """Enqueue the runs that were lost (assignments_missing_credentials). Idempotent: it only enqueues, and a run
    with nothing to do does nothing."""
    if keys.configured_key(current_app.config) is None:
        return {"assignments": 0}  # nothing can be signed here; the issue task says why once asked
    found = assignments_missing_credentials(db.session)
    for assignment_id in found:
        enqueue(db.session, issue_assignment_credentials, assignment_id)
    db.session.commit()
    return {"assignments": len(found)}
