"""The staff's scoring pages: the gradebook (grade, release, export), a learner's work, the reviewer view and the
calibration samples. Staff of the course and admins only: a learner finds none of them (404), a mentor is told
they are staff's (403); mentors decide on scores from the escalation queue's case pages instead.

Every action goes through the services the API calls (give a staff grade, release, add or correct a sample).
One form here is the learner's: rating how helpful a review of their work was, from their assignment page.
"""

from __future__ import annotations

import math
from typing import Any

from flask import current_app, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from reviews.accounts.callers import signed_in
from reviews.accounts.models import User
from reviews.allocation.models import Review
from reviews.courses.models import Assignment, Course
from reviews.kernel.db import db
from reviews.kernel.errors import DomainError
from reviews.moderation.models import RESOLVED, Case
from reviews.scoring import gradebook as book
from reviews.scoring import helpfulness, rating, reviewing, samples
from reviews.scoring import services as scoring
from reviews.scoring.routes import scores_csv_response, staff_assignment
from reviews.submissions import services as submissions
from reviews.submissions.models import STAFF_SAMPLE, Submission
from reviews.training import services as training
from reviews.web import check_csrf, feature_pages
from reviews.web.forms import keep_form, safe_back, submit_form

bp = feature_pages("scoring", __name__)

MAX_NOTE_CHARS = 20_000
MAX_QUERY_CHARS = 200
# Rows per page: a thousand rows with their forms make a 2 MB page that no one reads on a phone; sorting and
# filtering still run over every learner.
GRADEBOOK_PAGE_SIZE, REVIEWERS_PAGE_SIZE = 100, 40
RELEASE_FORM, ADD_SAMPLE_FORM = "release", "add-sample"


def rating_form_id(review_id: str) -> str:
    return f"rate-{review_id}"


def grade_form_id(submission_id: str) -> str:
    return f"grade-{submission_id}"


def sample_form_id(sample_id: str) -> str:
    return f"sample-{sample_id}"


def _staff_assignment(assignment_id: str, action: str) -> tuple[Assignment, User]:
    user = signed_in()
    return staff_assignment(assignment_id, user, action), user


def _staff_submission(submission_id: str, action: str) -> tuple[Submission, Assignment, User]:
    user = signed_in()
    submission, _role = submissions.get_visible_submission(db.session, submission_id, user)
    return submission, staff_assignment(submission.assignment_id, user, action, "That submission"), user


def _page_context(assignment: Assignment) -> dict[str, Any]:
    return {"assignment": assignment, "course": db.session.get(Course, assignment.course_id)}


def _scores_from_form(assignment: Assignment) -> tuple[dict[str, float], dict[str, list[str]]]:
    """The points typed per criterion (fields ``scores.<key>``), and a sentence beside each one that is no number.
    Ranges are the rubric's to check (the service), so the page and the API say the same."""
    scores: dict[str, float] = {}
    problems: dict[str, list[str]] = {}
    for criterion in assignment.criteria:
        name = f"scores.{criterion['key']}"
        raw = request.form.get(name, "").strip().replace(",", ".")
        if not raw:
            problems[name] = [f"Give the points for {criterion['title']}."]
            continue
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            problems[name] = [f"Give the points as a number, for example {criterion['max_points'] / 2:g}."]
        else:
            scores[criterion["key"]] = value
    return scores, problems


def paginate(items: list[Any], size: int) -> tuple[list[Any], dict[str, Any]]:
    """This request's page of ``items`` (``?page=N``, from 1), and the links to the pages before and after it."""
    pages = max(1, -(-len(items) // size))
    try:
        page = min(pages, max(1, int(request.args.get("page", "1"))))
    except ValueError:
        page = 1

    def link(n: int) -> str | None:
        if not 1 <= n <= pages or n == page:
            return None
        values: dict[str, Any] = {**(request.view_args or {}), **{k: v for k, v in request.args.items() if k != "page"}, "page": n}
        return url_for(str(request.endpoint), **values)

    first = (page - 1) * size
    return items[first : first + size], {
        "page": page,
        "pages": pages,
        "first": first + 1 if items else 0,
        "last": min(first + size, len(items)),
        "prev": link(page - 1),
        "next": link(page + 1),
    }


# ---- The gradebook -------------------------------------------------------------------------------------------


def gradebook_url(assignment_id: str) -> str:
    return url_for("scoring_pages.gradebook", assignment_id=assignment_id)


@bp.route("/assignments/<assignment_id>/gradebook")
def gradebook(assignment_id: str) -> Any:
    assignment, _user = _staff_assignment(assignment_id, "see the gradebook")
    sort = request.args.get("sort", "name")
    sort = sort if sort in book.SORTS else "name"
    descending = request.args.get("order") == "desc"
    state = request.args.get("state", "")
    state = state if state in book.STATES else ""
    text = request.args.get("q", "")[:MAX_QUERY_CHARS]
    rows = book.gradebook_rows(db.session, assignment)
    matching = book.filter_and_sort(rows, state=state, text=text, sort=sort, descending=descending)
    shown, pager = paginate(matching, GRADEBOOK_PAGE_SIZE)
    return render_template(
        "scoring/gradebook.html",
        **_page_context(assignment),
        rows=shown,
        matching=len(matching),
        pager=pager,
        total=len(rows),
        counts=book.state_counts(rows),
        states=book.STATES,
        sorts=book.SORTS,
        sort=sort,
        descending=descending,
        state=state,
        text=text,
        grade_form_id=grade_form_id,
    )


@bp.route("/submissions/<submission_id>/staff-grade", methods=["POST"])
def staff_grade(submission_id: str) -> Response:
    check_csrf()
    submission, assignment, user = _staff_submission(submission_id, "give staff grades")
    form_id = grade_form_id(submission.id)
    back = safe_back(request.form.get("back"), gradebook_url(assignment.id))
    scores, problems = _scores_from_form(assignment)
    note = request.form.get("note", "")
    if len(note) > MAX_NOTE_CHARS:
        problems["note"] = [f"Keep the note under {MAX_NOTE_CHARS:,} characters."]
    if problems:
        return keep_form(form_id, back, problems)
    author = db.session.get_one(User, submission.author_id)
    debounce = current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"]
    return submit_form(
        form_id,
        back,
        lambda: book.grade_as_staff(db.session, assignment, submission, user, scores, note, debounce_seconds=debounce),
        done=f"Staff grade of {sum(scores.values()):g} / {assignment.max_total:g} given to {author.name}; it is now their score.",
    )


@bp.route("/assignments/<assignment_id>/release", methods=["POST"])
def release(assignment_id: str) -> Response:
    check_csrf()
    assignment, user = _staff_assignment(assignment_id, "release scores")
    return submit_form(
        RELEASE_FORM,
        gradebook_url(assignment.id),
        lambda: scoring.release_assignment(db.session, assignment, user.id),
        done="Scores released: every learner whose work has a score can now read it and the reviews it got.",
    )


@bp.route("/assignments/<assignment_id>/scores.csv")
def scores_csv(assignment_id: str) -> Response:
    """The API's scores.csv, for a signed-in browser (the API takes bearer tokens, not the page session)."""
    assignment, _user = _staff_assignment(assignment_id, "export scores")
    return scores_csv_response(assignment)


@bp.route("/submissions/<submission_id>/work")
def work(submission_id: str) -> Any:
    """A learner's work as staff see it: text, files, score, the reviews it got (with their reviewers), open cases,
    and the staff grade form."""
    submission, assignment, _user = _staff_submission(submission_id, "see learners' work")
    author = db.session.get_one(User, submission.author_id)
    rows = db.session.execute(
        select(Review, User.name)
        .join(User, User.id == Review.reviewer_id)
        .where(Review.submission_id == submission.id)
        .order_by(Review.created_at, Review.id)
    ).all()
    cases = list(
        db.session.scalars(select(Case).where(Case.submission_id == submission.id, Case.status != RESOLVED).order_by(Case.created_at))
    )
    attempts = list(
        db.session.execute(
            select(Submission.id, Submission.attempt, Submission.status, Submission.created_at)
            .where(
                Submission.assignment_id == assignment.id, Submission.author_id == submission.author_id, Submission.kind == submission.kind
            )
            .order_by(Submission.attempt)
        ).all()
    )
    return render_template(
        "scoring/work.html",
        **_page_context(assignment),
        submission=submission,
        is_sample=submission.kind == STAFF_SAMPLE,
        author=author,
        files=submissions.files_of(db.session, submission.id),
        score=scoring.score_json(db.session, assignment, submission, for_author=False),
        reviews=rows,
        shares=scoring.review_shares([review for review, _ in rows]),
        cases=cases,
        attempts=attempts,
        form_id=grade_form_id(submission.id),
    )


# ---- The reviewer view ---------------------------------------------------------------------------------------


@bp.route("/assignments/<assignment_id>/reviewers")
def reviewers(assignment_id: str) -> Any:
    assignment, _user = _staff_assignment(assignment_id, "see the reviewer view")
    views, pager = paginate(book.reviewer_views(db.session, assignment), REVIEWERS_PAGE_SIZE)
    went_on = training.went_on_learners(db.session, assignment)  # reviewers who went on without passing training
    # Helpfulness: each reviewer's mean, and each review's rating with the author's note (staff read them all).
    helpful = helpfulness.helpfulness_summary(db.session, assignment.id)
    ratings = helpfulness.ratings_of(db.session, [review.review_id for view in views for review in view.reviews])
    graded = reviewing.reviewing_grades(db.session, assignment, [view.reviewer_id for view in views])
    return render_template(
        "scoring/reviewers.html",
        reviewing=graded,
        **_page_context(assignment),
        reviewers=views,
        pager=pager,
        went_on=went_on,
        helpful=helpful,
        ratings=ratings,
        rating_words=helpfulness.RATING_WORDS,
        few_grades=book.FEW_GRADES,
    )


# ---- Calibration samples -------------------------------------------------------------------------------------


def samples_url(assignment_id: str, anchor: str | None = None) -> str:
    return url_for("scoring_pages.samples", assignment_id=assignment_id, _anchor=anchor)


@bp.route("/assignments/<assignment_id>/samples", endpoint="samples")
def samples_page(assignment_id: str) -> Any:
    assignment, _user = _staff_assignment(assignment_id, "see calibration samples")
    views = samples.list_samples(db.session, assignment)
    names = {r.reviewer_id: r.reviewer_name for v in views for r in v.reviews}
    return render_template(
        "scoring/samples.html",
        **_page_context(assignment),
        samples=views,
        reviewer_names=names,
        add_form_id=ADD_SAMPLE_FORM,
        sample_form_id=sample_form_id,
        max_files=current_app.config["MAX_FILES"],
        max_bytes=current_app.config["MAX_FILE_BYTES"],
    )


@bp.route("/assignments/<assignment_id>/samples", methods=["POST"])
def add_sample(assignment_id: str) -> Response:
    check_csrf()
    assignment, user = _staff_assignment(assignment_id, "add calibration samples")
    back = samples_url(assignment.id)
    scores, problems = _scores_from_form(assignment)
    if problems:
        return keep_form(ADD_SAMPLE_FORM, back, problems)
    text = request.form.get("text", "")
    uploads = [submissions.Upload(f.filename or "file", f.mimetype or "", f.read()) for f in request.files.getlist("files") if f.filename]
    config = current_app.config

    def work() -> Submission:
        try:
            return submissions.add_calibration_sample(
                db.session,
                assignment,
                user,
                text,
                scores,
                uploads,
                max_files=config["MAX_FILES"],
                max_bytes=config["MAX_FILE_BYTES"],
                debounce_seconds=config["RECALIBRATE_DEBOUNCE_SECONDS"],
            )
        except submissions.SubmissionRejected as refused:
            # Each reason beside what it concerns: the files, or the text.
            fields: dict[str, list[str]] = {}
            for reason in refused.reasons:
                about = "files" if reason.code.startswith("file_") or reason.code == "too_many_files" else "text"
                fields.setdefault(about, []).append(reason.message)
            raise DomainError(
                "submission_rejected", "The sample was not added: see the messages beside the fields.", {"fields": fields}
            ) from None

    return submit_form(
        ADD_SAMPLE_FORM,
        back,
        work,
        done="Calibration sample added. Reviewers will be served it like any learner's work.",
        refusal_field="files",
    )


@bp.route("/calibration-samples/<sample_id>/scores", methods=["POST"])
def correct_sample(sample_id: str) -> Response:
    check_csrf()
    user = signed_in()
    sample = samples.get_sample(db.session, sample_id)
    assignment = staff_assignment(sample.assignment_id, user, "correct calibration samples", "That calibration sample")
    form_id = sample_form_id(sample.id)
    back = samples_url(assignment.id)
    scores, problems = _scores_from_form(assignment)
    if problems:
        return keep_form(form_id, back, problems)
    return submit_form(
        form_id,
        back,
        lambda: samples.correct_sample_scores(db.session, assignment, sample.id, scores, user),
        done="The sample's staff scores are corrected.",
    )


# ---- Helpfulness: the author rates a review they received (from the assignment page) -------------------------


@bp.route("/submissions/<submission_id>/reviews/<review_id>/rating", methods=["POST"])
def rate_review(submission_id: str, review_id: str) -> Response:
    check_csrf()
    user = signed_in()
    submission, _role = submissions.get_visible_submission(db.session, submission_id, user)
    form_id = rating_form_id(review_id[:64])
    back = url_for("submissions_pages.assignment", assignment_id=submission.assignment_id)
    raw = request.form.get("rating", "").strip()
    if not raw.isdigit():
        return keep_form(form_id, back, {"rating": ["Choose how helpful the review was, from 1 (not helpful) to 5 (extremely helpful)."]})

    def work() -> None:
        given = helpfulness.rating_input(int(raw), request.form.get("note", ""))
        rating.rate_review(db.session, submission, review_id, user, given)

    return submit_form(
        form_id,
        back,
        work,
        "Thank you: your rating is saved. The reviewer never learns who rated, nor this rating: only an average over many.",
        after=lambda: f"{back}#form-{form_id}",
    )
