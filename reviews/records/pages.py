"""A learner's record page (the learner and staff), the learner's forms on it, and the shared record for anyone
with its link."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, make_response, render_template, request, url_for

from reviews.accounts.callers import signed_in
from reviews.kernel.db import db
from reviews.records import services
from reviews.web import feature_pages
from reviews.web.forms import check_csrf, submit_form

bp = feature_pages("records", __name__)

NOTE_FORM = "note-{}"
SHARE_FORM = "share"


def record_url(course_id: str, user_id: str) -> str:
    return url_for("records_pages.record", course_id=course_id, user_id=user_id)


@bp.route("/records/<course_id>/<user_id>")
def record(course_id: str, user_id: str) -> Any:
    course, learner, own = services.visible_record(db.session, course_id, user_id, signed_in())
    shares = services.active_shares(db.session, course, learner) if own else []
    return render_template(
        "records/record.html",
        record=services.record_json(db.session, course, learner, for_learner=own),
        own=own,
        shares=shares,
        note_form=NOTE_FORM,
    )


@bp.route("/records/<course_id>/<user_id>/projects/<assignment_id>", methods=["POST"])
def save_note(course_id: str, user_id: str, assignment_id: str) -> Any:
    check_csrf()
    course, learner = services.own_record(db.session, course_id, user_id, signed_in())
    form = request.form
    body = {"annotation": form.get("annotation", ""), "shared": bool(form.get("shared")), "text_public": bool(form.get("text_public"))}

    def work() -> None:
        services.set_project_note(db.session, course, learner, assignment_id, body)

    return submit_form(NOTE_FORM.format(assignment_id), record_url(course.id, learner.id), work, "Saved.", refusal_field="annotation")


@bp.route("/records/<course_id>/<user_id>/shares", methods=["POST"])
def create_share(course_id: str, user_id: str) -> Any:
    check_csrf()
    course, learner = services.own_record(db.session, course_id, user_id, signed_in())
    made: list[str] = []

    def work() -> None:
        made.append(services.create_share(db.session, course, learner, allow_indexing=bool(request.form.get("allow_indexing")))[1])

    def said() -> None:
        link = url_for("records_pages.shared", token=made[0], _external=True)
        flash(f"Your new link (copy it now: it is shown only once): {link}", "ok")

    return submit_form(SHARE_FORM, record_url(course.id, learner.id), work, after=said)


@bp.route("/records/<course_id>/<user_id>/shares/<share_id>/revoke", methods=["POST"])
def revoke_share(course_id: str, user_id: str, share_id: str) -> Any:
    check_csrf()
    course, learner = services.own_record(db.session, course_id, user_id, signed_in())

    def work() -> None:
        services.revoke_share(db.session, course, learner, share_id)

    return submit_form(SHARE_FORM, record_url(course.id, learner.id), work, "The link is revoked: it no longer opens your record.")


def _public(html: str, allow_indexing: bool) -> Response:
    answer = make_response(html)
    if not allow_indexing:
        answer.headers["X-Robots-Tag"] = "noindex"
    answer.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address: never pass it on to another site
    return answer


@bp.route("/shared/<token>")
def shared(token: str) -> Any:
    """The shared record: no sign-in, only what the learner picked."""
    record = services.shared_record_json(db.session, token)
    return _public(render_template("records/shared.html", record=record, token=token), record["allow_indexing"])


@bp.route("/shared/<token>/projects/<number:number>")
def shared_project(token: str, number: int) -> Any:
    """A project's own text, when its learner made it public."""
    share, course, learner, project = services.shared_project_text(db.session, token, number)
    assert project.shown is not None  # shared_project_text answers 404 otherwise
    return _public(
        render_template(
            "records/shared_project.html",
            course=course,
            learner=learner,
            project=project,
            text=project.shown.text,
            token=token,
            allow_indexing=share.allow_indexing,
        ),
        share.allow_indexing,
    )
