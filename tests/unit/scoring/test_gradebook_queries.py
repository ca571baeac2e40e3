"""The gradebook and the other staff scoring pages run as many SQL queries for 500 learners as for 10."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import Flask

from reviews.kernel.db import db
from tests.conftest import make_app
from tests.query_counts import counting_queries
from tests.unit.scoring.pages_helpers import HTML, page_client
from tests.unit.scoring.seeding import Seeded, seed_course


def seeded(template_db: Path, tmp_path: Path, n_learners: int) -> tuple[Flask, Seeded]:
    db_path = tmp_path / f"gradebook-{n_learners}.db"
    shutil.copy(template_db, db_path)
    app = make_app(db_path)
    app.extensions["fairpeer.background"].send = lambda *args, **kwargs: None  # seeding only
    with app.app_context():
        world = seed_course(db.session, n_learners)
        db.session.commit()
    return app, world


def counts(app: Flask, world: Seeded) -> dict[str, int]:
    aid = world.assignment_id
    with app.app_context():
        from reviews.submissions.services import latest_submission

        work = latest_submission(db.session, aid, world.submitted_ids[3])
        assert work is not None
        work_id = work.id
    pages = {
        "gradebook": f"/assignments/{aid}/gradebook",
        "gradebook sorted by score, page 2": f"/assignments/{aid}/gradebook?sort=score&order=desc&page=2",
        "gradebook filtered": f"/assignments/{aid}/gradebook?state=under_investigation&q=learner",
        "reviewers": f"/assignments/{aid}/reviewers",
        "samples": f"/assignments/{aid}/samples",
        "scores.csv": f"/assignments/{aid}/scores.csv",
        "work": f"/submissions/{work_id}/work",
    }
    client = page_client(app, world.staff_id)
    found = {}
    for name, path in pages.items():
        with counting_queries(app) as counted:
            answer = client.get(path, headers=HTML)
        assert answer.status_code == 200, (name, answer.status_code)
        found[name] = len(counted)
    return found


def test_gradebook_queries_do_not_grow_with_learners(template_db: Path, tmp_path: Path) -> None:
    small_app, small = seeded(template_db, tmp_path, 10)
    large_app, large = seeded(template_db, tmp_path, 500)
    client = page_client(large_app, large.staff_id)
    html = client.get(f"/assignments/{large.assignment_id}/gradebook", headers=HTML).get_data(as_text=True)
    assert "500 learners" in html and "Page 1 of 5" in html
    assert "Under investigation" in html and "Staff grade" in html and "No submission" in html
    assert counts(small_app, small) == counts(large_app, large)
