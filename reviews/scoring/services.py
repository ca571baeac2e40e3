"""Scores: recalibration runs, the release rule, people's decisions (overrides, staff grades)."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

import calibration
from calibration.model import fit_model_full
from calibration.selection import fit_auto
from calibration.small_data import is_small
from reviews.accounts.models import User
from reviews.allocation.models import Review
from reviews.courses.models import Assignment
from reviews.kernel import audit, metrics
from reviews.kernel.db import utcnow
from reviews.moderation import services as moderation
from reviews.scoring import released as released_scores
from reviews.scoring import reviewing
from reviews.scoring.models import ReviewerStat, Score
from reviews.scoring.pooling import earlier_reviewer_priors
from reviews.scoring.review_targets import adapt_review_targets
from reviews.submissions.models import ACTIVE, CANCELLED, LEARNER_WORK, StaffGrade, Submission


def latest_staff_grades(session: Session, submission_ids: list[str]) -> dict[str, StaffGrade]:
    out: dict[str, StaffGrade] = {}
    if not submission_ids:
        return out
    rows = session.scalars(
        select(StaffGrade).where(StaffGrade.submission_id.in_(submission_ids)).order_by(StaffGrade.created_at, StaffGrade.id)
    )
    for grade in rows:
        out[grade.submission_id] = grade
    return out


def recalibrate(
    session: Session,
    assignment_id: str,
    method: str = "auto",
    *,
    width_share: float = 0.35,
    max_extra: int = 2,
) -> int | None:
    """Recompute every score of the assignment from its current reviews; returns the new version.

    Idempotent and debounced: the assignment row is locked for the run, and a run whose inputs were already
    calibrated does nothing (a burst of reviews gives one run). Runs are serialised per assignment, so an
    older run never overwrites a newer one; the version makes that visible. The caller commits.
    """
    # FOR NO KEY UPDATE, not FOR UPDATE: it serialises runs just as well, but does not block the foreign-key checks
    # of rows that point at the assignment (claims, reviews, submissions). With FOR UPDATE a claim that holds its
    # submission row and inserts its claim waits for this lock while this run waits to insert that submission's
    # Score: a deadlock on PostgreSQL, and claims stalled for the whole run.
    assignment = session.get(Assignment, assignment_id, with_for_update={"key_share": True})
    if assignment is None:
        return None
    seen_inputs = assignment.inputs_changed_at
    review_count = int(session.scalar(select(func.count(Review.id)).where(Review.assignment_id == assignment.id)) or 0)
    inputs_current = assignment.calibrated_inputs_at is not None and (seen_inputs is None or assignment.calibrated_inputs_at >= seen_inputs)
    if inputs_current and review_count == assignment.calibrated_review_count:
        return None  # nothing new since the last run
    started = time.perf_counter()  # the run's time, not the wait for the lock (kernel/metrics.py)
    submissions = list(
        session.scalars(
            select(Submission)
            .where(Submission.assignment_id == assignment.id, Submission.status == ACTIVE)
            .order_by(Submission.created_at, Submission.id)
        )
    )
    index = {s.id: i for i, s in enumerate(submissions)}
    reviews = [
        r
        for r in session.scalars(
            select(Review).where(Review.assignment_id == assignment.id, Review.discounted.is_(False)).order_by(Review.created_at, Review.id)
        )
        if r.submission_id in index
    ]
    reviewer_index: dict[str, int] = {}
    for review in reviews:
        reviewer_index.setdefault(review.reviewer_id, len(reviewer_index))
    staff = latest_staff_grades(session, list(index))
    sub_idx = np.array([index[r.submission_id] for r in reviews], dtype=np.int64)
    rev_idx = np.array([reviewer_index[r.reviewer_id] for r in reviews], dtype=np.int64)
    staff_ids = [sid for sid in index if sid in staff]
    staff_idx = np.array([index[sid] for sid in staff_ids], dtype=np.int64)

    criteria_grades = {
        criterion["key"]: calibration.Grades(
            submission=sub_idx,
            reviewer=rev_idx,
            score=np.array([float(r.scores[criterion["key"]]) for r in reviews], dtype=np.float64),
            n_submissions=len(submissions),
            n_reviewers=len(reviewer_index),
            staff_submission=staff_idx,
            staff_score=np.array([float(staff[sid].scores[criterion["key"]]) for sid in staff_ids], dtype=np.float64),
            lo=0.0,
            hi=float(criterion["max_points"]),
            step=1.0,
        )
        for criterion in assignment.criteria
    }
    # Reviewers' earlier assignments in the course (partial pooling); only a small assignment's fit uses them.
    if any(is_small(grades) for grades in criteria_grades.values()):
        priors = earlier_reviewer_priors(session, assignment, reviewer_index)
        criteria_grades = {key: replace(grades, reviewer_prior=priors.get(key)) for key, grades in criteria_grades.items()}
    criteria_out, chosen, selection, model_fits = fit_assignment(criteria_grades, method)

    version = assignment.calibration_version + 1
    counts = np.bincount(sub_idx, minlength=len(submissions)) if len(submissions) else np.zeros(0, dtype=np.int64)
    existing = {s.submission_id: s for s in session.scalars(select(Score).where(Score.assignment_id == assignment.id))}
    now = utcnow()
    given = reviews_given_by(session, assignment.id, [s.author_id for s in submissions if s.id in existing])
    widths: dict[str, tuple[float, int]] = {}
    for i, submission in enumerate(submissions):
        if submission.kind != LEARNER_WORK:
            continue
        n = int(counts[i])
        score = existing.get(submission.id)
        # Released before this run changes it (the release rule on the score as it stands): it stays released.
        owed = given.get(submission.author_id, 0)
        released = score is not None and (
            score.released_at is not None or (score.value is not None and release_due(assignment, score, owed, now))
        )
        before = (score.value, score.low, score.high, score.reviews) if score is not None else (None, None, None, 0)
        if score is None:
            score = Score(submission_id=submission.id, assignment_id=assignment.id, criteria={}, reviews=0)
            session.add(score)
        per: dict[str, Any] = {}
        total, low, high = 0.0, 0.0, 0.0
        for key, fit in criteria_out.items():
            m, lo_, hi_ = float(fit.mean[i]), float(fit.low[i]), float(fit.high[i])
            per[key] = {"value": _num(m), "interval": [_num(lo_), _num(hi_)]}
            total, low, high = total + m, low + lo_, high + hi_
        if n == 0:
            score.value = score.low = score.high = None
            per = {}
        else:
            # Criteria are not independent: adding their half-widths is the honest (conservative) total interval.
            score.value, score.low, score.high = _num(total), _num(low), _num(high)
            if score.low is not None and score.high is not None:
                widths[submission.id] = (score.high - score.low, n)
        score.criteria, score.reviews, score.method = per, n, public_method(chosen)
        score.version, score.computed_at = version, now
        if released:
            released_scores.keep_released(assignment, submission, score, before, now)
    _write_reviewer_stats(session, assignment, model_fits, criteria_grades, reviewer_index, version)
    reviewing.write_closeness(session, assignment, [(criteria_grades[k], fit) for k, fit in criteria_out.items()], reviewer_index, version)
    for submission_id in adapt_review_targets(session, assignment, widths, width_share=width_share, max_extra=max_extra):
        width, n = widths[submission_id]
        moderation.open_case(
            session,
            course_id=assignment.course_id,
            assignment_id=assignment.id,
            kind="low_confidence",
            subject_type="submission",
            subject_ids=[submission_id],
            submission_id=submission_id,
            evidence={"interval_width": width, "reviews": n, "max": assignment.max_total},
            dedupe_key=f"low_confidence:{submission_id}",
        )
    if reviews:
        weights = np.mean([fit.grade_weight for fit in criteria_out.values()], axis=0) if criteria_out else np.zeros(len(reviews))
        for review, weight in zip(reviews, weights, strict=True):
            review.weight = float(weight)
    assignment.calibration_version = version
    assignment.calibrated_inputs_at = seen_inputs or now
    assignment.calibrated_review_count = review_count
    if seen_inputs is None:
        assignment.inputs_changed_at = now
    audit.record(
        session,
        assignment.course_id,
        None,
        "scores.recalibrated",
        f"assignment:{assignment.id}",
        version=version,
        reviews=len(reviews),
        method=public_method(chosen),
        selection=selection,
    )
    metrics.calibration_ran(session, time.perf_counter() - started)
    return version


CANDIDATE_ORDER = ("model", "mean_offset", "mean", "median")


def public_method(method: str) -> str:
    """The model's scores are "calibrated" in the API; a baseline keeps its own name."""
    return "calibrated" if method == "model" else method


def fit_assignment(
    grades: dict[str, calibration.Grades], method: str
) -> tuple[dict[str, calibration.Fit], str, dict[str, Any], dict[str, calibration.Fit]]:
    """Fit every criterion with one method for the whole assignment; also return the model's fit per criterion,
    whose reviewer estimates (bias, reliability, effort) are kept whatever method scores the work.

    With ``auto``, each criterion's leave-one-out errors on the staff samples are pooled (squared errors add,
    as the criteria add up to the total) and the method with the smallest pooled error is used for every
    criterion, so a score is never a mix of methods.
    """
    models = {k: fit_model_full(g) for k, g in grades.items()}
    model_fits = {k: result.fit for k, result in models.items()}
    if method == "model":
        return model_fits, method, {}, model_fits
    if method != "auto":
        return {k: calibration.fit(g, method=method) for k, g in grades.items()}, method, {}, model_fits
    autos = {k: fit_auto(g, model_result=models[k]) for k, g in grades.items()}
    pooled: dict[str, float] = {}
    for fit in autos.values():
        for candidate, rmse in fit.diagnostics.get("selection", {}).get("loo_rmse", {}).items():
            if rmse is not None and np.isfinite(rmse):
                pooled[candidate] = pooled.get(candidate, 0.0) + float(rmse) ** 2
    chosen = min(pooled, key=lambda m: (pooled[m], CANDIDATE_ORDER.index(m) if m in CANDIDATE_ORDER else 99)) if pooled else "model"
    fits = {
        k: fit if fit.method == chosen else (model_fits[k] if chosen == "model" else calibration.fit(grades[k], method=chosen))
        for k, fit in autos.items()
    }
    return fits, chosen, {"chosen": chosen, "pooled_loo_mse": {k: round(v, 6) for k, v in pooled.items()}}, model_fits


# A reviewer is flagged when, on some criterion, they most likely put in no effort, or their bias is this
# share of the criterion's scale or more (1 point on a 4-point criterion), once they gave enough grades to tell.
LOW_EFFORT_FLAG, BIAS_FLAG_SHARE, MIN_GRADES_TO_FLAG = 0.5, 0.25, 3


def _write_reviewer_stats(
    session: Session,
    assignment: Assignment,
    fits: dict[str, calibration.Fit],
    grades: dict[str, calibration.Grades],
    reviewer_index: dict[str, int],
    version: int,
) -> None:
    """Keep the model's view of each reviewer, and open an unreliable_reviewer case (once) for one far out."""
    session.execute(delete(ReviewerStat).where(ReviewerStat.assignment_id == assignment.id))
    max_points = {c["key"]: float(c["max_points"]) for c in assignment.criteria}
    flagged: dict[str, dict[str, Any]] = {}
    for key, fit in fits.items():
        counts = np.bincount(grades[key].reviewer, minlength=len(reviewer_index)) if reviewer_index else np.zeros(0, dtype=np.int64)
        low_effort = fit.reviewer_low_effort
        for reviewer_id, j in reviewer_index.items():
            stat = ReviewerStat(
                assignment_id=assignment.id,
                reviewer_id=reviewer_id,
                criterion=key,
                bias=_num(float(fit.reviewer_bias[j])),
                reliability=_num(float(fit.reviewer_reliability[j])),
                weight=_num(float(fit.reviewer_weight[j])),
                low_effort=None if low_effort is None else _num(float(low_effort[j])),
                grades=int(counts[j]),
                samples_seen=int(fit.reviewer_staff_seen[j]),
                version=version,
            )
            session.add(stat)
            if stat.grades < MIN_GRADES_TO_FLAG:
                continue
            reasons = []
            if stat.low_effort is not None and stat.low_effort > LOW_EFFORT_FLAG:
                reasons.append("low_effort")
            if stat.bias is not None and abs(stat.bias) >= BIAS_FLAG_SHARE * max_points[key]:
                reasons.append("bias")
            if reasons:
                flagged.setdefault(reviewer_id, {})[key] = {
                    "reasons": reasons,
                    "bias": stat.bias,
                    "reliability": stat.reliability,
                    "low_effort": stat.low_effort,
                    "grades": stat.grades,
                    "samples_seen": stat.samples_seen,
                }
    for reviewer_id, evidence in flagged.items():
        moderation.open_case(
            session,
            course_id=assignment.course_id,
            assignment_id=assignment.id,
            kind="unreliable_reviewer",
            subject_type="reviewer",
            subject_ids=[reviewer_id],
            submission_id=None,
            evidence={"criteria": evidence, "version": version},
            dedupe_key=f"unreliable_reviewer:{assignment.id}:{reviewer_id}",
        )


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 9)


def review_shares(reviews: list[Review]) -> dict[str, float | None]:
    """Each review's share of its work's score among the reviews that count (one work's reviews): a discounted
    review 0; None for all while a calibration has not weighed every counting review; alike when it leaned on
    none more than another (identical grades)."""
    counting = [r for r in reviews if not r.discounted]
    weighed = all(r.weight is not None for r in counting)
    total = sum(max(0.0, float(r.weight or 0.0)) for r in counting)
    shares: dict[str, float | None] = {}
    for review in reviews:
        if review.discounted:
            shares[review.id] = 0.0
        elif not weighed:
            shares[review.id] = None
        elif total > 0:
            shares[review.id] = max(0.0, float(review.weight or 0.0)) / total
        else:
            shares[review.id] = 1 / len(counting)
    return shares


def is_released(session: Session, assignment: Assignment, submission: Submission, score: Score | None, now: datetime | None = None) -> bool:
    """The release rule (docs/api.md, Scores) for one submission; see ``release_due``."""
    if assignment.released_at is not None or score is None:
        return release_due(assignment, score, 0, now)
    given = reviews_given_by(session, assignment.id, [submission.author_id]).get(submission.author_id, 0)
    return release_due(assignment, score, given, now)


def release_due(assignment: Assignment, score: Score | None, given: int, now: datetime | None = None) -> bool:
    """Staff released the assignment, or its review deadline passed, or the work has its reviews and its author
    gave the ``given`` reviews they owe."""
    now = now or utcnow()
    if assignment.released_at is not None or (score is not None and score.released_at is not None):
        return True
    if assignment.review_due_at is not None and now > assignment.review_due_at:
        return True
    if score is None or score.reviews < assignment.reviews_required:
        return False
    return given >= assignment.reviews_to_give


def reviews_given_by(session: Session, assignment_id: str, reviewer_ids: list[str]) -> dict[str, int]:
    """How many reviews each of these people gave in the assignment, in one query."""
    if not reviewer_ids:
        return {}
    rows = session.execute(
        select(Review.reviewer_id, func.count(Review.id))
        .where(Review.assignment_id == assignment_id, Review.reviewer_id.in_(reviewer_ids))
        .group_by(Review.reviewer_id)
    ).all()
    return {reviewer_id: int(count) for reviewer_id, count in rows}


def score_json(session: Session, assignment: Assignment, submission: Submission, *, for_author: bool) -> dict[str, Any] | None:
    """The Score object (docs/api.md); an author sees only {"released": false} before release."""
    return scores_json(session, assignment, [submission], for_author=for_author)[submission.id]


def scores_json(
    session: Session, assignment: Assignment, submissions: list[Submission], *, for_author: bool
) -> dict[str, dict[str, Any] | None]:
    """``score_json`` of many submissions of one assignment in three queries, however many there are."""
    return scores_across(session, {assignment.id: assignment}, submissions, for_author=for_author)


def scores_across(
    session: Session, assignments: dict[str, Assignment], submissions: list[Submission], *, for_author: bool
) -> dict[str, dict[str, Any] | None]:
    """``score_json`` of submissions of several assignments (``assignments`` by id) in three queries: a learner's
    record reads all its projects at once."""
    ids = [s.id for s in submissions]
    scores = {s.submission_id: s for s in session.scalars(select(Score).where(Score.submission_id.in_(ids)))} if ids else {}
    staff_grades = latest_staff_grades(session, ids)
    pending = [
        s for s in submissions if s.id in scores and scores[s.id].value is not None and assignments[s.assignment_id].released_at is None
    ]
    given: dict[tuple[str, str], int] = {}
    if pending:
        rows = session.execute(
            select(Review.assignment_id, Review.reviewer_id, func.count(Review.id))
            .where(Review.assignment_id.in_({s.assignment_id for s in pending}), Review.reviewer_id.in_({s.author_id for s in pending}))
            .group_by(Review.assignment_id, Review.reviewer_id)
        ).all()
        given = {(assignment_id, reviewer_id): int(count) for assignment_id, reviewer_id, count in rows}
    out = {
        s.id: _score_json(
            assignments[s.assignment_id],
            s,
            scores.get(s.id),
            staff_grades.get(s.id),
            given.get((s.assignment_id, s.author_id), 0),
            for_author=for_author,
        )
        for s in submissions
    }
    _add_grades(session, assignments, submissions, out)
    return out


def _add_grades(
    session: Session, assignments: dict[str, Assignment], submissions: list[Submission], out: dict[str, dict[str, Any] | None]
) -> None:
    """Each shown score's ``grade``: the score combined with its author's reviewing grade (reviews/scoring/reviewing.py)
    by the assignment's ``reviewing_weight``; the reviewing grades are read only where that weight is above 0."""
    weighted = [s for s in submissions if assignments[s.assignment_id].reviewing_weight > 0 and (out[s.id] or {}).get("value") is not None]
    grades: dict[tuple[str, str], reviewing.ReviewingGrade] = {}
    for assignment_id in {s.assignment_id for s in weighted}:
        authors = [s.author_id for s in weighted if s.assignment_id == assignment_id]
        for reviewer_id, grade in reviewing.reviewing_grades(session, assignments[assignment_id], authors).items():
            grades[(assignment_id, reviewer_id)] = grade
    for s in submissions:
        score = out[s.id]
        if score is None or "value" not in score:
            continue
        weight = assignments[s.assignment_id].reviewing_weight
        score["grade"] = reviewing.combined_grade(score, grades.get((s.assignment_id, s.author_id)), weight)


def _score_json(
    assignment: Assignment, submission: Submission, score: Score | None, staff: StaffGrade | None, given: int, *, for_author: bool
) -> dict[str, Any] | None:
    max_total = assignment.max_total
    if submission.status == CANCELLED:
        return {
            "value": 0.0,
            "max": max_total,
            "interval": [0.0, 0.0],
            "reviews": score.reviews if score else 0,
            "method": "cancelled",
            "criteria": {},
            "released": True,
        }
    if staff is not None:
        value = float(sum(staff.scores.values()))
        return {
            "value": value,
            "max": max_total,
            "interval": [value, value],
            "reviews": score.reviews if score else 0,
            "method": "staff",
            "criteria": {k: {"value": v, "interval": [v, v]} for k, v in staff.scores.items()},
            "released": True,
        }
    if score is not None and score.override_value is not None:
        v = score.override_value
        return {
            "value": v,
            "max": max_total,
            "interval": [v, v],
            "reviews": score.reviews,
            "method": "override",
            "criteria": score.criteria,
            "released": True,
        }
    if score is None or score.value is None:
        return None
    released = release_due(assignment, score, given)
    if for_author and not released:
        return {"released": False}
    return {
        "value": score.value,
        "max": max_total,
        "interval": [score.low, score.high],
        "reviews": score.reviews,
        "method": score.method,
        "criteria": score.criteria,
        "released": released,
        **({"note": score.release_note} if score.release_note else {}),
    }


def override_score(session: Session, submission: Submission, value: float, note: str, actor_id: str, course_id: str) -> None:
    score = session.get(Score, submission.id)
    if score is None:
        score = Score(submission_id=submission.id, assignment_id=submission.assignment_id, criteria={}, reviews=0)
        session.add(score)
    previous = score.override_value if score.override_value is not None else score.value
    score.override_value, score.override_note = value, note
    audit.record(session, course_id, actor_id, "score.overridden", f"submission:{submission.id}", value=value, previous=previous, note=note)


def give_staff_grade(
    session: Session, submission: Submission, grader_id: str, scores: dict[str, float], note: str, course_id: str
) -> StaffGrade:
    grade = StaffGrade(submission_id=submission.id, grader_id=grader_id, scores=scores, note=note)
    session.add(grade)
    audit.record(session, course_id, grader_id, "score.staff_graded", f"submission:{submission.id}", scores=scores, note=note)
    return grade


def release_assignment(session: Session, assignment: Assignment, actor_id: str) -> None:
    assignment.released_at = assignment.released_at or utcnow()
    audit.record(session, assignment.course_id, actor_id, "scores.released", f"assignment:{assignment.id}")


SCORES_CSV_COLUMNS = (
    "learner_id",
    "email",
    "name",
    "submission_id",
    "attempt",
    "status",
    "score",
    "low",
    "high",
    "max",
    "reviews",
    "method",
    "released",
    "grade",
    "grade_low",
    "grade_high",
)


def scores_csv(session: Session, assignment: Assignment) -> str:
    """scores.csv: one row per learner who submitted (their latest attempt), by email; four queries in all."""
    rows = session.execute(
        select(Submission, User)
        .join(User, User.id == Submission.author_id)
        .where(Submission.assignment_id == assignment.id, Submission.kind == LEARNER_WORK)
        .order_by(User.email, Submission.attempt)
    ).all()
    latest: dict[str, tuple[Submission, User]] = {}
    for submission, user in rows:
        latest[user.id] = (submission, user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SCORES_CSV_COLUMNS)
    # Every learner's score in three queries, however many learners there are.
    scores = scores_json(session, assignment, [submission for submission, _ in latest.values()], for_author=False)
    for submission, user in latest.values():
        score = scores[submission.id] or {}
        interval = score.get("interval") or [None, None]
        writer.writerow(
            [
                user.id,
                user.email,
                user.name,
                submission.id,
                submission.attempt,
                submission.status,
                score.get("value", ""),
                interval[0] if interval[0] is not None else "",
                interval[1] if interval[1] is not None else "",
                assignment.max_total,
                score.get("reviews", 0),
                score.get("method", ""),
                score.get("released", False),
                *_grade_cells(score.get("grade")),
            ]
        )
    return out.getvalue()


def _grade_cells(grade: dict[str, Any] | None) -> list[Any]:
    """scores.csv's grade, grade_low and grade_high: the score combined with the reviewing grade (empty without one)."""
    if not grade or grade.get("value") is None:
        return ["", "", ""]
    low, high = grade["interval"]
    return [grade["value"], "" if low is None else low, "" if high is None else high]


def own_reviewing(session: Session, assignment: Assignment, learner_id: str) -> dict[str, Any]:
    """A learner's own reviewing grade, ``{released, reviewing}``: nothing until their latest attempt's score is
    released (the release rule), then the aggregate over all their reviews, in words; never anything per review."""
    latest = session.scalars(
        select(Submission)
        .where(Submission.assignment_id == assignment.id, Submission.author_id == learner_id, Submission.kind == LEARNER_WORK)
        .order_by(Submission.attempt.desc())
        .limit(1)
    ).first()
    if latest is None or not is_released(session, assignment, latest, session.get(Score, latest.id)):
        return {"released": False, "reviewing": None}
    grade = reviewing.reviewing_grades(session, assignment, [learner_id])[learner_id]
    return {"released": True, "reviewing": grade.as_json(for_reviewer=True)}
