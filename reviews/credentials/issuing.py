"""Issuing and revoking: each released project score as shown on the record gets one signed OpenBadgeCredential,
each learner's course record one more that lists the projects' credentials as evidence.

``reconcile_assignment`` compares what every learner's record shows with their current credentials and makes them
agree: nothing to do when they already do (so a retried or duplicated run issues nothing twice), otherwise the old
credential is revoked through its status bit and, unless the work was marked as plagiarism, a new one is issued. The
unique (series, sequence) of ``credentials`` makes two runs that raced to issue the same one fail in one of them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import credentials
from reviews.accounts.models import User
from reviews.courses.models import Assignment, Course
from reviews.credentials.keys import Signer
from reviews.credentials.models import COURSE_RECORD, PROJECT, CredentialSubject, IssuedCredential, StatusList
from reviews.credentials.services import credential_links
from reviews.integrity.models import IndexedDocument
from reviews.kernel import audit
from reviews.kernel.db import utcnow
from reviews.kernel.words import shortened
from reviews.records.progress import copy_check_words, released_attempt
from reviews.scoring.services import scores_json
from reviews.submissions.models import CANCELLED, LEARNER_WORK, Submission

log = logging.getLogger(__name__)

# Names an achievement's parts in credentials without showing the service's internal ids.
_NAMESPACE = uuid.UUID("6f1c1d57-3f4a-4d8e-9a51-2b1f0c7e8d90")


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def public_urn(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, ':'.join(parts))}"


def subject_ids(session: Session, user_ids: list[str]) -> dict[str, str]:
    """Each learner's stable, random subject id (urn:uuid), made on first use."""
    found = dict(
        session.execute(select(CredentialSubject.user_id, CredentialSubject.subject_id).where(CredentialSubject.user_id.in_(user_ids)))
        .tuples()
        .all()
    )
    for user_id in user_ids:
        if user_id in found:
            continue
        try:
            with session.begin_nested():
                row = CredentialSubject(user_id=user_id, subject_id=f"urn:uuid:{uuid.uuid4()}")
                session.add(row)
            found[user_id] = row.subject_id
        except IntegrityError:  # another run made it first
            found[user_id] = session.scalars(select(CredentialSubject.subject_id).where(CredentialSubject.user_id == user_id)).one()
    return found


# --- status lists -------------------------------------------------------------------------------------------------


def status_list_url(base_url: str, number: int) -> str:
    return f"{base_url.rstrip('/')}/status/{number}"


def sign_status_list(row: StatusList, signer: Signer, now: datetime) -> None:
    """Sign the list's current bits with the key that owns it (a verifier wants one issuer for a credential and its list)."""
    key = signer.key_for(row.key_id)
    document = credentials.status_list_credential(
        url=row.url, issuer_id=key.did, issuer_name=signer.name, bits=bytes(row.bits), valid_from=iso(now)
    )
    row.signed = json.dumps(credentials.sign(document, key, created=iso(now)), separators=(",", ":"), ensure_ascii=False)
    row.signed_version = row.bits_version
    row.updated_at = now


def allocate_status_entry(session: Session, signer: Signer, base_url: str, now: datetime) -> tuple[int, int]:
    """(list number, index) of a fresh entry in the signing key's newest list, taken with one conditional UPDATE (two
    issuers never get the same entry; the unique (list, index) of credentials guards it too); a full or missing list
    gets a new one, published signed at once."""
    for _ in range(5):
        number = session.scalar(select(func.max(StatusList.number)).where(StatusList.key_id == signer.issuer_key_id))
        if number is not None:
            taken = session.execute(
                update(StatusList)
                .where(StatusList.number == number, StatusList.next_index < credentials.STATUS_LIST_BITS)
                .values(next_index=StatusList.next_index + 1)
                .returning(StatusList.next_index)
                .execution_options(synchronize_session=False)
            ).scalar()
            if taken is not None:
                return number, int(taken) - 1
        new_number = int(session.scalar(select(func.max(StatusList.number))) or 0) + 1
        try:
            with session.begin_nested():
                row = StatusList(
                    number=new_number,
                    url=status_list_url(base_url, new_number),
                    key_id=signer.issuer_key_id,
                    bits=bytes(credentials.STATUS_LIST_BITS // 8),
                    next_index=0,
                    bits_version=0,
                )
                sign_status_list(row, signer, now)
                session.add(row)
        except IntegrityError:
            continue  # another issuer made that list at the same moment: take an entry from it
    raise RuntimeError("could not allocate a status list entry after 5 tries")


def revoke(session: Session, credential: IssuedCredential, reason: str, now: datetime, touched: set[int]) -> None:
    """Set the credential's bit (its list is re-signed once at the end of the run: ``resign``)."""
    row = session.get_one(StatusList, credential.status_list, with_for_update=True)
    bits = bytearray(row.bits)
    credentials.set_bit(bits, credential.status_index, True)
    row.bits, row.bits_version = bytes(bits), row.bits_version + 1
    credential.revoked_at, credential.revoked_reason = now, reason
    touched.add(row.number)


def resign(session: Session, numbers: set[int], signer: Signer, now: datetime) -> None:
    for number in sorted(numbers):
        row = session.get_one(StatusList, number)
        if row.signed_version != row.bits_version:
            sign_status_list(row, signer, now)


# --- what a credential says ---------------------------------------------------------------------------------------


@dataclass
class ProjectFacts:
    """What the record shows of one learner's project: the attempt that counts and its released score."""

    learner: User
    assignment: Assignment
    submission: Submission
    score: dict[str, Any]
    attempts_used: int
    checked_against: int

    @property
    def cancelled(self) -> bool:
        return self.submission.status == CANCELLED

    def snapshot(self) -> dict[str, Any]:
        """The parts whose change makes a new credential: which attempt, its value and interval."""
        low, high = self.score.get("interval") or [None, None]
        return {"submission_id": self.submission.id, "value": _round(self.score["value"]), "low": _round(low), "high": _round(high)}


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 2)


def _number(x: float | None) -> str:
    return "" if x is None else f"{float(x):.2f}".rstrip("0").rstrip(".")


def project_document(
    facts: ProjectFacts, *, credential_uuid: str, signer: Signer, subject_id: str, status: dict[str, Any], now: datetime
) -> dict[str, Any]:
    assignment = facts.assignment
    achievement_id = public_urn("achievement", assignment.id)
    max_total = assignment.max_total

    low, high = facts.score.get("interval") or [None, None]
    allowed = "unlimited" if assignment.max_attempts is None else str(assignment.max_attempts)
    scale = {"value_min": "0", "value_max": _number(max_total)}
    results = [
        credentials.ResultEntry("score", "Calibrated score", "RawScore", _number(facts.score["value"]), **scale),
        credentials.ResultEntry("low", "Lower bound of the 95% interval of the score", "RawScore", _number(low), **scale),
        credentials.ResultEntry("high", "Upper bound of the 95% interval of the score", "RawScore", _number(high), **scale),
        credentials.ResultEntry("reviews", "Calibrated peer reviews", "Result", str(facts.score.get("reviews") or 0)),
        credentials.ResultEntry("attempts", "Attempts used of those allowed", "Result", f"{facts.attempts_used} of {allowed}"),
        credentials.ResultEntry("integrity", "Copy check", "Result", copy_check_words(facts.checked_against, upheld=False)),
    ]
    skills = [str(s) for s in (getattr(assignment, "skills", None) or []) if str(s).strip()]
    narrative = (
        "A project scored by calibrated peer review: each reviewer's bias and reliability were estimated against "
        "staff-graded samples, and the score is given with its 95% interval."
    )
    if skills:
        narrative += " It assesses: " + "; ".join(skills) + "."
    achievement = {
        "id": achievement_id,
        "name": assignment.title,
        "description": shortened(assignment.prompt) or assignment.title,
        "criteria": {"id": f"{achievement_id}#criteria", "narrative": narrative},
    }
    return _credential(facts.learner, achievement, credential_uuid, signer, subject_id, status, now, results=results)


def _credential(
    learner: User,
    achievement: dict[str, Any],
    credential_uuid: str,
    signer: Signer,
    subject_id: str,
    status: dict[str, Any],
    now: datetime,
    **parts: Any,
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of ``achievement`` for ``learner`` (``parts``: its results or evidence)."""
    document = credentials.achievement_credential(
        credential_id=f"urn:uuid:{credential_uuid}",
        issuer=signer.issuer,
        valid_from=iso(now),
        subject_id=subject_id,
        achievement=achievement,
        status=status,
        **parts,
    )
    document["credentialSubject"]["name"] = learner.name  # schema:name, defined by both shipped contexts
    return document


def course_document(
    course: Course,
    learner: User,
    evidence: list[dict[str, Any]],
    *,
    credential_uuid: str,
    signer: Signer,
    subject_id: str,
    status: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    learned = str(getattr(course, "learning_summary", None) or "").strip()
    achievement_id = public_urn("course", course.id)
    achievement = {
        "id": achievement_id,
        "name": course.title,
        "description": shortened(learned) if learned else f"The course record of {course.title}.",
        "criteria": {
            "id": f"{achievement_id}#criteria",
            "narrative": "The projects of the course whose calibrated scores were released; each is a credential of its "
            "own, listed as evidence.",
        },
    }
    return _credential(learner, achievement, credential_uuid, signer, subject_id, status, now, evidence=evidence)


# --- the run --------------------------------------------------------------------------------------------------------


@dataclass
class RunOutcome:
    issued: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)


def _projects(session: Session, assignment: Assignment) -> dict[str, ProjectFacts | None]:
    """Learner id -> what their record shows of this assignment (None: no released score to show). The rule is the
    record's: the latest attempt once its score is released, else the last earlier attempt whose score was."""
    attempts = list(
        session.scalars(
            select(Submission)
            .where(Submission.assignment_id == assignment.id, Submission.kind == LEARNER_WORK)
            .order_by(Submission.author_id, Submission.attempt.desc())
        )
    )
    if not attempts:
        return {}
    scores = scores_json(session, assignment, attempts, for_author=True)
    learners = {u.id: u for u in session.scalars(select(User).where(User.id.in_({s.author_id for s in attempts})))}
    # What the copy check compared each learner's work with: the other learners' indexed work of this assignment.
    indexed = dict(
        session.execute(
            select(Submission.author_id, func.count(IndexedDocument.submission_id))
            .join(IndexedDocument, IndexedDocument.submission_id == Submission.id)
            .where(Submission.assignment_id == assignment.id)
            .group_by(Submission.author_id)
        )
        .tuples()
        .all()
    )
    checked = sum(indexed.values())
    by_learner: dict[str, list[Submission]] = {}
    for attempt in attempts:
        by_learner.setdefault(attempt.author_id, []).append(attempt)
    out: dict[str, ProjectFacts | None] = {}
    for learner_id, own in by_learner.items():
        shown = released_attempt(own, scores)
        if shown is None:
            out[learner_id] = None
            continue
        out[learner_id] = ProjectFacts(
            learner=learners[learner_id],
            assignment=assignment,
            submission=shown,
            score=scores[shown.id] or {},
            attempts_used=len(own),
            checked_against=checked - indexed.get(learner_id, 0),
        )
    return out


def _next_sequence(session: Session, series: str) -> int:
    return int(session.scalar(select(func.max(IssuedCredential.sequence)).where(IssuedCredential.series == series)) or 0) + 1


def _issue(
    session: Session,
    *,
    kind: str,
    series: str,
    learner: User,
    course_id: str,
    assignment_id: str | None,
    submission_id: str | None,
    snapshot: dict[str, Any],
    build: Callable[..., dict[str, Any]],
    signer: Signer,
    base_url: str,
    now: datetime,
) -> IssuedCredential:
    credential_uuid = str(uuid.uuid4())
    number, index = allocate_status_entry(session, signer, base_url, now)
    status = credentials.status_entry(list_url=status_list_url(base_url, number), index=index)
    document = credentials.sign(build(credential_uuid=credential_uuid, status=status), signer.key, created=iso(now))
    row = IssuedCredential(
        id=credential_uuid,
        kind=kind,
        series=series,
        sequence=_next_sequence(session, series),
        learner_id=learner.id,
        course_id=course_id,
        assignment_id=assignment_id,
        submission_id=submission_id,
        snapshot=snapshot,
        document=json.dumps(document, separators=(",", ":"), ensure_ascii=False),
        key_id=signer.issuer_key_id,
        status_list=number,
        status_index=index,
        created_at=now,
    )
    session.add(row)
    session.flush()  # the unique (series, sequence): a run that raced this one fails here, before anything commits
    return row


def reconcile_assignment(
    session: Session, assignment_id: str, signer_for: Callable[[], Signer], *, base_url: str, now: datetime | None = None
) -> RunOutcome:
    """Make every learner's project credential of the assignment agree with their record (module docstring), then
    their course records. ``signer_for()`` gives the Signer, asked only when something is to be signed. The
    caller commits."""
    now = now or utcnow()
    outcome = RunOutcome()
    # Runs of one assignment are serialised on its row (after any recalibration holding it), so a second run sees
    # what the first issued and does nothing. FOR NO KEY UPDATE, as recalibration takes it (scoring/services.py).
    assignment = session.get(Assignment, assignment_id, with_for_update={"key_share": True})
    if assignment is None:
        return outcome
    projects = _projects(session, assignment)
    current: dict[str, list[IssuedCredential]] = {}
    for row in session.scalars(
        select(IssuedCredential).where(
            IssuedCredential.assignment_id == assignment.id, IssuedCredential.kind == PROJECT, IssuedCredential.revoked_at.is_(None)
        )
    ):
        current.setdefault(row.learner_id, []).append(row)
    touched: set[int] = set()
    changed_learners: set[str] = set()
    signer: Signer | None = None
    subjects: dict[str, str] = {}
    for learner_id in sorted(set(projects) | set(current)):
        facts = projects.get(learner_id)
        held = current.get(learner_id, [])
        if facts is None and not held:
            continue
        if facts is None:
            continue  # nothing released to show (never happens once released): the held credential stays
        wanted = None if facts.cancelled else facts.snapshot()
        if wanted is not None and len(held) == 1 and held[0].snapshot == wanted:
            continue
        signer = signer or signer_for()
        for row in held:
            reason = "plagiarism" if facts.cancelled else ("later_attempt" if row.submission_id != facts.submission.id else "score_changed")
            revoke(session, row, reason, now, touched)
            outcome.revoked.append(row.id)
        changed_learners.add(learner_id)
        if wanted is None:
            continue
        if learner_id not in subjects:
            subjects.update(subject_ids(session, [learner_id]))
        row = _issue(
            session,
            kind=PROJECT,
            series=facts.submission.id,
            learner=facts.learner,
            course_id=assignment.course_id,
            assignment_id=assignment.id,
            submission_id=facts.submission.id,
            snapshot=wanted,
            build=partial(project_document, facts, signer=signer, subject_id=subjects[learner_id], now=now),
            signer=signer,
            base_url=base_url,
            now=now,
        )
        outcome.issued.append(row.id)
    if changed_learners:
        assert signer is not None
        course = session.get_one(Course, assignment.course_id)
        for learner_id in sorted(changed_learners):
            _reconcile_course_record(session, course, learner_id, signer, base_url, now, touched, outcome)
        resign(session, touched, signer, now)
        audit.record(
            session,
            assignment.course_id,
            None,
            "credentials.reconciled",
            f"assignment:{assignment.id}",
            issued=len(outcome.issued),
            revoked=len(outcome.revoked),
        )
    return outcome


def _reconcile_course_record(
    session: Session, course: Course, learner_id: str, signer: Signer, base_url: str, now: datetime, touched: set[int], outcome: RunOutcome
) -> None:
    rows = list(
        session.scalars(
            select(IssuedCredential)
            .where(
                IssuedCredential.learner_id == learner_id, IssuedCredential.course_id == course.id, IssuedCredential.revoked_at.is_(None)
            )
            .order_by(IssuedCredential.created_at, IssuedCredential.id)
        )
    )
    projects = [r for r in rows if r.kind == PROJECT]
    held = [r for r in rows if r.kind == COURSE_RECORD]
    titles = dict(session.execute(select(Assignment.id, Assignment.title).where(Assignment.course_id == course.id)).tuples().all())
    evidence = [
        {"id": credential_links(p.id)["id"], "name": titles.get(p.assignment_id or "", "Project")}
        for p in sorted(projects, key=lambda p: (titles.get(p.assignment_id or "", ""), p.id))
    ]
    wanted = {"evidence": [e["id"] for e in evidence]}
    if len(held) == 1 and held[0].snapshot == wanted:
        return
    for row in held:
        revoke(session, row, "record_changed", now, touched)
        outcome.revoked.append(row.id)
    if not evidence:
        return
    learner = session.get_one(User, learner_id)
    subject = subject_ids(session, [learner_id])[learner_id]
    row = _issue(
        session,
        kind=COURSE_RECORD,
        series=f"course:{course.id}:{learner_id}",
        learner=learner,
        course_id=course.id,
        assignment_id=None,
        submission_id=None,
        snapshot=wanted,
        build=partial(course_document, course, learner, evidence, signer=signer, subject_id=subject, now=now),
        signer=signer,
        base_url=base_url,
        now=now,
    )
    outcome.issued.append(row.id)
