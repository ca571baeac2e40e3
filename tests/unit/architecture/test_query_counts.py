"""The pages and exports that list learners run as many queries for 200 learners as for 10 (no N+1)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from flask import Flask

from reviews.accounts.callers import SESSION_KEY
from reviews.accounts.models import User
from reviews.accounts.services import start_web_session
from reviews.allocation import services as allocation
from reviews.courses.services import get_assignment
from reviews.kernel.db import db
from reviews.moderation import services as moderation
from reviews.scoring.services import recalibrate
from reviews.submissions import services as submissions
from tests.conftest import World, build_world, essay, make_app
from tests.query_counts import counting_queries


def seeded_world(template_db: Path, tmp_path: Path, n_learners: int) -> World:
    """A course with ``n_learners`` who each submitted and gave two reviews, calibrated scores, and a case for
    every fifth learner; seeded through the services directly (no background work) to stay fast."""
    db_path = tmp_path / f"world-{n_learners}.db"
    shutil.copy(template_db, db_path)
    app = make_app(db_path)
    world = build_world(app, app.test_client(), n_learners=n_learners, reviews_required=2, reviews_to_give=2)
    background = app.extensions["fairpeer.background"]
    background.send = lambda *args, **kwargs: None  # seeding only: calibrate once below instead of per review
    with app.app_context():
        assignment = get_assignment(db.session, world.assignment_id)
        users = {u.id: u for u in db.session.query(User).all()}
        for i, learner in enumerate(world.learners):
            submissions.submit(db.session, assignment, users[learner.id], essay(i), [], max_files=5, max_bytes=10**6)
            db.session.commit()
        for learner in world.learners:
            for _ in range(2):
                outcome = allocation.claim_next_review(db.session, assignment.id, users[learner.id], 30, 2)
                db.session.commit()
                claim, item, submission = allocation.claim_for_review(db.session, outcome.claim.id, learner.id)
                allocation.submit_review(db.session, claim, item, submission, {"scores": {"scope": 3, "risks": 2}})
                db.session.commit()
        recalibrate(db.session, assignment.id)
        db.session.commit()
        for i, learner in enumerate(world.learners):
            if i % 5 == 0:
                own = submissions.latest_submission(db.session, assignment.id, learner.id)
                assert own is not None
                moderation.report_submission(db.session, own, users[world.staff.id], "staff", "other", "Look at this.", None)
        db.session.commit()
    return world


def signed_in_client(app: Flask, user_id: str) -> Any:
    """A browser with a live page session of the user's (as a sign-in link leaves it)."""
    client = app.test_client()
    with app.app_context():
        secret = start_web_session(db.session, user_id, None, hours=1)
        db.session.commit()
    with client.session_transaction() as session:
        session[SESSION_KEY] = secret
    return client


def page_counts(world: World) -> dict[str, int]:
    app = world.app
    learner, staff = world.learners[3], world.staff
    pages = {
        "home (learner)": (learner.id, "/"),
        "home (staff)": (staff.id, "/"),
        "assignment page (learner)": (learner.id, f"/assignments/{world.assignment_id}"),
        "assignment page (staff)": (staff.id, f"/assignments/{world.assignment_id}"),
        "record page": (learner.id, f"/records/{world.course_id}/{learner.id}"),
        "escalation queue page": (staff.id, f"/courses/{world.course_id}/escalations?status=all"),
    }
    counts: dict[str, int] = {}
    for name, (user_id, path) in pages.items():
        client = signed_in_client(app, user_id)
        with counting_queries(app) as counted:
            response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(counted)
    api = {
        "scores.csv": (staff, f"/api/assignments/{world.assignment_id}/scores.csv"),
        "record (API)": (learner, f"/api/courses/{world.course_id}/learners/{learner.id}/record"),
        "escalation queue (API)": (staff, f"/api/courses/{world.course_id}/escalations?status=all"),
    }
    for name, (caller, path) in api.items():
        with counting_queries(app) as counted:
            response = caller.get(path)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(counted)
    return counts


def test_query_counts_do_not_grow_with_learners(template_db: Path, tmp_path: Path) -> None:
    small, large = seeded_world(template_db, tmp_path, 10), seeded_world(template_db, tmp_path, 200)
    with large.app.app_context():
        assert db.session.query(User).count() >= 200
    csv_rows = large.staff.get(f"/api/assignments/{large.assignment_id}/scores.csv").get_data(as_text=True).strip().splitlines()
    assert len(csv_rows) == 201, "one row per learner plus the header"
    queue = large.staff.get(f"/api/courses/{large.course_id}/escalations?status=all").get_json()["cases"]
    assert len(queue) == 40
    assert page_counts(small) == page_counts(large)
