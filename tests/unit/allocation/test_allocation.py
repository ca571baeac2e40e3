"""Allocation: blind samples early, items under investigation held back, over-review, leases, nobody stuck,
adaptive extra reviews, and no over-claiming under concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from reviews.allocation.models import LIVE, ReviewClaim
from reviews.allocation.services import sample_schedule_key, wants_sample
from reviews.courses.models import Assignment
from reviews.kernel.db import db, utcnow
from reviews.moderation.models import Case
from reviews.submissions.models import Submission
from tests.conftest import World, build_world, essay


def test_one_sample_among_the_first_three_claims_at_varying_positions() -> None:
    assignment = Assignment(id="a1", calibration_share=0.2)
    key = sample_schedule_key("a deployment's secret")
    first_positions = set()
    for reviewer in range(60):
        flags = [wants_sample(assignment, f"r{reviewer}", k, key=key) for k in range(203)]
        assert sum(flags[:3]) == 1
        first_positions.add(flags.index(True))
        assert abs(sum(flags[3:]) - 0.2 * 200) <= 1
    assert first_positions == {0, 1, 2}
    assert not any(wants_sample(Assignment(id="a2", calibration_share=0.0), "r", k, key=key) for k in range(10))


def test_sample_served_within_first_three_claims(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=6, calibration_share=0.25, reviews_required=2, reviews_to_give=3)
    text = "Reference answer: a community garden with a fenced scope, weather risks covered and four dated milestones."
    sample = world.staff.post(
        f"/api/assignments/{world.assignment_id}/calibration-samples", json={"text": text, "scores": {"scope": 4, "risks": 4}}
    )
    assert sample.status_code == 201, sample.get_json()
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    for learner in world.learners:
        texts = []
        for _ in range(3):
            claim = world.claim(learner)
            assert claim.status_code == 201, claim.get_json()
            body = claim.get_json()
            texts.append(body["item"]["text"])
            assert world.review(learner, body["claim_id"]).status_code == 201
        assert texts.count(text) == 1


def test_item_under_investigation_is_held_back(world: World) -> None:
    a, b = world.learners[:2]
    assert world.submit(a, n=0).status_code == 201
    assert world.submit(b, n=1).status_code == 201
    sid = a.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    report = world.mentor.post(f"/api/submissions/{sid}/reports", json={"kind": "plagiarism", "message": "Looks copied."})
    assert report.status_code == 201, report.get_json()
    case_id = report.get_json()["case_id"]
    r = world.claim(b)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "nothing_to_review"
    # Staff decide it: nobody acts on a case they opened (moderation/rules.py).
    assert world.staff.post(f"/api/escalations/{case_id}/claim").status_code == 200
    assert world.staff.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Original."}).status_code == 200
    assert world.claim(b).status_code == 201


def test_over_review_lets_a_late_submitter_finish(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=4, reviews_required=2, reviews_to_give=3)
    early, late = world.learners[:3], world.learners[3]
    world.submit_and_review(early)
    assert world.submit(late, n=9).status_code == 201
    given = 0
    while True:
        r = world.claim(late)
        if r.status_code != 201:
            break
        assert world.review(late, r.get_json()["claim_id"]).status_code == 201
        given += 1
    assert given == 3
    assert late.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["reviews_owed"] == 0
    with app.app_context():
        most = db.session.scalar(select(func.max(Submission.reviews_done)))
        assert most is not None and most <= 2 + app.config["OVER_REVIEW_EXTRA"]


def test_stuck_submission_opens_needs_reviews_case_once(world: World, app: Flask) -> None:
    from reviews.allocation.tasks import tend_queue

    assert world.submit(world.learners[0], n=0).status_code == 201
    with app.app_context():
        db.session.execute(update(Submission).values(created_at=utcnow() - timedelta(hours=100)))
        db.session.commit()
    background = app.extensions["fairpeer.background"]
    first = background.run_now("reviews.allocation.tasks.tend_queue", ())
    second = background.run_now("reviews.allocation.tasks.tend_queue", ())
    assert first["needs_reviews"] == 1 and second["needs_reviews"] == 0
    assert tend_queue.name == "reviews.allocation.tasks.tend_queue"
    cases = world.staff.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"]
    assert [c["kind"] for c in cases] == ["needs_reviews"]
    assert cases[0]["evidence"]["reviews_done"] == 0


def test_adaptive_extra_reviews_stop_at_the_cap(app: Flask, client: FlaskClient) -> None:
    app.config["ADAPTIVE_WIDTH_SHARE"] = 0.05  # everything is "too uncertain": the cap must stop it
    world = build_world(app, client, n_learners=7, reviews_required=2, reviews_to_give=6)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    scores = [{"scope": 0, "risks": 4}, {"scope": 4, "risks": 0}]
    for round_ in range(6):
        for j, learner in enumerate(world.learners):
            r = world.claim(learner)
            if r.status_code == 201:
                assert world.review(learner, r.get_json()["claim_id"], scores[(round_ + j) % 2]).status_code == 201
    with app.app_context():
        targets = db.session.scalars(select(Submission.reviews_target)).all()
        done = db.session.scalars(select(Submission.reviews_done)).all()
        cap = 2 + app.config["OVER_REVIEW_EXTRA"]
        assert max(t or 2 for t in targets) == cap
        assert max(done) <= cap
        low = db.session.scalars(select(Case).where(Case.kind == "low_confidence")).all()
        assert low, "scores still too uncertain at the cap go to a mentor"
        assert len({c.submission_id for c in low}) == len(low)


def test_concurrent_claims_never_over_claim(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=12, reviews_required=2, reviews_to_give=2)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    errors: list[Any] = []
    barrier = threading.Barrier(len(world.learners))

    def claim_all(learner: Any) -> None:
        local = app.test_client()
        try:
            barrier.wait()
            for _ in range(3):
                r = local.post(f"/api/assignments/{world.assignment_id}/review-claims", headers=learner.headers())
                if r.status_code not in (200, 201, 404):
                    errors.append(r.get_json())
                if r.status_code == 201:
                    sent = local.post(
                        f"/api/review-claims/{r.get_json()['claim_id']}/review",
                        json={"scores": {"scope": 2, "risks": 2}},
                        headers=learner.headers(),
                    )
                    if sent.status_code != 201:
                        errors.append(sent.get_json())
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=claim_all, args=(learner,)) for learner in world.learners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with app.app_context():
        cap = 2 + app.config["OVER_REVIEW_EXTRA"]
        submissions = db.session.scalars(select(Submission)).all()
        assert len(submissions) == len(world.learners)
        assert db.session.scalar(select(func.count(ReviewClaim.id)).where(ReviewClaim.status == "completed")), "nobody got to review"
        for submission in submissions:
            claims = db.session.scalars(select(ReviewClaim).where(ReviewClaim.submission_id == submission.id)).all()
            assert len([c for c in claims if c.status in (LIVE, "completed")]) <= cap
            assert submission.author_id not in {c.reviewer_id for c in claims}
            reviewers = [c.reviewer_id for c in claims]
            assert len(reviewers) == len(set(reviewers))
            assert submission.review_load == len([c for c in claims if c.status in (LIVE, "completed")])


def test_periodic_task_run_twice_at_once_does_its_work_once(world: World, app: Flask) -> None:
    for i, learner in enumerate(world.learners[:3]):
        assert world.submit(learner, n=i).status_code == 201
    for learner in world.learners[:3]:
        assert world.claim(learner).status_code == 201
    with app.app_context():
        db.session.execute(update(ReviewClaim).values(expires_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    background = app.extensions["fairpeer.background"]
    results: list[dict[str, int]] = []
    threads = [
        threading.Thread(target=lambda: results.append(background.run_now("reviews.allocation.tasks.tend_queue", ()))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r["expired"] for r in results) == [0, 3]
    with app.app_context():
        assert db.session.scalar(select(func.sum(Submission.review_load))) == 0


def test_new_attempt_enters_the_queue_fresh(world: World, app: Flask) -> None:
    a, b = world.learners[:2]
    assert world.submit(a, n=0).status_code == 201
    assert world.submit(b, n=1).status_code == 201
    assert world.review(b, world.claim(b).get_json()["claim_id"]).status_code == 201
    new = world.submit(a, text=essay(11))
    assert new.status_code == 201, new.get_json()
    new_id = new.get_json()["id"]
    with app.app_context():
        new = db.session.get_one(Submission, new_id)
        assert (new.review_load, new.reviews_done, new.status) == (0, 0, "active")
    # b reviewed the old attempt, not this one: the new attempt is served to b like any fresh item.
    again = world.claim(b)
    assert again.status_code == 201 and again.get_json()["item"]["text"] == essay(11)
