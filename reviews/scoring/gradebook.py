"""The staff's views of an assignment's scores: the gradebook (a row per learner) and the reviewer view (what
calibration learned about each reviewer, in words).

Both read everything in a fixed number of queries, whatever the number of learners, reviews or cases: one query
per kind of row, batched with IN and GROUP BY, then joined in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation.models import Review
from reviews.courses.access import LEARNER
from reviews.courses.models import Assignment, Membership
from reviews.courses.rubric import validate_scores
from reviews.moderation import actions
from reviews.moderation.models import RESOLVED, Case
from reviews.scoring.models import ReviewerStat, Score
from reviews.scoring.recalibration import request_recalibration
from reviews.scoring.services import give_staff_grade, latest_staff_grades, review_shares, scores_json
from reviews.submissions.models import CANCELLED, LEARNER_WORK, STAFF_SAMPLE, StaffGrade, Submission


def grade_as_staff(
    session: Session, assignment: Assignment, submission: Submission, grader: User, scores: Any, note: str, *, debounce_seconds: float
) -> StaffGrade:
    """A staff grade, from the API or the gradebook: checked against the rubric, given, the cases waiting for it
    settled, and the assignment recalibrated (the grade now anchors the reviewers who scored this work)."""
    checked = validate_scores(assignment, scores)
    grade = give_staff_grade(session, submission, grader.id, checked, note, assignment.course_id)
    actions.staff_grade_given(session, submission, grader)
    request_recalibration(session, assignment.id, debounce_seconds, inputs_changed=True)
    return grade


# A learner's row is in exactly one of these states, the first that applies (in this order).
NO_SUBMISSION = "no_submission"
CANCELLED_STATE = "cancelled"
STAFF_GRADE = "staff_grade"
UNDER_INVESTIGATION = "under_investigation"
RELEASED = "released"
SCORED = "scored"
WAITING = "waiting"
STATES = {
    NO_SUBMISSION: "No submission",
    WAITING: "Waiting for reviews",
    SCORED: "Scored (not released)",
    RELEASED: "Released",
    UNDER_INVESTIGATION: "Under investigation",
    STAFF_GRADE: "Staff grade",
    CANCELLED_STATE: "Cancelled",
}
STATE_ORDER = list(STATES)
SORTS = {"name": "Name", "score": "Score", "state": "State", "reviews": "Reviews received"}


@dataclass
class GradebookRow:
    learner_id: str
    name: str
    email: str
    submission: Submission | None
    score: dict[str, Any] | None
    reviews_received: int
    reviews_required: int
    reviews_given: int
    reviews_owed: int
    open_cases: int
    state: str

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def value(self) -> float | None:
        return None if not self.score else self.score.get("value")


def _state(submission: Submission | None, score: dict[str, Any] | None, cases_on_work: int) -> str:
    if submission is None:
        return NO_SUBMISSION
    if submission.status == CANCELLED:
        return CANCELLED_STATE
    if score is not None and score.get("method") == "staff":
        return STAFF_GRADE
    if cases_on_work:
        return UNDER_INVESTIGATION
    if score is None or score.get("value") is None:
        return WAITING
    return RELEASED if score.get("released") else SCORED


def gradebook_rows(session: Session, assignment: Assignment) -> list[GradebookRow]:
    """A row per learner of the course, sorted by name: latest attempt, score, reviews, open cases, state."""
    learners = session.execute(
        select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == assignment.course_id, Membership.role == LEARNER)
        .order_by(User.name, User.email)
    ).all()
    latest: dict[str, Submission] = {}
    author_of: dict[str, str] = {}
    for submission in session.scalars(
        select(Submission)
        .where(Submission.assignment_id == assignment.id, Submission.kind == LEARNER_WORK)
        .order_by(Submission.author_id, Submission.attempt)
    ):
        latest[submission.author_id] = submission
        author_of[submission.id] = submission.author_id
    scores = scores_json(session, assignment, list(latest.values()), for_author=False)
    given: dict[str, int] = {
        reviewer_id: int(count)
        for reviewer_id, count in session.execute(
            select(Review.reviewer_id, func.count(Review.id)).where(Review.assignment_id == assignment.id).group_by(Review.reviewer_id)
        )
    }
    on_work: dict[str, int] = {}  # open cases on a learner's latest attempt
    per_learner: dict[str, int] = {}  # open cases about the learner: any of their attempts, or them as a reviewer
    for submission_id, subject_type, subject_ids in session.execute(
        select(Case.submission_id, Case.subject_type, Case.subject_ids).where(
            Case.course_id == assignment.course_id, Case.assignment_id == assignment.id, Case.status != RESOLVED
        )
    ):
        concerned: set[str] = set()
        if submission_id in author_of:
            concerned.add(author_of[submission_id])
            if latest[author_of[submission_id]].id == submission_id:
                on_work[author_of[submission_id]] = on_work.get(author_of[submission_id], 0) + 1
        if subject_type == "reviewer":
            concerned.update(i for i in subject_ids or [] if isinstance(i, str))
        for learner_id in concerned:
            per_learner[learner_id] = per_learner.get(learner_id, 0) + 1
    rows = []
    for learner_id, name, email in learners:
        work = latest.get(learner_id)
        score = scores.get(work.id) if work else None
        n_given = int(given.get(learner_id, 0))
        rows.append(
            GradebookRow(
                learner_id=learner_id,
                name=name,
                email=email,
                submission=work,
                score=score,
                reviews_received=work.reviews_done if work else 0,
                reviews_required=(work.reviews_target or assignment.reviews_required) if work else assignment.reviews_required,
                reviews_given=n_given,
                reviews_owed=max(0, assignment.reviews_to_give - n_given),
                open_cases=per_learner.get(learner_id, 0),
                state=_state(work, score, on_work.get(learner_id, 0)),
            )
        )
    return rows


def filter_and_sort(
    rows: list[GradebookRow], *, state: str = "", text: str = "", sort: str = "name", descending: bool = False
) -> list[GradebookRow]:
    """The rows in ``state`` (any when empty) whose name or email holds ``text``, sorted by ``sort``.

    Rows without a value (no score yet) go last whichever way a score sort runs.
    """
    needle = text.strip().casefold()
    kept = [
        r for r in rows if (not state or r.state == state) and (not needle or needle in r.name.casefold() or needle in r.email.casefold())
    ]
    by_name = sorted(kept, key=lambda r: (r.name.casefold(), r.email.casefold()))
    if sort == "score":
        scored = sorted((r for r in by_name if r.value is not None), key=lambda r: r.value or 0.0, reverse=descending)
        return scored + [r for r in by_name if r.value is None]
    if sort == "state":
        return sorted(by_name, key=lambda r: STATE_ORDER.index(r.state), reverse=descending)
    if sort == "reviews":
        return sorted(by_name, key=lambda r: (r.reviews_received, r.reviews_given), reverse=descending)
    return list(reversed(by_name)) if descending else by_name


def state_counts(rows: list[GradebookRow]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for row in rows:
        counts[row.state] += 1
    return counts


# ---- The reviewer view ---------------------------------------------------------------------------------------


@dataclass
class CriterionStat:
    key: str
    title: str
    max_points: float
    bias: float | None
    reliability: float | None
    weight: float | None
    low_effort: float | None
    grades: int
    samples_seen: int
    words: list[str]


@dataclass
class ReviewerReview:
    review_id: str
    submission_id: str
    is_sample: bool
    author_name: str  # the learner whose work it was; "" for a sample
    scores: dict[str, float]
    calibrated: dict[str, float | None]  # per criterion: the work's calibrated (or staff) value
    calibrated_method: str  # "staff" for a sample's staff scores, else the score's method
    weight: float | None
    share: float | None  # of the work's score, among its counting reviews (None before a calibration weighed it)
    discounted: bool
    created_at: datetime


@dataclass
class ReviewerView:
    reviewer_id: str
    name: str
    email: str
    criteria: list[CriterionStat] = field(default_factory=list)
    reviews: list[ReviewerReview] = field(default_factory=list)
    summary: str = ""


def _points(x: float) -> str:
    rounded = round(abs(x), 1)
    return f"{rounded:g} point" + ("" if rounded == 1 else "s")


# Below this many grades on a criterion, the words say nothing of a reviewer's consistency.
FEW_GRADES = 4


def explain(stat: ReviewerStat, title: str, max_points: float, *, anchored: bool) -> list[str]:
    """What one reviewer's figures on one criterion mean, in sentences a course team reads.

    ``anchored``: the assignment has staff-graded samples, so biases are measured against careful graders;
    without them, only against the other reviewers.
    """
    words: list[str] = []
    reference = "careful graders" if anchored else "the other reviewers"
    if stat.bias is None:
        words.append(f"Not enough grades yet to tell how they grade {title}.")
    elif abs(stat.bias) < 0.05 * max_points:
        words.append(f"Grades {title} in line with {reference}.")
    else:
        side = "above" if stat.bias > 0 else "below"
        words.append(f"Grades about {_points(stat.bias)} {side} {reference} on {title}.")
    if stat.grades is not None and 0 < stat.grades < FEW_GRADES:
        # On a handful of grades the reliability is mostly the calibration's prior: no claim about this reviewer.
        words.append(f"Too few grades yet ({stat.grades}) to tell how consistent they are.")
    elif stat.reliability is not None and stat.reliability > 0:
        spread = 1.0 / stat.reliability**0.5
        share = spread / max_points if max_points else 0.0
        if share <= 0.1:
            kind = "Very consistent"
        elif share <= 0.2:
            kind = "Fairly consistent"
        elif share <= 0.35:
            kind = "Somewhat inconsistent"
        else:
            kind = "Inconsistent"
        words.append(f"{kind}: their points usually stray about {_points(spread)} from what the work deserves.")
    if stat.low_effort is not None:
        if stat.low_effort > 0.5:
            words.append(f"Probably did not read the work closely ({round(100 * stat.low_effort)}% likely).")
        elif stat.low_effort > 0.2:
            words.append(f"May have rushed some reviews ({round(100 * stat.low_effort)}% likely).")
    if stat.weight is not None:
        words.append(f"One of their reviews counts for about {round(100 * stat.weight)}% of a typical review.")
    return words


def reviewer_views(session: Session, assignment: Assignment) -> list[ReviewerView]:
    """Every reviewer of the assignment, by name: their figures per criterion and their reviews next to the scores
    of the work they reviewed. Staff only: it names reviewers and shows which items were samples."""
    titles = {c["key"]: (c.get("title") or c["key"], float(c["max_points"])) for c in assignment.criteria}
    stats: dict[str, dict[str, ReviewerStat]] = {}
    for row in session.scalars(select(ReviewerStat).where(ReviewerStat.assignment_id == assignment.id)):
        stats.setdefault(row.reviewer_id, {})[row.criterion] = row
    reviews = list(
        session.execute(
            select(Review, Submission.kind, Submission.author_id)
            .join(Submission, Submission.id == Review.submission_id)
            .where(Review.assignment_id == assignment.id)
            .order_by(Review.created_at, Review.id)
        ).all()
    )
    reviewer_ids = set(stats) | {review.reviewer_id for review, _, _ in reviews}
    people_ids = reviewer_ids | {author for _, kind, author in reviews if kind == LEARNER_WORK}
    people = {u.id: u for u in session.execute(select(User.id, User.name, User.email).where(User.id.in_(people_ids)))} if people_ids else {}
    reviewed = {review.submission_id for review, _, _ in reviews}
    sample_ids = [review.submission_id for review, kind, _ in reviews if kind == STAFF_SAMPLE]
    staff = latest_staff_grades(session, sorted(set(sample_ids)))
    anchored = bool(sample_ids) or bool(
        session.scalar(select(func.count(Submission.id)).where(Submission.assignment_id == assignment.id, Submission.kind == STAFF_SAMPLE))
    )
    scores = {s.submission_id: s for s in session.scalars(select(Score).where(Score.submission_id.in_(reviewed)))} if reviewed else {}
    per_work: dict[str, list[Review]] = {}
    for review, _, _ in reviews:
        per_work.setdefault(review.submission_id, []).append(review)
    shares = {review_id: share for work in per_work.values() for review_id, share in review_shares(work).items()}
    views: dict[str, ReviewerView] = {}
    for reviewer_id in reviewer_ids:
        person = people.get(reviewer_id)
        view = ReviewerView(reviewer_id, person.name if person else "", person.email if person else "")
        for key, (title, max_points) in titles.items():
            stat = stats.get(reviewer_id, {}).get(key)
            if stat is None:
                continue
            view.criteria.append(
                CriterionStat(
                    key,
                    title,
                    max_points,
                    stat.bias,
                    stat.reliability,
                    stat.weight,
                    stat.low_effort,
                    stat.grades,
                    stat.samples_seen,
                    explain(stat, title, max_points, anchored=anchored),
                )
            )
        views[reviewer_id] = view
    for review, kind, author_id in reviews:
        if kind == STAFF_SAMPLE:
            grade = staff.get(review.submission_id)
            calibrated: dict[str, float | None] = {k: float(v) for k, v in (grade.scores if grade else {}).items()}
            method = "staff"
        else:
            score = scores.get(review.submission_id)
            calibrated = {k: (v or {}).get("value") for k, v in (score.criteria if score else {}).items()}
            method = score.method if score else ""
        author = people.get(author_id) if kind == LEARNER_WORK else None
        views[review.reviewer_id].reviews.append(
            ReviewerReview(
                review_id=review.id,
                submission_id=review.submission_id,
                is_sample=kind == STAFF_SAMPLE,
                author_name=author.name if author else "",
                scores={k: float(v) for k, v in review.scores.items()},
                calibrated=calibrated,
                calibrated_method=method,
                weight=review.weight,
                share=shares[review.id],
                discounted=review.discounted,
                created_at=review.created_at,
            )
        )
    for view in views.values():
        view.summary = _summary(view)
    return sorted(views.values(), key=lambda v: (v.name.casefold(), v.email.casefold(), v.reviewer_id))


def _summary(view: ReviewerView) -> str:
    """One line: how far, on average over the reviews with a calibrated value, their points were from it."""
    gaps = [
        review.scores[key] - value
        for review in view.reviews
        if not review.discounted
        for key, value in review.calibrated.items()
        if value is not None and key in review.scores
    ]
    n = len(view.reviews)
    reviews = f"{n} review" + ("" if n == 1 else "s")
    if not gaps:
        return f"{reviews}; none of the work they reviewed has a score yet."
    mean_gap = sum(gaps) / len(gaps)
    mean_abs = sum(abs(g) for g in gaps) / len(gaps)
    side = "above" if mean_gap > 0 else "below"
    lean = "no lean either way" if round(mean_gap, 1) == 0 else f"{_points(mean_gap)} {side} overall"
    return f"{reviews}; per criterion, their points were on average {_points(mean_abs)} from the work's score ({lean})."
