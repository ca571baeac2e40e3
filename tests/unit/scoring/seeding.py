"""A course of many learners with submissions, reviews, calibration samples, calibrated scores, cases and staff
grades, written in one transaction (rows added in bulk, then the real recalibration): fast enough for 500 learners
in a unit test and 1,000 in bench/pages.py, on SQLite or PostgreSQL.

Rows are made directly rather than through the claim and review services (one statement set per review would
take minutes at this size); what the pages read is what those services write: completed claims, reviews, the
counters on the submission row, then ``recalibrate`` itself for scores and reviewer figures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation.models import COMPLETED, Exposure, Review, ReviewClaim
from reviews.courses.access import LEARNER, MENTOR, STAFF
from reviews.courses.models import Assignment, Course, Membership
from reviews.kernel.db import new_id, utcnow
from reviews.moderation import services as moderation
from reviews.scoring.services import give_staff_grade, recalibrate
from reviews.submissions.models import ACTIVE, LEARNER_WORK, STAFF_SAMPLE, SUPERSEDED, StaffGrade, Submission
from tests.conftest import RUBRIC, essay


@dataclass
class Seeded:
    course_id: str
    assignment_id: str
    staff_id: str
    mentor_id: str
    learner_ids: list[str] = field(default_factory=list)
    submitted_ids: list[str] = field(default_factory=list)  # learners with an accepted attempt
    sample_ids: list[str] = field(default_factory=list)


def seed_course(session: Session, n_learners: int, *, tag: str = "seed", seed: int = 7) -> Seeded:
    """``n_learners`` learners: nine in ten submitted (every tenth of those twice), each submitter reviewed the next
    two submitters' work and every third one a calibration sample too; every seventh submitter was reported, every
    25th has a staff grade. The caller commits."""
    rng = random.Random(seed)
    now = utcnow()
    staff = User(id=new_id(), email=f"staff@{tag}.test", name="Sam Staff")
    mentor = User(id=new_id(), email=f"mentor@{tag}.test", name="Mia Mentor")
    learners = [User(id=new_id(), email=f"learner{i:04d}@{tag}.test", name=f"Learner {i:04d}") for i in range(n_learners)]
    course = Course(id=new_id(), title=f"Course {tag}", slug=f"course-{tag}")
    session.add_all([staff, mentor, *learners, course])
    session.flush()
    session.add_all(
        [
            Membership(course_id=course.id, user_id=staff.id, role=STAFF),
            Membership(course_id=course.id, user_id=mentor.id, role=MENTOR),
            *[Membership(course_id=course.id, user_id=learner.id, role=LEARNER) for learner in learners],
        ]
    )
    assignment = Assignment(
        id=new_id(),
        course_id=course.id,
        title="Plan a small project",
        prompt="Describe a small project: its scope and its risks.",
        rubric=RUBRIC,
        reviews_required=2,
        reviews_to_give=2,
        calibration_share=0.2,
        max_attempts=2,
        min_words=10,
    )
    session.add(assignment)
    session.flush()
    out = Seeded(course.id, assignment.id, staff.id, mentor.id, [u.id for u in learners])

    samples = []
    for k, points in enumerate(({"scope": 3.0, "risks": 2.0}, {"scope": 1.0, "risks": 4.0})):
        sample = Submission(
            id=new_id(),
            assignment_id=assignment.id,
            author_id=staff.id,
            kind=STAFF_SAMPLE,
            text=essay(10_000 + k),
            content_hash=f"sample-{tag}-{k}",
            similarity_checked_at=now,
            reviews_done=0,
            review_load=0,
        )
        samples.append((sample, points))
        session.add(sample)
        session.flush()
        session.add(StaffGrade(submission_id=sample.id, grader_id=staff.id, scores=points, note="calibration sample"))
    out.sample_ids = [s.id for s, _ in samples]

    active: list[tuple[User, Submission, dict[str, float]]] = []
    for i, learner in enumerate(learners):
        if i % 10 == 9:
            continue  # no submission
        attempts = 2 if i % 10 == 4 else 1
        for attempt in range(1, attempts + 1):
            submission = Submission(
                id=new_id(),
                assignment_id=assignment.id,
                author_id=learner.id,
                kind=LEARNER_WORK,
                attempt=attempt,
                status=ACTIVE if attempt == attempts else SUPERSEDED,
                text=essay(i * 3 + attempt),
                content_hash=f"{tag}-{i}-{attempt}",
                similarity_checked_at=now,
                reviews_done=0,
                review_load=0,
                created_at=now - timedelta(hours=2 * (attempts - attempt) + 1, seconds=i),
            )
            session.add(submission)
        quality = {"scope": float(rng.randint(1, 4)), "risks": float(rng.randint(0, 4))}
        active.append((learner, submission, quality))
    out.submitted_ids = [learner.id for learner, _, _ in active]

    session.flush()  # the tables hold no relationships: flush what others point at first
    claims: list[ReviewClaim] = []
    rows: list[Exposure | Review] = []
    bias = {learner.id: rng.choice((-1.0, 0.0, 0.0, 1.0)) for learner, _, _ in active}
    for j, (reviewer, _, _) in enumerate(active):
        targets: list[tuple[Submission, dict[str, float]]] = [
            (active[(j + step) % len(active)][1], active[(j + step) % len(active)][2]) for step in (1, 2) if len(active) > step
        ]
        if j % 3 == 0:
            targets.append(samples[j % 2])
        for submission, truth in targets:
            claim = ReviewClaim(
                id=new_id(),
                assignment_id=assignment.id,
                submission_id=submission.id,
                reviewer_id=reviewer.id,
                status=COMPLETED,
                expires_at=now + timedelta(minutes=30),
                completed_at=now,
            )
            points = {k: min(4.0, max(0.0, v + bias[reviewer.id] + rng.choice((-1.0, 0.0, 0.0, 1.0)))) for k, v in truth.items()}
            claims.append(claim)
            rows.extend(
                [
                    Exposure(submission_id=submission.id, viewer_id=reviewer.id, claim_id=claim.id),
                    Review(
                        claim_id=claim.id,
                        assignment_id=assignment.id,
                        submission_id=submission.id,
                        reviewer_id=reviewer.id,
                        scores=points,
                        comments={"scope": "Clear enough."},
                        overall_comment="Solid plan.",
                    ),
                ]
            )
            submission.reviews_done += 1
            submission.review_load += 1
    session.add_all(claims)
    session.flush()
    session.add_all(rows)
    session.flush()
    recalibrate(session, assignment.id)
    for j, (_learner, submission, _) in enumerate(active):
        if j % 7 == 3:
            moderation.report_submission(session, submission, staff, STAFF, "other", "Please look at this one.", None)
        if j % 25 == 11:
            give_staff_grade(session, submission, staff.id, {"scope": 3.0, "risks": 3.0}, "Graded by staff.", course.id)
    session.flush()
    return out
