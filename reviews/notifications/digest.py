"""The daily digest of cases past their target time: each mentor and staff member of a course with breached cases
hears once a day how many there are and which waited longest, with links.

Once a day per person, however often the task runs and however many runs overlap: the notification's id comes
from the key ``sla_digest|<person>|<day>`` (services.keyed_id), so the primary key refuses a second one. Mentors
hear of the cases they may act on (not those waiting for staff); staff hear of all. A line names the kind of case,
the assignment and how long it has waited: never a learner, a reporter, a reviewer, or whether an item was a staff
sample.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reviews.courses.access import MENTOR, STAFF
from reviews.courses.models import Assignment, Course, Membership
from reviews.kernel.db import utcnow
from reviews.moderation.models import STAFF_REVIEW, Case
from reviews.moderation.queue import Targets, age_words
from reviews.moderation.schemas import KIND_WORDS
from reviews.notifications.models import Notification
from reviews.notifications.services import keyed_id, notify

KIND = "sla_digest"
OLDEST_SHOWN = 5


@dataclass
class Breaches:
    """A course's cases past their target, as one audience (mentors, or staff) reads them."""

    count: int = 0
    oldest: list[str] = field(default_factory=list)


@dataclass
class CourseBreaches:
    title: str
    for_mentors: Breaches
    for_staff: Breaches


def digest_key(user_id: str, day: str) -> str:
    return f"{KIND}|{user_id}|{day}"


def _hours(hours: float) -> str:
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def _line(case_id: str, kind: str, opened: datetime, assignment: str | None, sla: Targets, now: datetime) -> str:
    where = f" in “{assignment}”" if assignment else ""
    what = KIND_WORDS.get(kind, kind.replace("_", " ").capitalize())
    return f"- {what}{where}, waiting {age_words(now - opened)} (target {_hours(sla.of(kind))}): /escalations/{case_id}"


def _oldest(session: Session, course_id: str, sla: Targets, now: datetime, staff_too: bool) -> list[str]:
    conditions = [Case.course_id == course_id, sla.breached(now)]
    if not staff_too:
        conditions.append(Case.status != STAFF_REVIEW)
    found = session.execute(
        select(Case.id, Case.kind, Case.created_at, Assignment.title)
        .outerjoin(Assignment, Assignment.id == Case.assignment_id)
        .where(*conditions)
        .order_by(Case.created_at, Case.id)
        .limit(OLDEST_SHOWN)
    ).all()
    return [_line(case_id, kind, opened, title, sla, now) for case_id, kind, opened, title in found]


def breaches_by_course(session: Session, sla: Targets, now: datetime) -> dict[str, CourseBreaches]:
    """Every course with cases past their target: how many, and the oldest few, for mentors and for staff. One
    query for the counts, then one or two for the oldest of each course that has any."""
    counts = session.execute(
        select(Case.course_id, Case.status == STAFF_REVIEW, func.count(Case.id))
        .where(sla.breached(now))
        .group_by(Case.course_id, Case.status == STAFF_REVIEW)
    ).all()
    if not counts:
        return {}
    found: dict[str, CourseBreaches] = {}
    titles = dict(session.execute(select(Course.id, Course.title).where(Course.id.in_({c for c, _, _ in counts}))).tuples().all())
    for course_id, for_staff_only, count in counts:
        entry = found.setdefault(course_id, CourseBreaches(str(titles.get(course_id, "")), Breaches(), Breaches()))
        entry.for_staff.count += int(count)
        if not for_staff_only:
            entry.for_mentors.count += int(count)
    for course_id, entry in found.items():
        entry.for_staff.oldest = _oldest(session, course_id, sla, now, staff_too=True)
        if entry.for_mentors.count == entry.for_staff.count:
            entry.for_mentors.oldest = list(entry.for_staff.oldest)
        elif entry.for_mentors.count:
            entry.for_mentors.oldest = _oldest(session, course_id, sla, now, staff_too=False)
    return found


def _section(title: str, breaches: Breaches) -> str:
    many = breaches.count != 1
    head = f"{title or 'Your course'}: {breaches.count} case{'s' if many else ''} past {'their' if many else 'its'} target time."
    shown = "The oldest:" if breaches.count > len(breaches.oldest) else ("They are:" if many else "It is:")
    return "\n".join([head, shown, *breaches.oldest])


def send_sla_digests(session: Session, sla: Targets, now: datetime | None = None) -> int:
    """Send today's digest to every mentor and staff member of a course with breached cases who has not had one
    today; how many were sent. Nothing when no case is past its target."""
    now = now or utcnow()
    courses = breaches_by_course(session, sla, now)
    if not courses:
        return 0
    sections: dict[str, list[tuple[str, Breaches]]] = defaultdict(list)
    members = session.execute(
        select(Membership.user_id, Membership.course_id, Membership.role)
        .where(Membership.course_id.in_(list(courses)), Membership.role.in_((MENTOR, STAFF)))
        .order_by(Membership.course_id)
    ).all()
    for user_id, course_id, role in members:
        entry = courses[course_id]
        breaches = entry.for_staff if role == STAFF else entry.for_mentors
        if breaches.count:
            sections[user_id].append((course_id, breaches))
    day = now.date().isoformat()
    keys = {user_id: keyed_id(digest_key(user_id, day)) for user_id in sections}
    had = set(session.scalars(select(Notification.id).where(Notification.id.in_(list(keys.values())))))
    sent = 0
    for user_id, parts in sections.items():
        if keys[user_id] in had:
            continue
        total = sum(b.count for _, b in parts)
        subject = f"{total} case{'s' if total != 1 else ''} past {'their' if total != 1 else 'its'} target time"
        body = "\n\n".join(_section(courses[course_id].title, b) for course_id, b in parts)
        link = f"/courses/{parts[0][0]}/escalations?status=unresolved&breached=1"
        try:
            with session.begin_nested():
                notify(session, user_id, KIND, subject, body, link, key=digest_key(user_id, day))
                session.flush()
        except IntegrityError:
            continue  # another run sent this person's digest for today meanwhile
        sent += 1
    return sent
