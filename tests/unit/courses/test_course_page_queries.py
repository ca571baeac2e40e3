"""The course page makes as many queries for 500 learners as for 10: every number is one GROUP BY query."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from flask import Flask

from reviews.accounts.models import User
from reviews.allocation import services as allocation
from reviews.courses.models import Membership
from reviews.courses.services import get_assignment
from reviews.kernel.db import db
from reviews.moderation import services as moderation
from reviews.submissions import services as submissions
from tests.conftest import World, build_world, essay, make_app
from tests.query_counts import counting_queries
from tests.unit.courses.test_course_pages import Browser


def course_world(template_db: Path, tmp_path: Path, n_learners: int) -> World:
    """``n_learners`` in the course; the first ten submitted and reviewed, so every number on the page is non-zero,
    and the rest only enrolled (members are what grows)."""
    db_path = tmp_path / f"course-{n_learners}.db"
    shutil.copy(template_db, db_path)
    app: Flask = make_app(db_path)
    world = build_world(app, app.test_client(), n_learners=10)
    app.extensions["fairpeer.background"].send = lambda *args, **kwargs: None
    with app.app_context():
        assignment = get_assignment(db.session, world.assignment_id)
        users = {u.id: u for u in db.session.query(User).all()}
        for i, learner in enumerate(world.learners):
            submissions.submit(db.session, assignment, users[learner.id], essay(i), [], max_files=5, max_bytes=10**6)
        db.session.commit()
        for learner in world.learners[:5]:
            outcome = allocation.claim_next_review(db.session, assignment.id, users[learner.id], 30, 2)
            db.session.commit()
            claim, item, submission = allocation.claim_for_review(db.session, outcome.claim.id, learner.id)
            allocation.submit_review(db.session, claim, item, submission, {"scores": {"scope": 3, "risks": 2}})
            db.session.commit()
        own = submissions.latest_submission(db.session, assignment.id, world.learners[0].id)
        assert own is not None
        moderation.report_submission(db.session, own, users[world.staff.id], "staff", "other", "Look at this.", None)
        for i in range(n_learners - 10):
            extra = User(email=f"enrolled{i}@example.org", name=f"Enrolled {i}")
            db.session.add(extra)
            db.session.flush()
            db.session.add(Membership(course_id=world.course_id, user_id=extra.id, role="learner"))
        db.session.commit()
    return world


def course_page_count(world: World) -> tuple[int, str]:
    browser = Browser(world, world.staff.id)
    with counting_queries(world.app) as counted:
        answer = browser.get(f"/courses/{world.course_id}")
    assert answer.status_code == 200
    return len(counted), answer.get_data(as_text=True)


def test_the_course_page_makes_the_same_queries_for_10_and_500_learners(template_db: Path, tmp_path: Path) -> None:
    small, large = course_world(template_db, tmp_path, 10), course_world(template_db, tmp_path, 500)
    small_count, _ = course_page_count(small)
    large_count, page = course_page_count(large)
    assert page.count('data-label="Role">Learner<') == 500
    cells = dict(re.findall(r'data-label="(Submissions|Reviews done / needed|Open cases)">([^<]*)</td>', page))
    assert cells == {"Submissions": "10", "Reviews done / needed": "5 / 20", "Open cases": "1"}
    assert small_count == large_count
