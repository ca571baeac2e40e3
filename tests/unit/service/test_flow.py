"""The whole flow through the API on SQLite: submit, claim, review, score, release, record."""

from __future__ import annotations

from tests.conftest import World, essay


def test_submit_claim_review_score_release(world: World) -> None:
    learners = world.learners
    for i, learner in enumerate(learners):
        r = world.submit(learner, n=i)
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["attempt"] == 1
    for learner in learners:
        for _ in range(2):
            claim = world.claim(learner)
            assert claim.status_code == 201, claim.get_json()
            body = claim.get_json()
            assert set(body) == {"claim_id", "expires_at", "rubric", "item"}
            assert set(body["item"]) == {"text", "files"}
            assert world.review(learner, body["claim_id"]).status_code == 201
    progress = learners[0].get(f"/api/assignments/{world.assignment_id}/progress").get_json()
    assert progress["reviews_given"] == 2 and progress["reviews_owed"] == 0
    score = progress["score"]
    assert score["released"] is True
    assert score["method"] == "calibrated"  # no staff samples: the model, with biases relative to the average reviewer
    # Every grade was 5: a small assignment's sampler puts the score there, to its Monte Carlo error.
    assert abs(score["value"] - 5.0) < 0.05
    assert score["interval"][0] <= score["value"] <= score["interval"][1]
    assert score["max"] == 8.0
    record = learners[0].get(f"/api/courses/{world.course_id}/learners/{learners[0].id}/record").get_json()
    assert record["projects"][0]["score"]["value"] == score["value"]
    assert record["projects"][0]["attempts"] == 1


def test_score_hidden_until_release(world: World) -> None:
    a, b, c = world.learners[:3]
    for i, learner in enumerate((a, b, c)):
        assert world.submit(learner, n=i).status_code == 201
    # b and c review everything they can; a gives nothing, so a's score stays hidden from a.
    for learner in (b, c):
        for _ in range(2):
            assert world.review(learner, world.claim(learner).get_json()["claim_id"]).status_code == 201
    own = a.get(f"/api/assignments/{world.assignment_id}/progress").get_json()
    assert own["score"] == {"released": False}
    submission_id = own["submission"]["id"]
    assert a.get(f"/api/submissions/{submission_id}/reviews").get_json() == {"released": False, "reviews": []}
    staff_view = world.staff.get(f"/api/submissions/{submission_id}").get_json()["score"]
    assert staff_view["released"] is False and staff_view["value"] is not None
    assert world.staff.post(f"/api/assignments/{world.assignment_id}/release").status_code == 200
    released = a.get(f"/api/submissions/{submission_id}/reviews").get_json()
    assert released["released"] is True and len(released["reviews"]) == 2
    assert all("reviewer_id" not in r for r in released["reviews"])
    assert a.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["score"]["released"] is True


def test_new_attempt_replaces_old_and_cancels_claims(world: World) -> None:
    a, b = world.learners[:2]
    assert world.submit(a, n=0).status_code == 201
    assert world.submit(b, n=1).status_code == 201
    claimed = world.claim(b)
    assert claimed.status_code == 201, claimed.get_json()
    claim = claimed.get_json()
    second = world.submit(a, text=essay(7))
    assert second.status_code == 201 and second.get_json()["attempt"] == 2
    late = world.review(b, claim["claim_id"])
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "claim_expired"
    progress = a.get(f"/api/assignments/{world.assignment_id}/progress").get_json()
    assert progress["attempts"] == 2 and progress["score"] is None
    third = world.submit(a, text=essay(9))
    assert third.status_code == 409 and third.get_json()["error"]["code"] == "attempts_exhausted"


def test_csv_export_and_audit(world: World) -> None:
    world.submit_and_review()
    csv = world.staff.get(f"/api/assignments/{world.assignment_id}/scores.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("learner_id,email,name,submission_id,attempt")
    assert len(lines) == 1 + len(world.learners)
    events = world.staff.get(f"/api/courses/{world.course_id}/audit").get_json()["events"]
    actions = {e["action"] for e in events}
    assert {"member.role_set", "assignment.created", "scores.recalibrated"} <= actions
