"""The training pages: the learner's (grade training texts, see the staff's points and comments after each try)
and the staff's (add, change and remove training samples; see who trained how). Every form goes through the form
kernel and the services the API calls."""

from __future__ import annotations

import math
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from reviews.accounts.callers import signed_in
from reviews.accounts.models import User
from reviews.courses.access import LEARNER, STAFF, require_member, require_role
from reviews.courses.models import Assignment, Course
from reviews.courses.services import get_assignment
from reviews.kernel.db import db
from reviews.kernel.errors import not_found
from reviews.training import services
from reviews.web import check_csrf, feature_pages
from reviews.web.forms import keep_form, submit_form

bp = feature_pages("training", __name__)

TRY_FORM, ADD_FORM = "training-try", "add-training-sample"


def edit_form_id(sample_id: str) -> str:
    return f"training-sample-{sample_id}"


def remove_form_id(sample_id: str) -> str:
    return f"remove-training-sample-{sample_id}"


def training_url(assignment_id: str, anchor: str | None = None) -> str:
    return url_for("training_pages.training", assignment_id=assignment_id, _anchor=anchor)


def samples_url(assignment_id: str, anchor: str | None = None) -> str:
    return url_for("training_pages.samples", assignment_id=assignment_id, _anchor=anchor)


def _context(assignment: Assignment) -> dict[str, Any]:
    return {
        "assignment": assignment,
        "course": db.session.get(Course, assignment.course_id),
        "tolerance": services.tolerance_of(assignment),
        "max_tries": services.MAX_TRIES,
    }


def _points_and_comments(
    assignment: Assignment, *, points_required: bool = True
) -> tuple[dict[str, Any], dict[str, str], dict[str, list[str]]]:
    """The points (``scores.<key>``) and comments (``comments.<key>``) typed per criterion, and a sentence beside
    each point that is no number. Ranges are the rubric's to check (the service), so the page and the API agree."""
    scores: dict[str, Any] = {}
    comments: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for criterion in assignment.criteria:
        key = criterion["key"]
        raw = request.form.get(f"scores.{key}", "").strip().replace(",", ".")
        if raw:
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if math.isfinite(value):
                scores[key] = value
            else:
                problems[f"scores.{key}"] = [f"Give the points as a number from 0 to {criterion['max_points']}."]
        elif points_required:
            problems[f"scores.{key}"] = [f"Give the points for {criterion['title']}, from 0 to {criterion['max_points']}."]
        comment = request.form.get(f"comments.{key}", "").strip()
        if comment:
            comments[key] = comment
    return scores, comments, problems


# ---- The learner's training ----------------------------------------------------------------------------------


@bp.route("/assignments/<assignment_id>/training")
def training(assignment_id: str) -> Any:
    user = signed_in()
    assignment = get_assignment(db.session, assignment_id)
    role = require_member(assignment.course_id, user, "That assignment")
    if role == STAFF:
        return redirect(samples_url(assignment.id), code=303)
    require_role(assignment.course_id, user, (LEARNER,), "That assignment", "train")
    status = services.training_status(db.session, assignment, user.id)
    tries = [t for p in status.progress for t in p.tries]
    last = max(tries, key=lambda t: (t.created_at, t.try_number)) if tries else None
    return render_template(
        "training/learner.html",
        **_context(assignment),
        status=status,
        last=last,
        last_feedback=services.feedback_of(assignment, last) if last else None,
        last_progress=status.progress_of(last.sample_id) if last else None,
        feedback_of=services.feedback_of,
        try_form_id=TRY_FORM,
    )


@bp.route("/assignments/<assignment_id>/training/tries", methods=["POST"])
def grade(assignment_id: str) -> Response:
    check_csrf()
    user = signed_in()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, user, (LEARNER,), "That assignment", "train")
    back = training_url(assignment.id)
    scores, comments, problems = _points_and_comments(assignment)
    if problems:
        return keep_form(TRY_FORM, back, problems)
    sample_id = request.form.get("sample_id", "")[:64]
    return submit_form(
        TRY_FORM,
        back,
        lambda: services.grade_training_sample(db.session, assignment, user, sample_id, scores, comments),
        after=lambda: training_url(assignment.id, anchor="last-try"),
    )


# ---- The staff's training samples ----------------------------------------------------------------------------


def _staff_assignment(assignment_id: str, action: str) -> tuple[Assignment, User]:
    """Staff of the course only: to a learner the page does not exist (404), a mentor is told it is staff's (403)."""
    user = signed_in()
    assignment = get_assignment(db.session, assignment_id)
    if require_member(assignment.course_id, user, "That assignment") == LEARNER:
        raise not_found("That assignment")
    require_role(assignment.course_id, user, (STAFF,), "That assignment", action)
    return assignment, user


@bp.route("/assignments/<assignment_id>/training/samples", endpoint="samples")
def samples_page(assignment_id: str) -> Any:
    assignment, _user = _staff_assignment(assignment_id, "see training samples")
    active = services.active_samples(db.session, assignment.id)
    learners = services.learners_training(db.session, assignment)
    return render_template(
        "training/samples.html",
        **_context(assignment),
        samples=active,
        tried=services.tries_per_sample(db.session, assignment.id),
        learners=learners,
        went_on=sum(1 for row in learners if row.state == services.WENT_ON),
        add_form_id=ADD_FORM,
        edit_form_id=edit_form_id,
        remove_form_id=remove_form_id,
    )


@bp.route("/assignments/<assignment_id>/training/samples", methods=["POST"])
def add_sample(assignment_id: str) -> Response:
    check_csrf()
    assignment, user = _staff_assignment(assignment_id, "add training samples")
    back = samples_url(assignment.id)
    scores, comments, problems = _points_and_comments(assignment)
    if problems:
        return keep_form(ADD_FORM, back, problems)
    text = request.form.get("text", "")
    return submit_form(
        ADD_FORM,
        back,
        lambda: services.add_sample(db.session, assignment, user, text, scores, comments),
        done="Training sample added. Learners grade it openly before their first live review.",
        refusal_field="text",
    )


@bp.route("/assignments/<assignment_id>/training/samples/<sample_id>", methods=["POST"])
def edit_sample(assignment_id: str, sample_id: str) -> Response:
    check_csrf()
    assignment, user = _staff_assignment(assignment_id, "change training samples")
    sample = services.get_sample(db.session, assignment, sample_id)
    form_id = edit_form_id(sample.id)
    back = samples_url(assignment.id)
    scores, comments, problems = _points_and_comments(assignment)
    if problems:
        return keep_form(form_id, back, problems)
    changes = {"text": request.form.get("text", ""), "scores": scores, "comments": comments}
    return submit_form(
        form_id,
        back,
        lambda: services.update_sample(db.session, assignment, sample.id, changes, user),
        done="The training sample is saved. Tries made before keep the points they were held against.",
        refusal_field="text",
    )


@bp.route("/assignments/<assignment_id>/training/samples/<sample_id>/remove", methods=["POST"])
def remove_sample(assignment_id: str, sample_id: str) -> Response:
    check_csrf()
    assignment, user = _staff_assignment(assignment_id, "remove training samples")
    sample = services.get_sample(db.session, assignment, sample_id)
    return submit_form(
        remove_form_id(sample.id),
        samples_url(assignment.id),
        lambda: services.remove_sample(db.session, assignment, sample.id, user),
        done="The training sample is removed: no learner gets it any more. Training finished with it still counts.",
    )
