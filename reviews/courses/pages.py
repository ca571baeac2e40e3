"""The home page (each person's next steps) and the staff pages of a course: the course page (members,
assignments and their numbers), the assignment editor, the audit trail, and the administrators' courses page.

Every action goes through the services the API calls; the forms follow reviews/web/forms.py (errors beside the
fields, POST-redirect-GET, the typed text kept).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import current_app, flash, render_template, request, session, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from reviews.accounts.callers import course_scope, current_user_or_none, signed_in
from reviews.accounts.models import User
from reviews.courses import overview, services
from reviews.courses.access import LEARNER, MENTOR, ROLES, STAFF, require_role
from reviews.courses.models import Assignment, Course, Membership
from reviews.courses.routes import AssignmentCreate, AssignmentUpdate, CourseCreate
from reviews.courses.schemas import MemberByEmail
from reviews.kernel.audit import AuditEvent
from reviews.kernel.db import db
from reviews.kernel.errors import DomainError, forbidden, invalid
from reviews.kernel.schemas import AwareDateTime
from reviews.moderation.models import OPEN, Case
from reviews.records.progress import progress_json
from reviews.web import check_csrf, feature_pages
from reviews.web.forms import form_state, keep_form, submit_form

bp = feature_pages("courses", __name__)

# The sign-in link just made on the course page, shown on the next view of that page and then forgotten.
MINTED_LINK = "courses.minted_link"
# Empty criterion rows the editor offers beyond the rubric's, and how many more "Add more rows" gives.
SPARE_ROWS = 2
ROLE_WORDS = {LEARNER: "Learner", MENTOR: "Mentor", STAFF: "Staff"}
ACTION_WORDS = {
    "course.created": "Course created",
    "member.role_set": "Member added or role changed",
    "member.removed": "Member removed",
    "assignment.created": "Assignment created",
    "assignment.updated": "Assignment changed",
    "calibration_sample.added": "Calibration sample added",
    "sign_in_link.created": "Sign-in link made",
    "scores.released": "Scores released",
    "score.overridden": "Score overridden",
    "score.staff_graded": "Staff grade given",
    "case.reported": "Case reported",
    "case.claimed": "Case claimed",
    "case.request_staff_review": "Staff review requested",
    "user.created": "User created",
    "user.token_issued": "API token issued",
}
AUDIT_FILTERS = ("actor", "action", "subject", "since", "until")
# The pages' words for the settings, where a message from the services names the API's field.
SETTING_WORDS = {
    "reviews_to_give": "reviews to give",
    "reviews_required": "reviews required",
    "calibration_share": "calibration share",
    "training_samples": "training samples",
    "training_tolerance": "the training tolerance",
    "reviewing_weight": "the reviewing grade's weight",
    "helpfulness_weight": "the helpfulness weight",
    "due_at": "the submission deadline",
    "review_due_at": "the review deadline",
    "max_points": "points",
}
MARSHMALLOW_WORDS = {
    "Missing data for required field.": "Fill this in.",
    "Not a valid integer.": "Give a whole number.",
    "Not a valid number.": "Give a number.",
    "Not a valid datetime.": "Give a date and a time.",
    "Field may not be null.": "Fill this in.",
    "Shorter than minimum length 1.": "Fill this in.",
}


def _course_for_staff(course_id: str, action: str) -> tuple[Course, User]:
    user = signed_in()
    course = services.get_course(db.session, course_id)
    require_role(course.id, user, (STAFF,), "That course", action)
    return course, user


def course_url(course_id: str, anchor: str | None = None) -> str:
    return url_for("courses_pages.course", course_id=course_id, _anchor=anchor)


# --- the home page


@bp.route("/")
def home() -> Any:
    user = current_user_or_none()
    if user is None:
        return render_template("web/signed_out.html")
    mine = select(Course, Membership.role).join(Membership, Membership.course_id == Course.id).where(Membership.user_id == user.id)
    scope = course_scope(user)
    if scope is not None:  # a session from a staff member's link shows only that course
        mine = mine.where(Course.id == scope)
    rows = db.session.execute(mine.order_by(Course.title)).all()
    course_ids = [course.id for course, _ in rows]
    # Every course's assignments and open cases in one query each, however many courses and learners there are.
    assignments: dict[str, list[Assignment]] = {course_id: [] for course_id in course_ids}
    for assignment in db.session.scalars(
        select(Assignment).where(Assignment.course_id.in_(course_ids)).order_by(Assignment.created_at, Assignment.id)
    ):
        assignments[assignment.course_id].append(assignment)
    open_cases: dict[str, int] = dict(
        db.session.execute(
            select(Case.course_id, func.count(Case.id)).where(Case.course_id.in_(course_ids), Case.status == OPEN).group_by(Case.course_id)
        )
        .tuples()
        .all()
    )
    courses = []
    for course, role in rows:
        entry: dict[str, Any] = {
            "course": course,
            "role": role,
            "role_words": ROLE_WORDS.get(role, role),
            "assignments": [{"assignment": a, "next_step": _next_step(a, user, role)} for a in assignments[course.id]],
        }
        if role in (MENTOR, STAFF):
            entry["open_cases"] = open_cases.get(course.id, 0)
        courses.append(entry)
    is_admin = user.is_admin and scope is None
    return render_template("courses/home.html", courses=courses, is_admin=is_admin)


def _next_step(assignment: Assignment, user: User, role: str) -> str:
    if role == STAFF:
        return "Edit it, follow its reviews and release its scores"
    if role == MENTOR:
        return "Work the escalation queue"
    progress = progress_json(db.session, assignment, user.id)
    if progress["submission"] is None:
        return "Submit your work"
    if progress["reviews_owed"]:
        return f"Review {progress['reviews_owed']} more"
    return "Read your reviews" if progress["score"] and progress["score"].get("released") else "Wait for your score"


# --- the course page


@bp.route("/courses/<course_id>")
def course(course_id: str) -> Any:
    found, user = _course_for_staff(course_id, "manage the course")
    minted = session.pop(MINTED_LINK, None)
    if not isinstance(minted, dict) or minted.get("course_id") != found.id:
        minted = None
    return render_template(
        "courses/course.html",
        course=found,
        course_id=found.id,
        members=overview.members(db.session, found.id),
        assignments=overview.assignments_overview(db.session, found.id),
        case_numbers=overview.case_numbers(db.session, found.id, current_app.config),
        roles=[(role, ROLE_WORDS[role]) for role in ROLES],
        role_words=ROLE_WORDS,
        minted=minted,
        is_admin=user.is_admin and course_scope(user) is None,
    )


@bp.route("/courses/<course_id>/members", methods=["POST"])
def add_member(course_id: str) -> Response:
    check_csrf()
    found, user = _course_for_staff(course_id, "add members")
    back = course_url(found.id)
    holder: dict[str, str] = {}

    def work() -> None:
        body = _load(MemberByEmail(), {"email": request.form.get("email", ""), "role": request.form.get("role", "")})
        member = services.find_user_by_email(db.session, body["email"])
        services.add_member(db.session, found, member.id, body["role"], user.id)
        holder["done"] = f"{member.name} is now {ROLE_WORDS[body['role']].lower()} in this course."

    return submit_form("add-member", back, work, after=lambda: _flash_ok(holder.get("done")))


@bp.route("/courses/<course_id>/members/<user_id>/remove", methods=["POST"])
def remove_member(course_id: str, user_id: str) -> Response:
    check_csrf()
    found, user = _course_for_staff(course_id, "remove members")
    member = db.session.get(User, user_id)
    name = member.name if member else "The member"
    return submit_form(
        "members",
        course_url(found.id),
        lambda: services.remove_member(db.session, found, user_id, user.id),
        done=f"{name} is no longer in this course.",
    )


@bp.route("/courses/<course_id>/members/<user_id>/sign-in-link", methods=["POST"])
def sign_in_link(course_id: str, user_id: str) -> Response:
    check_csrf()
    found, user = _course_for_staff(course_id, "make sign-in links")
    minutes = current_app.config["SIGN_IN_LINK_MINUTES"]

    def work() -> None:
        secret, expires_at = services.learner_sign_in_link(db.session, found, user_id, user, minutes)
        member = db.session.get_one(User, user_id)
        session[MINTED_LINK] = {
            "course_id": found.id,
            "name": member.name,
            "email": member.email,
            "url": url_for("accounts_pages.sign_in", secret=secret, _external=True),
            "expires_at": expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }

    return submit_form("members", course_url(found.id), work, after=lambda: course_url(found.id, "sign-in-link"))


@bp.route("/courses/<course_id>/summary", methods=["POST"])
def update_summary(course_id: str) -> Response:
    """What the course taught, in staff's words: shown on every learner's record."""
    check_csrf()
    found, user = _course_for_staff(course_id, "change what the course says it taught")

    def work() -> None:
        services.update_course(db.session, found, {"learning_summary": request.form.get("learning_summary", "")}, user.id)

    return submit_form(
        "summary", course_url(found.id), work, done="Saved: records show the new summary.", after=lambda: course_url(found.id, "summary")
    )


def _flash_ok(message: str | None) -> None:
    if message:
        flash(message, "ok")


# --- the assignment editor


@bp.route("/courses/<course_id>/assignments/new")
def new_assignment(course_id: str) -> Any:
    found, _ = _course_for_staff(course_id, "create assignments")
    f = form_state("assignment")
    rows = _rows(f, [])
    return render_template(
        "courses/assignment_form.html",
        course=found,
        course_id=found.id,
        assignment=None,
        values=_defaults(),
        criteria=rows,
        locked=False,
        action=url_for("courses_pages.create_assignment", course_id=found.id),
    )


@bp.route("/courses/<course_id>/assignments/new", methods=["POST"])
def create_assignment(course_id: str) -> Response:
    check_csrf()
    found, user = _course_for_staff(course_id, "create assignments")
    back = url_for("courses_pages.new_assignment", course_id=found.id)
    if "more_rows" in request.form:
        return keep_form("assignment", back, {})
    created: dict[str, str] = {}

    def work() -> None:
        body = _load_assignment(AssignmentCreate(), request.form)
        created["id"] = services.create_assignment(db.session, found, body, user.id).id

    return submit_form(
        "assignment",
        back,
        lambda: _in_words(work),
        done="The assignment is created.",
        after=lambda: url_for("courses_pages.edit_assignment", assignment_id=created["id"]),
    )


def _assignment_for_staff(assignment_id: str) -> tuple[Assignment, Course, User]:
    user = signed_in()
    assignment, _ = services.get_assignment_for(db.session, assignment_id, user, (STAFF,), "change the assignment")
    return assignment, db.session.get_one(Course, assignment.course_id), user


@bp.route("/assignments/<assignment_id>/edit")
def edit_assignment(assignment_id: str) -> Any:
    assignment, found, _ = _assignment_for_staff(assignment_id)
    locked = services.has_reviews(db.session, assignment.id)
    f = form_state("assignment")
    rows = _rows(f, assignment.criteria, spare=0 if locked else SPARE_ROWS)
    return render_template(
        "courses/assignment_form.html",
        course=found,
        course_id=found.id,
        assignment=assignment,
        values=_current(assignment),
        criteria=rows,
        locked=locked,
        action=url_for("courses_pages.update_assignment", assignment_id=assignment.id),
    )


@bp.route("/assignments/<assignment_id>/edit", methods=["POST"])
def update_assignment(assignment_id: str) -> Response:
    check_csrf()
    assignment, _, user = _assignment_for_staff(assignment_id)
    back = url_for("courses_pages.edit_assignment", assignment_id=assignment.id)
    if "more_rows" in request.form:
        return keep_form("assignment", back, {})

    def work() -> None:
        body = _load_assignment(AssignmentUpdate(), request.form)
        services.update_assignment(db.session, assignment, body, user.id)

    return submit_form("assignment", back, lambda: _in_words(work), done="The assignment is saved.")


def _defaults() -> dict[str, Any]:
    fields = AssignmentCreate().fields
    return {
        "title": "",
        "prompt": "",
        "skills": "",
        "template": "",
        "lineage": "",
        "reviews_required": fields["reviews_required"].load_default,
        "reviews_to_give": fields["reviews_to_give"].load_default,
        "calibration_share": _percent(fields["calibration_share"].load_default),
        "max_attempts": fields["max_attempts"].load_default,
        "attempt_cooldown_hours": _number(fields["attempt_cooldown_hours"].load_default),
        "min_words": fields["min_words"].load_default,
        "due_at": "",
        "review_due_at": "",
        "training_samples": fields["training_samples"].load_default,
        "training_tolerance": "",
        "require_overall_comment": fields["require_overall_comment"].load_default,
        "reviewing_weight": _percent(fields["reviewing_weight"].load_default),
        "helpfulness_weight": _percent(fields["helpfulness_weight"].load_default),
    }


def _current(assignment: Assignment) -> dict[str, Any]:
    return {
        "title": assignment.title,
        "prompt": assignment.prompt,
        "skills": "\n".join(assignment.skills or []),
        "template": assignment.template or "",
        "lineage": assignment.lineage or "",
        "reviews_required": assignment.reviews_required,
        "reviews_to_give": assignment.reviews_to_give,
        "calibration_share": _percent(assignment.calibration_share),
        "max_attempts": "" if assignment.max_attempts is None else assignment.max_attempts,
        "attempt_cooldown_hours": _number(assignment.attempt_cooldown_hours),
        "min_words": assignment.min_words,
        "due_at": _local(assignment.due_at),
        "review_due_at": _local(assignment.review_due_at),
        "training_samples": assignment.training_samples,
        "training_tolerance": "" if assignment.training_tolerance is None else _number(assignment.training_tolerance),
        "require_overall_comment": assignment.require_overall_comment,
        "reviewing_weight": _percent(assignment.reviewing_weight),
        "helpfulness_weight": _percent(assignment.helpfulness_weight),
    }


def _percent(share: float) -> str:
    return _number(round(share * 100, 4))


def _number(value: float) -> str:
    return f"{value:g}"


def _local(moment: datetime | None) -> str:
    """The value of an <input type=datetime-local>, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _rows(f: Any, criteria: list[dict[str, Any]], spare: int = SPARE_ROWS) -> list[dict[str, Any]]:
    """The criterion rows the editor shows: the rubric's, then empty ones; a form sent back keeps its row count
    (plus more when the person asked for more rows)."""
    rows = [
        {
            "key": c["key"],
            "title": c["title"],
            "description": c.get("description", ""),
            "max_points": c["max_points"],
            "levels": levels_text(c.get("levels") or []),
        }
        for c in criteria
    ]
    count = len(rows) + spare
    if f.kept:
        indexes = [int(m.group(1)) for name in f.values if (m := re.fullmatch(r"rubric\.criteria\.(\d+)\.\w+", name))]
        sent = max(indexes) + 1 if indexes else 0
        count = max(count, sent + (SPARE_ROWS if f.value("more_rows", None) else 0))
    empty = {"key": "", "title": "", "description": "", "max_points": "", "levels": ""}
    return [rows[i] if i < len(rows) else dict(empty) for i in range(min(count, 50))]


def levels_text(levels: list[dict[str, Any]]) -> str:
    """Level descriptors as the editor shows them: one "points: description" a line, highest first."""
    return "\n".join(f"{level['points']}: {level['description']}" for level in sorted(levels, key=lambda lv: -lv["points"]))


class _Unreadable(Exception):
    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields


def _assignment_body(form: Any) -> tuple[dict[str, Any], list[int]]:
    """The form as the API's request body: numbers as numbers where they read as such (else as typed, for the
    schema to refuse), the percentage as a share, empty deadlines as none, empty criterion rows left out."""
    problems: dict[str, list[str]] = {}
    body: dict[str, Any] = {
        "title": form.get("title", "").strip(),
        "prompt": form.get("prompt", ""),
        "skills": form.get("skills", "").splitlines(),  # one a line; blank lines are dropped
        "template": form.get("template", "") or None,
        "lineage": form.get("lineage", "").strip() or None,
    }
    for name in ("reviews_required", "reviews_to_give", "min_words"):
        body[name] = _int(form.get(name, ""))
    attempts = form.get("max_attempts", "").strip()
    body["max_attempts"] = None if attempts == "" else _int(attempts)
    body["attempt_cooldown_hours"] = _float(form.get("attempt_cooldown_hours", "").strip() or "0")
    share = _float(form.get("calibration_share", "").strip() or "0")
    if isinstance(share, float):
        if not 0 <= share < 100:
            problems["calibration_share"] = ["Give a percentage from 0 to 99."]
        body["calibration_share"] = share / 100
    else:
        body["calibration_share"] = share
    for name in ("due_at", "review_due_at"):
        body[name] = form.get(name, "").strip() or None
    if "training_samples" in form:  # training before live reviews (reviews/training); empty: none
        body["training_samples"] = _int(form.get("training_samples", "").strip() or "0")
        tolerance = form.get("training_tolerance", "").strip()
        body["training_tolerance"] = _float(tolerance) if tolerance else None
    body["require_overall_comment"] = form.get("require_overall_comment") == "1"  # an unticked box is not sent
    for name in ("reviewing_weight", "helpfulness_weight"):  # the reviewing grade's, in percent (reviews/scoring/reviewing.py)
        if name in form:
            weight = _float(form.get(name, "").strip() or "0")
            if isinstance(weight, float) and not 0 <= weight <= 100:
                problems[name] = ["Give a percentage from 0 to 100."]
            body[name] = weight / 100 if isinstance(weight, float) else weight
    criteria = []
    rows_sent: list[int] = []  # the form row of each criterion in the body, so that errors land beside their row
    indexes = sorted({int(m.group(1)) for name in form if (m := re.fullmatch(r"rubric\.criteria\.(\d+)\.\w+", name))})
    for i in indexes:
        prefix = f"rubric.criteria.{i}."
        row = {part: form.get(prefix + part, "").strip() for part in ("key", "title", "description", "max_points", "levels")}
        if not any(row.values()):
            continue
        rows_sent.append(i)
        criterion: dict[str, Any] = {
            "key": row["key"] or _key_from(row["title"]),
            "title": row["title"],
            "description": row["description"],
            "max_points": _int(row["max_points"]),
        }
        if row["levels"]:
            try:
                criterion["levels"] = parse_levels(row["levels"])
            except ValueError as exc:
                problems[prefix + "levels"] = [str(exc)]
        criteria.append(criterion)
    if not criteria:
        problems["rubric"] = ["Give the rubric at least one criterion."]
    if problems:
        raise invalid(problems, "Some answers need a change.")
    body["rubric"] = {"criteria": criteria}
    return body, rows_sent


def _load_assignment(schema: ma.Schema, form: Any) -> dict[str, Any]:
    """The editor's form through the API's schema; a criterion's errors go to the form row it came from, and
    anything wrong inside its level descriptors beside its levels box."""
    body, rows_sent = _assignment_body(form)
    try:
        return _load(schema, body)
    except DomainError as exc:
        rubric = exc.details["fields"].get("rubric")
        by_row = rubric.get("criteria") if isinstance(rubric, dict) else None
        if isinstance(by_row, dict):
            remapped: dict[str, Any] = {}
            for j, problems in by_row.items():
                row = rows_sent[int(j)] if str(j).isdigit() and int(j) < len(rows_sent) else j
                if isinstance(problems, dict) and isinstance(problems.get("levels"), dict):
                    problems = {**problems, "levels": sorted({m for _, ms in _flat(problems["levels"]) for m in ms})}
                remapped[str(row)] = problems
            rubric["criteria"] = remapped
        raise


def _flat(fields: Any, prefix: str = "") -> list[tuple[str, list[str]]]:
    if isinstance(fields, dict):
        return [pair for k, v in fields.items() for pair in _flat(v, f"{prefix}{k}.")]
    return [(prefix.rstrip("."), [str(m) for m in fields] if isinstance(fields, list) else [str(fields)])]


def _key_from(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:40]


def parse_levels(text: str) -> list[dict[str, Any]]:
    """ "4: Every risk named with a way to meet it" per line into [{points, description}]."""
    levels = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        points, sep, description = line.partition(":")
        if not sep or not points.strip().isdigit() or not description.strip():
            raise ValueError(f'Line {number} should read like "4: what work worth 4 points does".')
        levels.append({"points": int(points), "description": description.strip()})
    return levels


def _int(text: str) -> Any:
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else text


def _float(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _load(schema: ma.Schema, body: dict[str, Any]) -> dict[str, Any]:
    """The API's own request schema over a page's form: one validation for both."""
    try:
        loaded: dict[str, Any] = schema.load(body)
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
        raise invalid(messages, "Some answers need a change.") from None
    return loaded


def _in_words(work: Any) -> None:
    """Run ``work``; a refusal's field messages come back in the page's words (rows kept where the form had
    them: criterion positions in the body are the form's row numbers)."""
    try:
        work()
    except DomainError as exc:
        fields = exc.details.get("fields")
        if isinstance(fields, dict):
            exc.details = {**exc.details, "fields": _words(fields)}
        if exc.code == "invalid_request":
            exc.message = "Some answers need a change."
        raise


def _words(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, dict):
            out[str(key)] = _words(value)
        elif isinstance(value, list):
            out[str(key)] = [_sentence(str(m)) for m in value]
        else:
            out[str(key)] = value
    return out


def _sentence(message: str) -> str:
    message = MARSHMALLOW_WORDS.get(message, message)
    found = re.fullmatch(r"reviews_to_give x \(1 - calibration_share\) = ([\d.]+) < reviews_required = (\d+)\.", message)
    if found:
        return (
            f"Learners would give only {found.group(1)} peer reviews each, fewer than the {found.group(2)} reviews every "
            "submission needs: raise reviews to give, lower the calibration share or lower reviews required."
        )
    if message == "Must not be before due_at.":
        return "The review deadline must not come before the submission deadline."
    if message == "Criterion keys must be unique.":
        return "Two criteria have the same short name: give each its own."
    for name, words in SETTING_WORDS.items():
        message = re.sub(rf"\b{name}\b", words, message)
    return message


# --- the audit trail


@bp.route("/courses/<course_id>/audit")
def audit(course_id: str) -> Any:
    found, _ = _course_for_staff(course_id, "read the audit trail")
    args = request.args
    problems: dict[str, str] = {}
    moments: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        raw = args.get(name, "").strip()
        moments[name] = None
        if raw:
            try:
                moments[name] = AwareDateTime().deserialize(raw)
            except ma.ValidationError:
                problems[name] = "Give a date and a time."
    filters = services.AuditFilters(
        args.get("actor", "").strip() or None,
        args.get("action") or None,
        args.get("subject", "").strip() or None,
        moments["since"],
        moments["until"],
    )
    cursor = args.get("cursor") or None
    try:
        rows, next_cursor = services.audit_events(db.session, found.id, filters, 50, cursor)
    except DomainError:
        rows, next_cursor = services.audit_events(db.session, found.id, filters, 50, None)
        problems["cursor"] = "That page of the trail is no longer known; this is the newest page."
    # People named as subjects ("user:<id>"), by name, in one query for the page.
    subject_ids = {e.subject.removeprefix("user:") for e, _ in rows if e.subject.startswith("user:")}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(subject_ids))).tuples().all()) if subject_ids else {}
    actions = sorted(db.session.scalars(select(AuditEvent.action).where(AuditEvent.course_id == found.id).distinct()))
    kept: dict[str, Any] = {k: args[k] for k in AUDIT_FILTERS if args.get(k)}
    older = url_for("courses_pages.audit", course_id=found.id, cursor=next_cursor, **kept) if next_cursor else None
    return render_template(
        "courses/audit.html",
        course=found,
        course_id=found.id,
        rows=[_audit_row(event, actor, names) for event, actor in rows],
        actions=[("", "Any action"), *[(a, action_words(a)) for a in actions]],
        args=args,
        problems=problems,
        older=older,
        newest=url_for("courses_pages.audit", course_id=found.id, **kept) if cursor else None,
    )


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, action.replace("_", " ").replace(".", ": ").capitalize())


def _audit_row(event: AuditEvent, actor: User | None, names: dict[str, str]) -> dict[str, Any]:
    named = names.get(event.subject.removeprefix("user:")) if event.subject.startswith("user:") else None
    return {
        "subject_name": named,
        "at": event.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "who": f"{actor.name} ({actor.email})" if actor else "The service",
        "action": action_words(event.action),
        "subject": event.subject,
        "details": ", ".join(f"{k.replace('_', ' ')}: {_detail(v)}" for k, v in (event.data or {}).items()),
    }


def _detail(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v).replace("_", " ") for v in value)
    return str(value)


# --- the administrators' courses page


def _admin() -> User:
    user = signed_in()
    if not user.is_admin or course_scope(user) is not None:
        raise forbidden("Only an administrator may manage courses.")
    return user


@bp.route("/admin/courses")
def admin_courses() -> Any:
    _admin()
    courses = list(db.session.scalars(select(Course).order_by(Course.title)))
    counts: dict[tuple[str, str], int] = {
        (course_id, role): int(n)
        for course_id, role, n in db.session.execute(
            select(Membership.course_id, Membership.role, func.count(Membership.id)).group_by(Membership.course_id, Membership.role)
        ).tuples()
    }
    staff: dict[str, list[str]] = {}
    for course_id, name in db.session.execute(
        select(Membership.course_id, User.name)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == STAFF)
        .order_by(User.name)
    ).tuples():
        staff.setdefault(course_id, []).append(name)
    return render_template(
        "courses/admin_courses.html",
        courses=[
            {
                "course": c,
                "staff": staff.get(c.id, []),
                "learners": counts.get((c.id, LEARNER), 0),
                "mentors": counts.get((c.id, MENTOR), 0),
            }
            for c in courses
        ],
        course_options=[(c.id, c.title) for c in courses],
    )


@bp.route("/admin/courses", methods=["POST"])
def create_course() -> Response:
    check_csrf()
    admin = _admin()
    back = url_for("courses_pages.admin_courses")
    holder: dict[str, str] = {}

    def work() -> None:
        fields = {"title": request.form.get("title", "").strip(), "slug": request.form.get("slug", "").strip()}
        body = _load(CourseCreate(), {k: v for k, v in fields.items() if v or k == "title"})
        made = services.create_course(db.session, body["title"], body.get("slug"), admin.id)
        holder["done"] = f"The course {made.title} is created. Add its staff below."

    return submit_form("new-course", back, lambda: _in_words(work), after=lambda: _flash_ok(holder.get("done")))


@bp.route("/admin/courses/staff", methods=["POST"])
def add_course_staff() -> Response:
    check_csrf()
    admin = _admin()
    back = url_for("courses_pages.admin_courses")
    holder: dict[str, str] = {}

    def work() -> None:
        found = db.session.get(Course, request.form.get("course_id", ""))
        if found is None:
            raise invalid({"course_id": ["Choose a course."]}, "Choose a course.")
        body = _load(MemberByEmail(), {"email": request.form.get("email", ""), "role": STAFF})
        member = services.find_user_by_email(db.session, body["email"])
        services.add_member(db.session, found, member.id, STAFF, admin.id)
        holder["done"] = f"{member.name} is now staff of {found.title}."

    return submit_form("course-staff", back, work, after=lambda: _flash_ok(holder.get("done")))
