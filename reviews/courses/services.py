"""Courses, members and assignments."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from reviews.accounts.callers import course_scope
from reviews.accounts.models import User
from reviews.accounts.services import create_sign_in_link
from reviews.allocation.models import Review
from reviews.courses.access import LEARNER, MENTOR, STAFF, outside_scope
from reviews.courses.models import Assignment, Course, Membership
from reviews.kernel import audit
from reviews.kernel.audit import AuditEvent
from reviews.kernel.errors import DomainError, forbidden, invalid, not_found

# The settings an assignment keeps once it has a review: the reviews given so far were made against them.
LOCKED_SETTINGS = {
    "rubric": "the rubric's criteria and their points",
    "reviews_required": "the number of reviews each submission needs",
}

# What a record says (reviews/records): the skills an assignment assesses and what the course taught.
MAX_SKILLS, SKILL_CHARS, SUMMARY_CHARS = 20, 120, 2000


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:100] or "course"


def create_course(session: Session, title: str, slug: str | None, actor_id: str, *, case_lease_hours: float = 4.0) -> Course:
    slug = slugify(slug or title)
    if session.scalar(select(Course.id).where(Course.slug == slug)) is not None:
        raise DomainError("conflict", f"A course with slug '{slug}' exists already. Choose another slug.")
    course = Course(title=title.strip(), slug=slug, case_lease_hours=case_lease_hours)
    session.add(course)
    session.flush()
    audit.record(session, course.id, actor_id, "course.created", f"course:{course.id}", title=course.title)
    return course


def update_course(session: Session, course: Course, changes: dict[str, Any], actor_id: str) -> Course:
    """Change the course's settings; the audit event names each change with its value before."""
    if "title" in changes:
        changes = {**changes, "title": changes["title"].strip()}
    if "learning_summary" in changes:
        summary = changes["learning_summary"].strip()
        if len(summary) > SUMMARY_CHARS:
            raise DomainError(
                "summary_too_long",
                f"Say what the course taught in at most {SUMMARY_CHARS} characters (this is {len(summary)}).",
                {"fields": {"learning_summary": [f"At most {SUMMARY_CHARS} characters; this is {len(summary)}."]}, "max": SUMMARY_CHARS},
            )
        changes = {**changes, "learning_summary": summary}
    changed = {name: {"from": getattr(course, name), "to": value} for name, value in changes.items() if getattr(course, name) != value}
    for name, change in changed.items():
        setattr(course, name, change["to"])
    if changed:
        audit.record(session, course.id, actor_id, "course.updated", f"course:{course.id}", changed=changed)
    return course


def add_member(session: Session, course: Course, user_id: str, role: str, actor_id: str) -> Membership:
    """Add a member or change their role (one role per course)."""
    if session.get(User, user_id) is None:
        raise invalid({"user_id": ["No such user."]}, "The user_id does not name a user. Create the user first.")
    membership = session.scalar(select(Membership).where(Membership.course_id == course.id, Membership.user_id == user_id))
    previous = membership.role if membership else None
    if membership is None:
        membership = Membership(course_id=course.id, user_id=user_id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    audit.record(session, course.id, actor_id, "member.role_set", f"user:{user_id}", role=role, previous=previous)
    return membership


def find_user_by_email(session: Session, email: str) -> User:
    """The user with this email address; the pages add members by email (the API by id)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise invalid(
            {"email": [f"No one has an account with {email.strip()}. An administrator creates accounts first."]},
            "No user has that email address; ask an administrator to create the account first.",
        )
    return user


def get_membership(session: Session, course_id: str, user_id: str) -> Membership:
    membership = session.scalar(select(Membership).where(Membership.course_id == course_id, Membership.user_id == user_id))
    if membership is None:
        raise not_found("That member")
    return membership


def remove_member(session: Session, course: Course, user_id: str, actor_id: str) -> None:
    """Take a member out of the course; the course always keeps at least one staff member."""
    membership = get_membership(session, course.id, user_id)
    if membership.role == STAFF:
        staff = session.scalar(select(func.count(Membership.id)).where(Membership.course_id == course.id, Membership.role == STAFF))
        if staff == 1:
            raise DomainError(
                "last_staff",
                "This is the course's only staff member: add another staff member first, then remove this one.",
            )
    session.delete(membership)
    session.flush()
    audit.record(session, course.id, actor_id, "member.removed", f"user:{user_id}", role=membership.role)


def learner_sign_in_link(session: Session, course: Course, user_id: str, caller: User, minutes: int) -> tuple[str, datetime]:
    """A single-use sign-in link for a learner of the course, limited to it (the API's rule: links for
    administrators, mentors and staff are an administrator's to give)."""
    membership = get_membership(session, course.id, user_id)
    user = session.get_one(User, user_id)
    roles = set(session.scalars(select(Membership.role).where(Membership.user_id == user_id)))
    if membership.role != LEARNER or (not caller.is_admin and (user.is_admin or roles & {MENTOR, STAFF})):
        raise forbidden(
            "Only an administrator may create sign-in links for administrators, mentors and staff: ask one, "
            "or run `fairpeer users link` on the server."
        )
    secret, link = create_sign_in_link(session, user, minutes, caller.id, course.id)
    return secret, link.expires_at


def validate_assignment_settings(data: dict[str, Any]) -> None:
    criteria = data["rubric"]["criteria"]
    keys = [c["key"] for c in criteria]
    if len(set(keys)) != len(keys):
        raise invalid({"rubric": ["Criterion keys must be unique."]}, "Two rubric criteria share a key; give each its own.")
    needed = data["reviews_to_give"] * (1 - data["calibration_share"])
    if needed + 1e-9 < data["reviews_required"]:
        raise invalid(
            {
                "reviews_to_give": [
                    f"reviews_to_give x (1 - calibration_share) = {needed:g} < reviews_required = {data['reviews_required']}."
                ]
            },
            "These settings cannot supply the peer reviews they demand: raise reviews_to_give, lower calibration_share "
            "or lower reviews_required.",
        )
    if data.get("due_at") and data.get("review_due_at") and data["review_due_at"] < data["due_at"]:
        raise invalid(
            {"review_due_at": ["Must not be before due_at."]}, "The review deadline must not come before the submission deadline."
        )


def _tidy_skills(settings: dict[str, Any]) -> dict[str, Any]:
    """The skills an assignment assesses, trimmed, blank lines dropped: at most 20 lines of 120 characters."""
    if settings.get("skills") is None:
        return settings
    skills = [line.strip() for line in settings["skills"] if line.strip()]
    if len(skills) > MAX_SKILLS:
        raise DomainError(
            "too_many_skills",
            f"List at most {MAX_SKILLS} skills (this is {len(skills)}): merge the close ones or keep the main ones.",
            {"fields": {"skills": [f"At most {MAX_SKILLS} lines; this is {len(skills)}."]}, "max": MAX_SKILLS},
        )
    if long := [line for line in skills if len(line) > SKILL_CHARS]:
        raise DomainError(
            "skill_too_long",
            f"Keep each skill to {SKILL_CHARS} characters; shorten “{long[0][:40]}…” ({len(long[0])}).",
            {"fields": {"skills": [f"At most {SKILL_CHARS} characters a line; one has {len(long[0])}."]}, "max": SKILL_CHARS},
        )
    return {**settings, "skills": skills}


def create_assignment(session: Session, course: Course, data: dict[str, Any], actor_id: str) -> Assignment:
    data = _tidy_skills(data)
    validate_assignment_settings(data)
    assignment = Assignment(course_id=course.id, **data)
    session.add(assignment)
    session.flush()
    audit.record(session, course.id, actor_id, "assignment.created", f"assignment:{assignment.id}", title=assignment.title)
    return assignment


def has_reviews(session: Session, assignment_id: str) -> bool:
    """Whether anyone reviewed anything of the assignment yet (a staff sample counts)."""
    return session.scalar(select(Review.id).where(Review.assignment_id == assignment_id).limit(1)) is not None


def _points_by_key(rubric: dict[str, Any]) -> list[tuple[str, int]]:
    return [(c["key"], c["max_points"]) for c in rubric.get("criteria", [])]


def assignment_settings(assignment: Assignment) -> dict[str, Any]:
    """Every setting the create request takes, as the assignment holds it now."""
    return {
        "title": assignment.title,
        "prompt": assignment.prompt,
        "skills": list(assignment.skills or []),
        "template": assignment.template,
        "lineage": assignment.lineage,
        "rubric": assignment.rubric,
        "reviews_required": assignment.reviews_required,
        "reviews_to_give": assignment.reviews_to_give,
        "calibration_share": assignment.calibration_share,
        "max_attempts": assignment.max_attempts,
        "attempt_cooldown_hours": assignment.attempt_cooldown_hours,
        "min_words": assignment.min_words,
        "due_at": assignment.due_at,
        "review_due_at": assignment.review_due_at,
        "training_samples": assignment.training_samples,
        "training_tolerance": assignment.training_tolerance,
        "require_overall_comment": assignment.require_overall_comment,
        "reviewing_weight": assignment.reviewing_weight,
        "helpfulness_weight": assignment.helpfulness_weight,
    }


def update_assignment(session: Session, assignment: Assignment, changes: dict[str, Any], actor_id: str) -> Assignment:
    """Change some settings, with the create request's rules over the result. Once the assignment has a review,
    its rubric's keys and points and its reviews_required stay as they are (409 ``settings_locked``)."""
    changes = _tidy_skills(changes)
    current = assignment_settings(assignment)
    merged = {**current, **changes}
    validate_assignment_settings(merged)
    changed = sorted(k for k in changes if changes[k] != current[k])
    locking = [
        k
        for k in LOCKED_SETTINGS
        if k in changed and (k != "rubric" or _points_by_key(changes["rubric"]) != _points_by_key(current["rubric"]))
    ]
    if locking and has_reviews(session, assignment.id):
        named = " and ".join(LOCKED_SETTINGS[k] for k in locking)
        raise DomainError(
            "settings_locked",
            f"Reviews exist for this assignment, so {named} can no longer change; keep them as they are.",
            {"locked": locking, "fields": {k: [f"Reviews exist, so {LOCKED_SETTINGS[k]} can no longer change."] for k in locking}},
        )
    for key in changed:
        setattr(assignment, key, changes[key])
    session.flush()
    if changed:
        audit.record(session, assignment.course_id, actor_id, "assignment.updated", f"assignment:{assignment.id}", changed=changed)
    return assignment


def get_course(session: Session, course_id: str) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        raise not_found("That course")
    return course


def get_assignment(session: Session, assignment_id: str) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise not_found("That assignment")
    return assignment


def get_assignment_for(session: Session, assignment_id: str, user: User, allowed: tuple[str, ...], action: str) -> tuple[Assignment, str]:
    """The assignment and the caller's role in its course, in one round trip (the claim path is hot).

    Not a member: 404, as if it did not exist. A member whose role may not ``action``: 403.
    """
    row = session.execute(
        select(Assignment, Membership.role)
        .outerjoin(Membership, (Membership.course_id == Assignment.course_id) & (Membership.user_id == user.id))
        .where(Assignment.id == assignment_id)
    ).one_or_none()
    if row is None:
        raise not_found("That assignment")
    assignment, role = row
    if outside_scope(assignment.course_id, user):
        raise not_found("That assignment")
    if user.is_admin and course_scope(user) is None:
        role = STAFF
    if role is None:
        raise not_found("That assignment")
    if role not in allowed:
        raise forbidden(f"Only {' or '.join(allowed)} of this course may {action}.")
    return assignment, role


def assignment_json(assignment: Assignment, role: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": assignment.id,
        "course_id": assignment.course_id,
        "title": assignment.title,
        "prompt": assignment.prompt,
        "skills": list(assignment.skills or []),
        "template": assignment.template,
        "rubric": assignment.rubric,
        "reviews_required": assignment.reviews_required,
        "reviews_to_give": assignment.reviews_to_give,
        "max_attempts": assignment.max_attempts,
        "attempt_cooldown_hours": assignment.attempt_cooldown_hours,
        "min_words": assignment.min_words,
        "due_at": assignment.due_at.isoformat() if assignment.due_at else None,
        "review_due_at": assignment.review_due_at.isoformat() if assignment.review_due_at else None,
        "created_at": assignment.created_at.isoformat(),
        "training_samples": assignment.training_samples,
        "training_tolerance": assignment.training_tolerance,
        "require_overall_comment": assignment.require_overall_comment,
        # How the grade is made concerns learners too: it is what they are graded on.
        "reviewing_weight": assignment.reviewing_weight,
        "helpfulness_weight": assignment.helpfulness_weight,
    }
    if role == STAFF:
        # Whether calibration samples are mixed in, and how many, is for staff only.
        out["calibration_share"] = assignment.calibration_share
        out["lineage"] = assignment.lineage
        out["released_at"] = assignment.released_at.isoformat() if assignment.released_at else None
    return out


@dataclass(frozen=True)
class AuditFilters:
    actor: str | None = None
    action: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def encode_cursor(at: datetime, event_id: str) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, _, event_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        if not event_id:
            raise ValueError(cursor)
        return datetime.fromisoformat(at), event_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid(
            {"cursor": ["Not a cursor this service gave: pass next_cursor from an earlier page as it is."]},
            "The cursor is not one this service gave; start again without it.",
        ) from None


def audit_events(
    session: Session, course_id: str, filters: AuditFilters, limit: int, cursor: str | None = None
) -> tuple[list[tuple[AuditEvent, User | None]], str | None]:
    """A page of the course's audit trail, newest first, each event with its actor, and the cursor of the next page.

    Ordered by (created_at, id), both descending, and the cursor holds both: events written meanwhile (always
    newer) never shift a later page, and events written in the same instant are neither skipped nor repeated.
    """
    query = (
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.course_id == course_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if filters.actor:
        actor = filters.actor.strip()
        query = query.where(User.email == actor.lower() if "@" in actor else AuditEvent.actor_id == actor)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action.strip())
    if filters.subject:
        query = query.where(AuditEvent.subject == filters.subject.strip())
    if filters.since:
        query = query.where(AuditEvent.created_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.created_at < filters.until)
    if cursor:
        at, event_id = decode_cursor(cursor)
        query = query.where(or_(AuditEvent.created_at < at, and_(AuditEvent.created_at == at, AuditEvent.id < event_id)))
    rows: list[tuple[AuditEvent, User | None]] = [(event, user) for event, user in session.execute(query.limit(limit + 1)).tuples()]
    next_cursor = encode_cursor(rows[limit - 1][0].created_at, rows[limit - 1][0].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def audit_event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.created_at.isoformat(),
        "actor": event.actor_id,
        "action": event.action,
        "subject": event.subject,
        "data": event.data,
    }
