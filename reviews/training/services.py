"""Training before live reviews: staff keep a set of openly graded training samples; a learner grades
``training_samples`` of them, sees the staff's scores and comments after each try, and may claim live reviews
once training is done.

The rules, in one place (the pages say the same in words):

- A try passes when every criterion is within the tolerance of the staff's score: ``training_tolerance`` points
  when the assignment sets it, else 10% of the criterion's points and at least 1 point.
- Each training sample allows ``MAX_TRIES`` tries. A sample is done when a try passes or its tries are used up;
  a learner who used them up without passing goes on anyway, and staff see that (``went_on``).
- Training is done when the learner has done ``training_samples`` samples, or every sample there is when staff
  added fewer (none added: nothing to do). A removed sample the learner finished still counts for them.
- Training is not reviewing: a try is no review, no claim and no exposure, so it counts nowhere in
  ``reviews_to_give`` or in calibration.

Training samples are their own table: nothing here reads the blind calibration samples (submissions of kind
``staff_sample``), whose staff scores stay secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.courses.access import LEARNER
from reviews.courses.models import Assignment, Membership
from reviews.courses.rubric import validate_scores
from reviews.kernel import audit
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError, invalid, not_found
from reviews.training.models import TrainingAttempt, TrainingSample

MAX_TRIES = 3
MAX_TEXT_CHARS, MAX_COMMENT_CHARS = 100_000, 20_000
NOT_REQUIRED, NOT_STARTED, IN_PROGRESS, PASSED, WENT_ON = "not_required", "not_started", "in_progress", "passed", "went_on"


def training_path(assignment_id: str) -> str:
    """The learner's training page (named in refusals, which the API and the pages both show)."""
    return f"/assignments/{assignment_id}/training"


def tolerance_of(assignment: Assignment) -> dict[str, float]:
    """Points a try may be off from the staff's score, per criterion."""
    if assignment.training_tolerance is not None:
        return {c["key"]: float(assignment.training_tolerance) for c in assignment.criteria}
    return {c["key"]: max(1.0, c["max_points"] / 10) for c in assignment.criteria}


# ---- Staff: the set of training samples ----------------------------------------------------------------------


def active_samples(session: Session, assignment_id: str) -> list[TrainingSample]:
    """The training samples learners are given, oldest first (the order learners get them in)."""
    return list(
        session.scalars(
            select(TrainingSample)
            .where(TrainingSample.assignment_id == assignment_id, TrainingSample.removed_at.is_(None))
            .order_by(TrainingSample.created_at, TrainingSample.id)
        )
    )


def tries_per_sample(session: Session, assignment_id: str) -> dict[str, tuple[int, int]]:
    """Per training sample: how many learners tried it, and how many tries they made."""
    rows = session.execute(
        select(TrainingAttempt.sample_id, func.count(func.distinct(TrainingAttempt.learner_id)), func.count(TrainingAttempt.id))
        .where(TrainingAttempt.assignment_id == assignment_id)
        .group_by(TrainingAttempt.sample_id)
    ).all()
    return {sample_id: (int(learners), int(tries)) for sample_id, learners, tries in rows}


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid({"text": ["Give the training text learners will grade."]}, "A training sample needs its text.")
    if len(value) > MAX_TEXT_CHARS:
        raise invalid({"text": [f"Keep the text under {MAX_TEXT_CHARS:,} characters."]}, "The training text is too long.")
    return value


def _staff_comments(assignment: Assignment, comments: Any) -> dict[str, str]:
    """A comment for every criterion: it is what the learner learns from after grading."""
    if not isinstance(comments, dict):
        raise invalid({"comments": ["Must be an object of criterion key to comment."]})
    known = {c["key"]: c for c in assignment.criteria}
    problems: dict[str, list[str]] = {}
    for key in comments:
        if key not in known:
            problems[f"comments.{key}"] = [f"Unknown criterion; the rubric's keys are {sorted(known)}."]
    out: dict[str, str] = {}
    for key, criterion in known.items():
        value = comments.get(key)
        if not isinstance(value, str) or not value.strip():
            problems[f"comments.{key}"] = [f"Say why {criterion['title']} earns these points: learners read it after grading."]
        elif len(value) > MAX_COMMENT_CHARS:
            problems[f"comments.{key}"] = [f"Keep the comment under {MAX_COMMENT_CHARS:,} characters."]
        else:
            out[key] = value.strip()
    if problems:
        raise invalid(problems, "Give a comment for every criterion of the rubric, explaining the staff's points.")
    return out


def add_sample(session: Session, assignment: Assignment, actor: User, text: Any, scores: Any, comments: Any) -> TrainingSample:
    """A new training sample: its text, the staff's points and a comment for every criterion."""
    checked_text = _text(text)
    checked_scores = validate_scores(assignment, scores)
    checked_comments = _staff_comments(assignment, comments)
    sample = TrainingSample(
        assignment_id=assignment.id, author_id=actor.id, text=checked_text, scores=checked_scores, comments=checked_comments
    )
    session.add(sample)
    session.flush()
    audit.record(session, assignment.course_id, actor.id, "training_sample.added", f"training_sample:{sample.id}")
    return sample


def get_sample(session: Session, assignment: Assignment, sample_id: str) -> TrainingSample:
    """A training sample of this assignment that is not removed; anything else is 404."""
    sample = session.get(TrainingSample, sample_id)
    if sample is None or sample.assignment_id != assignment.id or sample.removed_at is not None:
        raise not_found("That training sample")
    return sample


def update_sample(session: Session, assignment: Assignment, sample_id: str, changes: dict[str, Any], actor: User) -> TrainingSample:
    """Change a sample's text, scores or comments (those given). Tries made before keep the scores they were
    held against; later tries meet the new ones."""
    sample = get_sample(session, assignment, sample_id)
    if "text" in changes:
        sample.text = _text(changes["text"])
    if "scores" in changes:
        sample.scores = validate_scores(assignment, changes["scores"])
    if "comments" in changes:
        sample.comments = _staff_comments(assignment, {**sample.comments, **(changes["comments"] or {})})
    sample.updated_at = utcnow()
    session.flush()
    audit.record(
        session, assignment.course_id, actor.id, "training_sample.updated", f"training_sample:{sample.id}", changed=sorted(changes)
    )
    return sample


def remove_sample(session: Session, assignment: Assignment, sample_id: str, actor: User) -> None:
    """No learner is given it any more; the tries made on it, and the training finished with it, stay."""
    sample = get_sample(session, assignment, sample_id)
    sample.removed_at = utcnow()
    session.flush()
    audit.record(session, assignment.course_id, actor.id, "training_sample.removed", f"training_sample:{sample.id}")


# ---- A learner's training ------------------------------------------------------------------------------------


@dataclass
class SampleProgress:
    """One learner's tries on one training sample."""

    sample_id: str
    tries: list[TrainingAttempt] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return any(t.passed for t in self.tries)

    @property
    def done(self) -> bool:
        return self.passed or len(self.tries) >= MAX_TRIES

    @property
    def tries_left(self) -> int:
        return 0 if self.done else MAX_TRIES - len(self.tries)


@dataclass
class TrainingStatus:
    """Where a learner stands: ``required`` samples to do, ``done`` of them; the sample to grade next."""

    assignment: Assignment
    required: int
    progress: list[SampleProgress]  # the samples the learner tried, in the order they first tried them
    current: TrainingSample | None  # the sample to grade next, None when training is done
    samples: dict[str, TrainingSample]  # every sample named in progress or current, removed ones included

    @property
    def done(self) -> int:
        return sum(1 for p in self.progress if p.done)

    @property
    def finished(self) -> bool:
        return self.done >= self.required

    @property
    def went_on(self) -> bool:
        """Some sample's tries ran out without a pass: the learner went on anyway."""
        return any(p.done and not p.passed for p in self.progress)

    @property
    def state(self) -> str:
        if self.required == 0 and not self.progress:
            return NOT_REQUIRED
        if self.finished:
            return WENT_ON if self.went_on else PASSED
        return IN_PROGRESS if any(p.tries for p in self.progress) else NOT_STARTED

    def progress_of(self, sample_id: str) -> SampleProgress:
        for p in self.progress:
            if p.sample_id == sample_id:
                return p
        return SampleProgress(sample_id)


def _status_from(
    assignment: Assignment, active: list[TrainingSample], attempts: list[TrainingAttempt], extra: dict[str, TrainingSample]
) -> TrainingStatus:
    by_sample: dict[str, SampleProgress] = {}
    for attempt in attempts:
        by_sample.setdefault(attempt.sample_id, SampleProgress(attempt.sample_id)).tries.append(attempt)
    samples = {s.id: s for s in active} | extra
    finished_removed = sum(1 for p in by_sample.values() if p.done and p.sample_id not in {s.id for s in active})
    required = min(assignment.training_samples, len(active) + finished_removed)
    progress = list(by_sample.values())
    done = sum(1 for p in progress if p.done)
    current = None
    if done < required:
        # The sample in hand (tried, not done) first; else the oldest one not tried yet.
        started = [samples[p.sample_id] for p in progress if not p.done and p.sample_id in {s.id for s in active}]
        fresh = [s for s in active if s.id not in by_sample]
        current = (started + fresh)[0] if started or fresh else None
    return TrainingStatus(assignment, required, progress, current, samples)


def training_status(session: Session, assignment: Assignment, learner_id: str) -> TrainingStatus:
    """The learner's training in this assignment (three queries; one when training is off)."""
    if assignment.training_samples <= 0:
        return TrainingStatus(assignment, 0, [], None, {})
    active = active_samples(session, assignment.id)
    attempts = list(
        session.scalars(
            select(TrainingAttempt)
            .where(TrainingAttempt.assignment_id == assignment.id, TrainingAttempt.learner_id == learner_id)
            .order_by(TrainingAttempt.created_at, TrainingAttempt.try_number, TrainingAttempt.id)
        )
    )
    known = {s.id for s in active}
    missing = {a.sample_id for a in attempts} - known
    extra = {s.id: s for s in session.scalars(select(TrainingSample).where(TrainingSample.id.in_(missing)))} if missing else {}
    return _status_from(assignment, active, attempts, extra)


def training_pending(session: Session, assignment: Assignment, learner_id: str) -> bool:
    """Must this learner still train before live reviews? False at once when the assignment asks for none."""
    if assignment.training_samples <= 0:
        return False
    return not training_status(session, assignment, learner_id).finished


def require_training_done(session: Session, assignment: Assignment, learner_id: str) -> None:
    """409 ``training_required`` until the learner finished training (the claim path asks this)."""
    if assignment.training_samples <= 0:
        return
    status = training_status(session, assignment, learner_id)
    if not status.finished:
        path = training_path(assignment.id)
        raise DomainError(
            "training_required",
            f"Grade the training samples first, at {path}: {status.done} of {status.required} done. Then you can review others' work.",
            {"training_url": path, "done": status.done, "required": status.required},
        )


def _lock_learner(session: Session, assignment: Assignment, learner: User) -> None:
    """Lock the learner's membership row: two tries sent at once are taken one after the other, so their try
    numbers differ and neither slips past the third."""
    session.execute(
        select(Membership.id).where(Membership.course_id == assignment.course_id, Membership.user_id == learner.id).with_for_update()
    )


def _learner_comments(assignment: Assignment, comments: Any) -> dict[str, str]:
    if comments is None:
        return {}
    if not isinstance(comments, dict):
        raise invalid({"comments": ["Must be an object of criterion key to comment."]})
    keys = {c["key"] for c in assignment.criteria}
    unknown = [k for k in comments if k not in keys]
    if unknown:
        raise invalid({f"comments.{k}": ["Unknown criterion."] for k in unknown}, "Comments must be keyed by the rubric's criteria.")
    return {k: str(v)[:MAX_COMMENT_CHARS] for k, v in comments.items() if str(v).strip()}


def grade_training_sample(
    session: Session, assignment: Assignment, learner: User, sample_id: str, scores: Any, comments: Any = None
) -> tuple[TrainingAttempt, TrainingStatus]:
    """One try at a training sample: held against the staff's scores with the tolerance, stored with them.

    Only a learner of the course trains (the caller checked the role). 409 ``training_done`` once training is
    finished or this sample's tries are over; 404 for a sample that is not one of this assignment's.
    """
    _lock_learner(session, assignment, learner)
    status = training_status(session, assignment, learner.id)
    if status.finished:
        raise DomainError("training_done", "Your training is done: go on to review others' work.", {"state": status.state})
    sample = session.get(TrainingSample, sample_id)
    if sample is None or sample.assignment_id != assignment.id or sample.removed_at is not None:
        raise not_found("That training sample")
    progress = status.progress_of(sample.id)
    if progress.done:
        raise DomainError(
            "training_done",
            "You are done with this training sample: grade the next one on your training page.",
            {"state": status.state, "training_url": training_path(assignment.id)},
        )
    checked = validate_scores(assignment, scores)
    tolerance = tolerance_of(assignment)
    staff = {k: float(v) for k, v in sample.scores.items()}
    passed = all(abs(checked[k] - staff[k]) <= tolerance[k] + 1e-9 for k in checked if k in staff)
    attempt = TrainingAttempt(
        assignment_id=assignment.id,
        sample_id=sample.id,
        learner_id=learner.id,
        try_number=len(progress.tries) + 1,
        scores=checked,
        comments=_learner_comments(assignment, comments),
        staff_scores=staff,
        staff_comments=dict(sample.comments),
        tolerance=tolerance,
        passed=passed,
    )
    session.add(attempt)
    session.flush()
    return attempt, training_status(session, assignment, learner.id)


def feedback_of(assignment: Assignment, attempt: TrainingAttempt) -> list[dict[str, Any]]:
    """Per criterion: the learner's points next to the staff's, how far off, within tolerance or not, and the
    staff's comment."""
    out = []
    for criterion in assignment.criteria:
        key = criterion["key"]
        yours, staff = attempt.scores.get(key), attempt.staff_scores.get(key)
        off = None if yours is None or staff is None else float(yours) - float(staff)
        tolerance = float(attempt.tolerance.get(key, 0))
        out.append(
            {
                "key": key,
                "title": criterion.get("title") or key,
                "max_points": criterion["max_points"],
                "yours": yours,
                "staff": staff,
                "off_by": off,
                "tolerance": tolerance,
                "within": off is not None and abs(off) <= tolerance + 1e-9,
                "your_comment": attempt.comments.get(key, ""),
                "staff_comment": attempt.staff_comments.get(key, ""),
            }
        )
    return out


# ---- Staff: who trained how ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LearnerTraining:
    learner_id: str
    name: str
    email: str
    state: str
    done: int
    required: int
    tries: int


def learners_training(session: Session, assignment: Assignment) -> list[LearnerTraining]:
    """Every learner of the course with their training state, by name (three queries however many learners)."""
    learners = list(
        session.execute(
            select(User.id, User.name, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.course_id == assignment.course_id, Membership.role == LEARNER)
            .order_by(User.name, User.id)
        ).all()
    )
    active = active_samples(session, assignment.id)
    attempts: dict[str, list[TrainingAttempt]] = {}
    for attempt in session.scalars(
        select(TrainingAttempt)
        .where(TrainingAttempt.assignment_id == assignment.id)
        .order_by(TrainingAttempt.created_at, TrainingAttempt.try_number, TrainingAttempt.id)
    ):
        attempts.setdefault(attempt.learner_id, []).append(attempt)
    out = []
    for learner_id, name, email in learners:
        own = attempts.get(learner_id, [])
        status = _status_from(assignment, active, own, {})
        out.append(LearnerTraining(learner_id, name, email, status.state, status.done, status.required, len(own)))
    return out


def went_on_learners(session: Session, assignment: Assignment) -> set[str]:
    """The learners who went on to live reviews without passing a training sample (for the reviewer view)."""
    if assignment.training_samples <= 0:
        return set()
    return {row.learner_id for row in learners_training(session, assignment) if row.state == WENT_ON}
