"""The whole flow on PostgreSQL + Redis + a real `fairpeer worker`: scores and similarity cases come from the worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.conftest import build_world, essay
from tests.integration.conftest import Stack, wait_for
from tests.integration.scenario import author_of, learner_submission

pytestmark = pytest.mark.integration

AGREED = 5.0  # the total every review gives (World.review: scope 3 + risks 2)


def test_flow_scores_similarity_and_health_through_the_worker(stack: Stack, make_web_app: Callable[..., Flask]) -> None:
    worker = stack.start_worker()
    app = make_web_app(stack.database_url, stack.redis_url)
    client = app.test_client()
    stack.wait_ready(app, worker)

    world = build_world(app, client, n_learners=6)
    learners, late = world.learners[:5], world.learners[5]
    for i, learner in enumerate(learners):
        response = world.submit(learner, n=i)
        assert response.status_code == 201, response.get_json()
    received = [0] * len(learners)
    for learner in learners:
        for _ in range(2):
            claim = world.claim(learner)
            assert claim.status_code == 201, claim.get_json()
            received[author_of(claim.get_json()["item"]["text"])] += 1
            assert world.review(learner, claim.get_json()["claim_id"]).status_code == 201
    submission_ids = [learner_submission(world, i) for i in range(len(learners))]
    seen: list[Any] = []

    def all_scored() -> list[Any] | None:
        seen[:] = [world.staff.get(f"/api/submissions/{sid}").get_json()["score"] for sid in submission_ids]
        done = all(s and s.get("reviews") == n for s, n in zip(seen, received, strict=True))
        return seen if done else None

    scores = wait_for(all_scored, 60, "the worker's scores of every submission", details=lambda: f"{seen}\n{stack.logs()}")
    progress_path = f"/api/assignments/{world.assignment_id}/progress"
    for learner, score, n in zip(learners, scores, received, strict=True):
        # Every reviewer agreed (scope 3, risks 2): whatever the calibration method, the score lands near 5.
        assert score["value"] == pytest.approx(AGREED, abs=0.5)
        assert score["interval"][0] <= score["value"] <= score["interval"][1] and score["max"] == 8.0
        own = learner.get(progress_path).get_json()["score"]
        assert own == ({**score, "released": True} if n >= 2 else {"released": False})
    events = world.staff.get(f"/api/courses/{world.course_id}/audit").get_json()["events"]
    assert any(e["action"] == "scores.recalibrated" for e in events)

    released = world.staff.post(f"/api/assignments/{world.assignment_id}/release")
    assert released.status_code == 200 and released.get_json()["released_at"]
    for learner, submission_id in zip(learners, submission_ids, strict=True):
        record = learner.get(f"/api/courses/{world.course_id}/learners/{learner.id}/record")
        assert record.status_code == 200, record.get_json()
        (project,) = record.get_json()["projects"]
        assert project["assignment_id"] == world.assignment_id and project["submission_id"] == submission_id
        assert project["score"]["value"] == pytest.approx(AGREED, abs=0.5) and project["score"]["released"] is True
        assert project["attempts"] == 1

    # An exact copy of learner 0's work by another learner: the worker's check_similarity opens a case.
    copy = world.submit(late, text=essay(0))
    assert copy.status_code == 201, copy.get_json()
    copy_id = copy.get_json()["id"]
    original_id = submission_ids[0]

    def similarity_case() -> dict[str, Any] | None:
        cases = world.mentor.get(f"/api/courses/{world.course_id}/escalations?status=open").get_json()["cases"]
        return next((c for c in cases if c["kind"] == "similarity" and c["submission_id"] == copy_id), None)

    case = wait_for(similarity_case, 60, "a similarity case for the copied submission", details=stack.logs)
    assert set(case["subject"]["ids"]) == {original_id, copy_id}
    assert case["status"] == "open"

    healthy = client.get("/healthz")
    assert healthy.status_code == 200, healthy.get_json()
    assert healthy.get_json()["checks"] == {"database": "ok", "background": "ok"}

    worker.stop()
    assert not worker.alive()
    unhealthy = client.get("/healthz")
    assert unhealthy.status_code == 503, unhealthy.get_json()
    body = unhealthy.get_json()["error"]
    assert body["code"] == "unavailable"
    assert body["details"]["checks"]["database"] == "ok" and body["details"]["checks"]["background"] != "ok"
