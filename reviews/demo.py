"""``fairpeer demo``: a small course a newcomer can click through as a learner, a mentor and staff."""

from __future__ import annotations

import random

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.accounts.services import create_sign_in_link, create_user
from reviews.allocation import services as allocation
from reviews.allocation.models import Review
from reviews.courses import services as courses
from reviews.moderation import services as moderation
from reviews.submissions import services as submissions

ESSAYS = [
    (
        "My project is a weekly vegetable box for the twelve families in my street. Scope: one pick-up point, one supplier, "
        "orders closed every Thursday. Risks: the supplier may fail, so I keep a second farm on call; people may forget to pay, "
        "so payment comes with the order. Milestones: survey in week one, pilot in week three, review after six boxes."
    ),
    (
        "I plan to digitise the sign-up sheets of our football club. The scope is the under-twelve teams only. The main risk is "
        "that parents do not use the form, so coaches will remind them at training. I will measure success by the share of "
        "players registered online after one month and by the time coaches save each week."
    ),
    (
        "The plan: a reading corner in the community centre. Scope covers shelves, a borrowing notebook and two volunteer shifts "
        "a week. Risks are lost books and volunteers dropping out; a small deposit and a rota of six people address both. "
        "Milestones are donations by May, opening in June and a headcount every Saturday."
    ),
    (
        "We will run a repair cafe once a month in the school hall. Scope: small electrics, bikes and clothing. Risks include "
        "safety with electrics, handled by a qualified volunteer who checks every repair, and low turnout, handled by posters "
        "and the school newsletter. Success is twenty repairs per session by the third month."
    ),
    (
        "My project builds a shared tool library for my building. Scope: thirty tools in a locked cupboard with a paper log. "
        "The largest risk is damage, so each borrower signs for the tool and pays a small fee into a repair fund. Milestones "
        "are collecting tools, writing the rules and a launch evening for the residents."
    ),
    (
        "I want to organise a language exchange evening at the library every two weeks. The scope is Spanish and English "
        "only at first. Risks: uneven numbers of speakers, which I handle by a sign-up form with a cap, and a quiet room that "
        "is not always free, so I booked three months ahead. Success means fifteen regular participants."
    ),
]


# The personas whose sign-in links the demo prints, found again by these emails on a later run.
PERSONAS = {
    "learner": "ada@demo.fairpeer",
    "mentor": "mentor@demo.fairpeer",
    "staff": "staff@demo.fairpeer",
    "admin": "admin@demo.fairpeer",
}


def demo_exists(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.email.in_(PERSONAS.values())).limit(1)) is not None


def persona_links(session: Session, app: Flask, base_url: str) -> dict[str, str]:
    """A fresh single-use sign-in link per demo persona there is (the caller commits)."""
    users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(PERSONAS.values())))}
    links = {}
    for persona, email in PERSONAS.items():
        if email in users:
            secret, _ = create_sign_in_link(session, users[email], app.config["SIGN_IN_LINK_MINUTES"])
            links[persona] = f"{base_url}/sign-in/{secret}"
    return links


def seed_demo(session: Session, app: Flask, base_url: str) -> dict[str, str]:
    if session.scalar(select(User.id).limit(1)) is not None:
        raise RuntimeError("The database is not empty; `fairpeer demo` fills only an empty database.")
    rng = random.Random(7)
    admin, _ = create_user(session, PERSONAS["admin"], "Demo Admin", is_admin=True)
    staff, _ = create_user(session, PERSONAS["staff"], "Sam Staff")
    mentor, _ = create_user(session, PERSONAS["mentor"], "Mia Mentor")
    course = courses.create_course(session, "Project Planning 101", "project-planning-101", admin.id)
    courses.add_member(session, course, staff.id, "staff", admin.id)
    courses.add_member(session, course, mentor.id, "mentor", admin.id)
    assignment = courses.create_assignment(
        session,
        course,
        {
            "title": "Plan a small project",
            "prompt": "Describe a small project you could run in your community: its scope, its main risks and its milestones.",
            "template": None,
            "lineage": None,
            "rubric": {
                "criteria": [
                    {"key": "scope", "title": "Scope", "description": "Is it clear what is in and out?", "max_points": 4},
                    {"key": "risks", "title": "Risks", "description": "Are the main risks named, with a response?", "max_points": 4},
                    {"key": "milestones", "title": "Milestones", "description": "Are there dated, checkable steps?", "max_points": 4},
                ]
            },
            "reviews_required": 3,
            "reviews_to_give": 3,
            "calibration_share": 0.0,
            "max_attempts": 2,
            "attempt_cooldown_hours": 0,
            "min_words": 20,
            "due_at": None,
            "review_due_at": None,
        },
        staff.id,
    )
    learners = []
    for i, name in enumerate(["Ada", "Ben", "Chen", "Dev", "Eva", "Fay"]):
        learner, _ = create_user(session, f"{name.lower()}@demo.fairpeer", f"{name} Learner")
        courses.add_member(session, course, learner.id, "learner", staff.id)
        learners.append(learner)
        submissions.submit(session, assignment, learner, ESSAYS[i], [], max_files=5, max_bytes=10 * 1024 * 1024)
        session.commit()
    # Everyone but Fay gives their three reviews, so most scores are released and Fay sees what she still owes.
    for learner in learners[:-1]:
        for _ in range(3):
            outcome = allocation.claim_next_review(session, assignment.id, learner, 60, 2)
            claim, _assignment, item = allocation.claim_for_review(session, outcome.claim.id, learner.id)
            scores = {k: rng.randint(2, 4) for k in ("scope", "risks", "milestones")}
            allocation.submit_review(
                session,
                claim,
                assignment,
                item,
                {
                    "scores": scores,
                    "comments": {"scope": "Clear enough."},
                    "overall_comment": "Good plan overall; add dates to each milestone.",
                },
            )
            session.commit()
    ada_submission = submissions.latest_submission(session, assignment.id, learners[0].id)
    assert ada_submission is not None
    first_review = session.scalars(select(Review).where(Review.submission_id == ada_submission.id).order_by(Review.created_at)).first()
    assert first_review is not None
    moderation.report_submission(
        session, ada_submission, learners[0], "learner", "unfair_review", "One review ignored my milestones section.", first_review.id
    )
    session.commit()
    links = persona_links(session, app, base_url)
    session.commit()
    return links
