"""Calibration in the service: debounced runs, versions that never go backwards, cases opened once, the CLI."""

from __future__ import annotations

import csv
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from reviews.cli import main
from reviews.courses.models import Assignment
from reviews.kernel.audit import AuditEvent
from reviews.kernel.db import db
from reviews.moderation.models import Case
from reviews.scoring import services as scoring_services
from reviews.scoring.models import ReviewerStat, Score
from reviews.scoring.services import recalibrate
from tests.conftest import build_world, make_app

DEBOUNCE = 6.0


def runs(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "scores.recalibrated")) or 0)


def test_a_burst_of_50_reviews_gives_at_most_two_runs(template_db: Path, tmp_path: Path) -> None:
    from workers.celery_app import start_embedded

    shutil.copy(template_db, tmp_path / "b.db")
    app = make_app(tmp_path / "b.db", BACKGROUND_MODE="embedded", RECALIBRATE_DEBOUNCE_SECONDS=DEBOUNCE, SWEEP_SECONDS=3600)
    start_embedded(app)
    try:
        world = build_world(app, app.test_client(), n_learners=11, reviews_required=5, reviews_to_give=5)
        for i, learner in enumerate(world.learners):
            assert world.submit(learner, n=i).status_code == 201
        before = runs(app)
        started = time.monotonic()
        sent = 0
        for learner in world.learners:
            for _ in range(5):
                claim = world.claim(learner)
                if claim.status_code == 201 and sent < 50:
                    assert world.review(learner, claim.get_json()["claim_id"]).status_code == 201
                    sent += 1
        burst = time.monotonic() - started
        assert sent == 50
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and runs(app) == before:
            time.sleep(0.1)
        # Wait out one more debounce window for a second run (reviews that arrived during the first).
        time.sleep(DEBOUNCE + 1)
        # The burst is far shorter than the debounce window on any sane machine; allow for a very slow one.
        allowed = 2 + int(burst / DEBOUNCE)
        assert 1 <= runs(app) - before <= allowed, (burst, runs(app) - before)
        with app.app_context():
            counted = db.session.scalar(select(func.sum(Score.reviews)))
            assert counted == 50  # every review was seen by the last run
    finally:
        app.extensions["fairpeer.background"].stop()
        app.extensions["fairpeer.db"][0].dispose()


def test_runs_are_serialised_and_versions_only_grow(app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    world = build_world(app, client, n_learners=6, reviews_required=2, reviews_to_give=2)
    app.extensions["fairpeer.background"].send = lambda *a, **k: None  # drive the runs by hand below
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    for learner in world.learners:
        for _ in range(2):
            sent = world.review(learner, world.claim(learner).get_json()["claim_id"], {"scope": 1 + len(learner.id) % 3, "risks": 2})
            assert sent.status_code == 201, sent.get_json()
    versions: list[int | None] = []
    real_fit = scoring_services.fit_assignment

    def fit_slowly_in_the_slow_thread(*args: Any, **kwargs: Any) -> Any:
        # Test seam: the slow run holds the assignment between computing and writing.
        fitted = real_fit(*args, **kwargs)
        if threading.current_thread().name == "slow":
            time.sleep(0.5)
        return fitted

    monkeypatch.setattr(scoring_services, "fit_assignment", fit_slowly_in_the_slow_thread)

    def run() -> None:
        with app.app_context():
            versions.append(recalibrate(db.session, world.assignment_id))
            db.session.commit()

    slow = threading.Thread(target=run, name="slow")
    slow.start()
    time.sleep(0.1)
    fast = threading.Thread(target=run, name="fast")
    fast.start()
    slow.join(30)
    fast.join(30)
    # The slow run held the assignment; the other one found its inputs already calibrated and did nothing.
    assert sorted(versions, key=lambda v: v or 0) == [None, 1]
    with app.app_context():
        assert set(db.session.scalars(select(Score.version))) == {1}
        stats = db.session.scalars(select(ReviewerStat)).all()
        assert {s.criterion for s in stats} == {"scope", "risks"} and all(s.version == 1 for s in stats)


def test_unreliable_reviewer_case_opened_once(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=8, reviews_required=3, reviews_to_give=4, calibration_share=0.25)
    for text, scores in [
        ("Sample one: a careful garden plan with a precise scope and risks.", {"scope": 4, "risks": 4}),
        ("Sample two: a vague idea with no scope and no risks named at all.", {"scope": 0, "risks": 0}),
        ("Sample three: a middling plan, some scope, a risk or two named.", {"scope": 2, "risks": 2}),
    ]:
        sample = world.staff.post(f"/api/assignments/{world.assignment_id}/calibration-samples", json={"text": text, "scores": scores})
        assert sample.status_code == 201, sample.get_json()
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    careless = world.learners[0]
    for _ in range(4):
        for learner in world.learners:
            r = world.claim(learner)
            if r.status_code != 201:
                continue
            text = r.get_json()["item"]["text"]
            if learner is careless or text.startswith("Sample one"):
                scores = {"scope": 4, "risks": 4}
            elif text.startswith("Sample two"):
                scores = {"scope": 0, "risks": 0}
            else:
                scores = {"scope": 2, "risks": 2}
            assert world.review(learner, r.get_json()["claim_id"], scores).status_code == 201
    with app.app_context():
        cases = db.session.scalars(select(Case).where(Case.kind == "unreliable_reviewer")).all()
        assert [c.subject_ids for c in cases] == [[careless.id]]
        assert cases[0].subject_type == "reviewer"
        for _ in range(2):
            db.session.get_one(Assignment, world.assignment_id).calibrated_inputs_at = None
            db.session.commit()
            recalibrate(db.session, world.assignment_id)
            db.session.commit()
        assert db.session.scalar(select(func.count(Case.id)).where(Case.kind == "unreliable_reviewer")) == 1


def test_calibrate_cli_reads_and_writes_the_formats(tmp_path: Path) -> None:
    grades = tmp_path / "g.csv"
    staff = tmp_path / "s.csv"
    out = tmp_path / "o.csv"
    rows = ["submission_id,reviewer_id,score"]
    for s in range(12):
        for r in range(4):
            reviewer = (s + r + 1) % 12
            rows.append(f"sub-{s},rev-{reviewer},{min(20, max(0, 8 + s % 7 + (reviewer % 3) - 1))}")
    grades.write_text("\n".join(rows) + "\n")
    staff.write_text("submission_id,score\nsub-0,9\nsub-3,12\nsub-5,13\n")
    result = CliRunner().invoke(main, ["calibrate", "--grades", str(grades), "--staff", str(staff), "--scale", "0:20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open() as handle:
        written = list(csv.DictReader(handle))
    assert [r["submission_id"] for r in written] == [f"sub-{s}" for s in range(12)]
    assert all(0 <= float(r["score"]) <= 20 and float(r["sd"]) >= 0 for r in written)
    bad = CliRunner().invoke(main, ["calibrate", "--grades", str(grades), "--scale", "20:0", "--out", str(out)])
    assert bad.exit_code != 0
    broken = tmp_path / "broken.csv"
    broken.write_text("submission,who,points\n1,2,3\n")
    failed = CliRunner().invoke(main, ["calibrate", "--grades", str(broken), "--out", str(out)])
    assert failed.exit_code != 0 and "Error" in failed.output
