"""The learner's record: every project of a course with its calibrated score, how it was checked, and the
learner's own words; and the links a learner shares it by (docs/api.md, Records)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.courses.access import LEARNER, STAFF, require_member, role_in
from reviews.courses.models import Assignment, Course
from reviews.courses.services import get_course
from reviews.credentials.services import current_credentials
from reviews.integrity.models import IndexedDocument
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError, forbidden, not_found
from reviews.kernel.words import shortened
from reviews.records.models import ProjectNote, RecordShare
from reviews.records.progress import copy_check_words, is_released_score, released_attempt
from reviews.scoring.services import scores_across
from reviews.submissions.models import CANCELLED, LEARNER_WORK, Submission

ANNOTATION_CHARS = 1000
MAX_ACTIVE_SHARES = 20


def visible_record(session: Session, course_id: str, user_id: str, caller: User) -> tuple[Course, User, bool]:
    """(course, learner, is the caller that learner): the learner themself and staff; another learner learns
    nothing (404), a mentor is refused (403). The API and the pages both ask this."""
    course = get_course(session, course_id)
    role = require_member(course.id, caller, "That course")
    learner = session.get(User, user_id)
    if learner is None or role_in(course.id, learner) != LEARNER or learner.is_admin:
        raise not_found("That learner's record")
    if caller.id == learner.id:
        return course, learner, True
    if role == STAFF:
        return course, learner, False
    if role == LEARNER:
        raise not_found("That learner's record")
    raise forbidden("Only the learner and the course's staff may read a record.")


def own_record(session: Session, course_id: str, user_id: str, caller: User) -> tuple[Course, User]:
    """The record, for a change only its learner may make (staff read it, 403 on a change)."""
    course, learner, own = visible_record(session, course_id, user_id, caller)
    if not own:
        raise forbidden("Only the learner changes what their record says and who sees it.")
    return course, learner


@dataclass
class Project:
    """One project as the record shows it, loaded with every other project of the record at once."""

    assignment: Assignment
    attempts: list[Submission]  # oldest first
    shown: Submission | None
    score: dict[str, Any] | None
    note: ProjectNote | None
    checked_against: int
    credential: dict[str, Any] | None

    @property
    def released(self) -> bool:
        return self.shown is not None and is_released_score(self.score)

    @property
    def upheld(self) -> bool:
        return self.shown is not None and self.shown.status == CANCELLED


def load_projects(session: Session, course: Course, learner: User, *, for_learner: bool) -> list[Project]:
    """Every project of the learner's record in eight queries, however many projects there are. The attempt shown
    is the latest once its score is released (or while no earlier attempt has a released score), otherwise the
    last earlier attempt whose score was: a resubmission does not hide the released work until it is released."""
    assignments = list(
        session.scalars(select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.created_at, Assignment.id))
    )
    by_id = {a.id: a for a in assignments}
    attempts = (
        list(
            session.scalars(
                select(Submission)
                .where(Submission.assignment_id.in_(by_id), Submission.author_id == learner.id, Submission.kind == LEARNER_WORK)
                .order_by(Submission.attempt)
            )
        )
        if by_id
        else []
    )
    scores = scores_across(session, by_id, attempts, for_author=for_learner)
    notes = {
        n.assignment_id: n
        for n in session.scalars(select(ProjectNote).where(ProjectNote.learner_id == learner.id, ProjectNote.assignment_id.in_(by_id)))
    }
    checked: dict[str, int] = {}
    if by_id:
        counted = session.execute(
            select(Submission.assignment_id, func.count(IndexedDocument.submission_id))
            .join(IndexedDocument, IndexedDocument.submission_id == Submission.id)
            .where(Submission.assignment_id.in_(by_id), Submission.author_id != learner.id)
            .group_by(Submission.assignment_id)
        ).all()
        checked = {assignment_id: int(count) for assignment_id, count in counted}
    own: dict[str, list[Submission]] = {}
    for attempt in attempts:
        own.setdefault(attempt.assignment_id, []).append(attempt)
    projects = []
    for assignment in assignments:
        tried = own.get(assignment.id, [])
        shown = released_attempt(tried, scores) or (tried[-1] if tried else None)
        projects.append(
            Project(
                assignment,
                tried,
                shown,
                scores[shown.id] if shown else None,
                notes.get(assignment.id),
                int(checked.get(assignment.id, 0)),
                None,
            )
        )
    released = [p.shown.id for p in projects if p.shown is not None and p.released and not p.upheld]
    links = current_credentials(session, released)
    for project in projects:
        project.credential = links.get(project.shown.id) if project.shown is not None else None
    return projects


def _number(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def score_words(project: Project) -> str:
    """The score and what it means, in words a reader of the record understands."""
    score = project.score
    if project.upheld:
        return "Marked as copied work by a mentor: it earns no score."
    if not project.released or score is None:
        return "Not scored yet." if project.shown is not None else "Not submitted."
    said = f"{_number(score['value'])} out of {_number(score['max'])}"
    if score.get("method") == "staff":
        return said + ", graded by the course staff."
    if score.get("method") == "override":
        return said + ", set by a mentor who reviewed the work."
    low, high = (score.get("interval") or [None, None])[:2]
    reviews = int(score.get("reviews") or 0)
    from_reviews = f"{reviews} calibrated peer review{'s' if reviews != 1 else ''}"
    if low is not None and high is not None and _number(low) != _number(high):
        likely = f"careful graders would most likely give between {_number(low)} and {_number(high)} (a 95% interval)"
        return f"{said}: {likely}, from {from_reviews}."
    return f"{said}, from {from_reviews}."


def graded_by(project: Project) -> str | None:
    method = (project.score or {}).get("method")
    if not project.released:
        return None
    return {"staff": "staff", "override": "mentor", "cancelled": "mentor"}.get(str(method), "peers")


def integrity_words(project: Project) -> str | None:
    if project.shown is None:
        return None
    return copy_check_words(project.checked_against, upheld=project.upheld)


def project_json(project: Project, *, public: bool, number: int) -> dict[str, Any]:
    """One project of the record. ``public``: for a shared record, with no internal ids (the position stands in)."""
    assignment, note = project.assignment, project.note
    out: dict[str, Any] = {
        "number": number,
        "title": assignment.title,
        "asked": shortened(assignment.prompt or ""),
        "skills": list(assignment.skills or []),
        # A shared record shows a score once released, and none for work marked as copied (its words say why).
        "score": project.score if not public or (project.released and not project.upheld) else None,
        "score_words": score_words(project),
        "reviews": int(project.score.get("reviews") or 0) if project.released and project.score else 0,
        "graded_by": graded_by(project),
        "attempts": len(project.attempts),
        "max_attempts": assignment.max_attempts,
        "attempt_dates": [s.created_at.isoformat() for s in project.attempts],
        "integrity": None
        if project.shown is None
        else {"checked_against": project.checked_against, "upheld": project.upheld, "words": integrity_words(project)},
        "annotation": note.annotation if note and note.annotation else None,
        "credential": project.credential,
    }
    if not public:
        shown = project.shown
        out.update(
            {
                "assignment_id": assignment.id,
                "submission_id": shown.id if shown else None,
                "attempt": shown.attempt if shown else None,
                "status": shown.status if shown else None,
                "shared": bool(note and note.shared),
                "text_public": bool(note and note.text_public),
            }
        )
    else:
        out["text_public"] = bool(note and note.text_public and project.shown is not None)
    return out


def record_json(session: Session, course: Course, learner: User, *, for_learner: bool) -> dict[str, Any]:
    projects = load_projects(session, course, learner, for_learner=for_learner)
    return {
        "learner": {"id": learner.id, "name": learner.name},
        "course": {"id": course.id, "title": course.title, "slug": course.slug, "learning_summary": course.learning_summary or ""},
        "projects": [project_json(p, public=False, number=n) for n, p in enumerate(projects, start=1)],
    }


# --- the learner's own words and choices -----------------------------------------------------------------------


def _flag(body: dict[str, Any], name: str) -> bool | None:
    if name not in body or body[name] is None:
        return None
    if not isinstance(body[name], bool):
        raise DomainError("invalid_request", f"{name} is true or false.", {"fields": {name: ["Give true or false."]}})
    return bool(body[name])


def set_project_note(session: Session, course: Course, learner: User, assignment_id: str, body: dict[str, Any]) -> ProjectNote:
    """The learner's annotation and choices for one project; fields left out stay as they were."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.course_id != course.id:
        raise not_found("That project")
    note = session.scalar(select(ProjectNote).where(ProjectNote.learner_id == learner.id, ProjectNote.assignment_id == assignment.id))
    if note is None:
        note = ProjectNote(learner_id=learner.id, assignment_id=assignment.id, annotation="", shared=False, text_public=False)
        session.add(note)
    if "annotation" in body and body["annotation"] is not None:
        if not isinstance(body["annotation"], str):
            raise DomainError("invalid_request", "The annotation is text.", {"fields": {"annotation": ["Write it as text."]}})
        text = body["annotation"].strip()
        if len(text) > ANNOTATION_CHARS:
            raise DomainError(
                "annotation_too_long",
                f"Say it in at most {ANNOTATION_CHARS} characters (this is {len(text)}).",
                {"fields": {"annotation": [f"At most {ANNOTATION_CHARS} characters; this is {len(text)}."]}, "max": ANNOTATION_CHARS},
            )
        note.annotation = text
    for name in ("shared", "text_public"):
        value = _flag(body, name)
        if value is not None:
            setattr(note, name, value)
    note.updated_at = utcnow()
    return note


# --- share links -------------------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_json(share: RecordShare, token: str | None = None) -> dict[str, Any]:
    return {
        "id": share.id,
        "hint": share.hint,
        "allow_indexing": share.allow_indexing,
        "created_at": share.created_at.isoformat(),
        "revoked_at": share.revoked_at.isoformat() if share.revoked_at else None,
        **({"token": token, "path": f"/shared/{token}"} if token else {}),
    }


def active_shares(session: Session, course: Course, learner: User) -> list[RecordShare]:
    return list(
        session.scalars(
            select(RecordShare)
            .where(RecordShare.course_id == course.id, RecordShare.learner_id == learner.id, RecordShare.revoked_at.is_(None))
            .order_by(RecordShare.created_at.desc())
        )
    )


def create_share(session: Session, course: Course, learner: User, *, allow_indexing: bool = False) -> tuple[RecordShare, str]:
    """A new link; the token is returned once and only its hash is kept."""
    if len(active_shares(session, course, learner)) >= MAX_ACTIVE_SHARES:
        raise DomainError(
            "too_many_shares",
            f"You have {MAX_ACTIVE_SHARES} active links to this record; revoke one you no longer use, then make another.",
        )
    token = secrets.token_urlsafe(24)
    share = RecordShare(
        course_id=course.id, learner_id=learner.id, token_hash=_digest(token), hint=token[:6], allow_indexing=allow_indexing
    )
    session.add(share)
    session.flush()
    return share, token


def revoke_share(session: Session, course: Course, learner: User, share_id: str) -> RecordShare:
    share = session.get(RecordShare, share_id)
    if share is None or share.course_id != course.id or share.learner_id != learner.id:
        raise not_found("That link")
    if share.revoked_at is None:
        share.revoked_at = utcnow()
    return share


def open_share(session: Session, token: str) -> tuple[RecordShare, Course, User]:
    """The share behind a token, with its course and learner in one query; an unknown or revoked one is 404."""
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        raise not_found("That shared record")
    row = session.execute(
        select(RecordShare, Course, User)
        .join(Course, Course.id == RecordShare.course_id)
        .join(User, User.id == RecordShare.learner_id)
        .where(RecordShare.token_hash == _digest(token), RecordShare.revoked_at.is_(None))
    ).first()
    if row is None:
        raise not_found("That shared record")
    return row[0], row[1], row[2]


def shared_projects(session: Session, token: str) -> tuple[RecordShare, Course, User, list[Project]]:
    share, course, learner = open_share(session, token)
    projects = [p for p in load_projects(session, course, learner, for_learner=True) if p.note is not None and p.note.shared]
    return share, course, learner, projects


def shared_record_json(session: Session, token: str) -> dict[str, Any]:
    """What anyone with the link sees: the learner's name, the course and what it taught, and only the projects
    the learner picked; no reviewer, no internal id (projects go by their position)."""
    share, course, learner, projects = shared_projects(session, token)
    return {
        "learner": {"name": learner.name},
        "course": {"title": course.title, "learning_summary": course.learning_summary or ""},
        "allow_indexing": share.allow_indexing,
        "projects": [project_json(p, public=True, number=n) for n, p in enumerate(projects, start=1)],
    }


def shared_project_text(session: Session, token: str, number: int) -> tuple[RecordShare, Course, User, Project]:
    """The project at ``number`` of a shared record, when its learner made its text public."""
    share, course, learner, projects = shared_projects(session, token)
    if not 1 <= number <= len(projects):
        raise not_found("That project")
    project = projects[number - 1]
    if project.shown is None or project.note is None or not project.note.text_public:
        raise not_found("That project")
    return share, course, learner, project
