"""Cases: reports and appeals open them; mentors claim and resolve them with each action and its effect."""

from __future__ import annotations

from typing import Any

from tests.conftest import World


def scored_world(world: World) -> dict[str, Any]:
    """Every learner submits and gives two reviews; returns learner 0's submission id and one review id."""
    world.submit_and_review()
    author = world.learners[0]
    submission_id = author.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    reviews = author.get(f"/api/submissions/{submission_id}/reviews").get_json()["reviews"]
    return {"submission_id": submission_id, "review_id": reviews[0]["id"]}


def appeal(world: World, submission_id: str, **extra: Any) -> str:
    # An appeal names a review or a criterion (rules.check_appeal).
    body = {"kind": "unfair_review", "message": "The reviewer ignored my risks section.", "criterion_key": "risks", **extra}
    r = world.learners[0].post(f"/api/submissions/{submission_id}/reports", json=body)
    assert r.status_code == 201
    return str(r.get_json()["case_id"])


def claim_and_resolve(world: World, case_id: str, body: dict[str, Any], mentor: Any = None) -> Any:
    mentor = mentor or world.mentor
    assert mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    return mentor.post(f"/api/escalations/{case_id}/resolve", json=body)


def test_queue_most_urgent_first_and_reporter_view(world: World) -> None:
    ids = scored_world(world)
    low = appeal(world, ids["submission_id"], kind="other")
    high = appeal(world, ids["submission_id"], kind="plagiarism")
    cases = world.mentor.get(f"/api/courses/{world.course_id}/escalations?status=open").get_json()["cases"]
    assert [c["id"] for c in cases][:2] == [high, low]
    assert cases[0]["evidence"]["reported_by"] == world.learners[0].id
    own = world.learners[0].get(f"/api/escalations/{high}").get_json()
    assert set(own) == {"id", "kind", "status", "created_at", "outcome"}
    assert claim_and_resolve(world, high, {"action": "dismiss", "note": "Original work."}).status_code == 200
    own = world.learners[0].get(f"/api/escalations/{high}").get_json()
    assert own["status"] == "resolved" and own["outcome"]["action"] == "dismiss" and "by" not in own["outcome"]


def test_only_the_claimant_resolves(world: World) -> None:
    ids = scored_world(world)
    case_id = appeal(world, ids["submission_id"])
    r = world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss"})
    assert r.status_code == 403
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    assert world.staff.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss"}).status_code == 403
    assert world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss"}).status_code == 200
    again = world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"


def test_override_score(world: World) -> None:
    ids = scored_world(world)
    case_id = appeal(world, ids["submission_id"])
    bad = claim_and_resolve(world, case_id, {"action": "override_score", "score": 99})
    assert bad.status_code == 422
    assert (
        world.mentor.post(
            f"/api/escalations/{case_id}/resolve", json={"action": "override_score", "score": 7.5, "note": "Fair."}
        ).status_code
        == 200
    )
    score = world.learners[0].get(f"/api/submissions/{ids['submission_id']}").get_json()["score"]
    assert score["value"] == 7.5 and score["method"] == "override"
    events = world.staff.get(f"/api/courses/{world.course_id}/audit").get_json()["events"]
    assert any(e["action"] == "score.overridden" and e["data"]["value"] == 7.5 for e in events)


def test_mark_plagiarism_cancels_and_removes_from_queues(world: World) -> None:
    ids = scored_world(world)
    case_id = appeal(world, ids["submission_id"], kind="plagiarism")
    assert claim_and_resolve(world, case_id, {"action": "mark_plagiarism", "note": "Copied."}).status_code == 200
    submission = world.learners[0].get(f"/api/submissions/{ids['submission_id']}").get_json()
    assert submission["status"] == "cancelled" and submission["score"]["value"] == 0.0
    assert "plagiarism" in submission["cancelled_reason"]
    # Nobody is served the cancelled work again: each other learner claims (and reviews) until nothing is left.
    cancelled_text = submission["text"]
    served = []
    for learner in world.learners[1:]:
        for _ in range(10):
            r = world.claim(learner)
            if r.status_code != 201:
                assert r.status_code == 404 and r.get_json()["error"]["code"] == "nothing_to_review", r.get_json()
                break
            served.append(r.get_json()["item"]["text"])
            assert world.review(learner, r.get_json()["claim_id"]).status_code == 201
    assert served, "the other learners were offered more work to review"
    assert cancelled_text not in served


def test_discount_review_recalibrates(world: World) -> None:
    ids = scored_world(world)
    before = world.staff.get(f"/api/submissions/{ids['submission_id']}/reviews").get_json()["reviews"]
    case_id = appeal(world, ids["submission_id"], review_id=ids["review_id"])
    assert claim_and_resolve(world, case_id, {"action": "discount_review", "review_id": ids["review_id"]}).status_code == 200
    after = world.staff.get(f"/api/submissions/{ids['submission_id']}/reviews").get_json()["reviews"]
    (discounted,) = [r for r in after if r["id"] == ids["review_id"]]
    assert discounted["discounted"] is True and discounted["weight"] == 0.0
    score = world.staff.get(f"/api/submissions/{ids['submission_id']}").get_json()["score"]
    assert score["reviews"] == len(before) - 1


def test_request_staff_review_then_staff_grade(world: World) -> None:
    ids = scored_world(world)
    case_id = appeal(world, ids["submission_id"])
    assert claim_and_resolve(world, case_id, {"action": "request_staff_review", "note": "Needs an expert."}).status_code == 200
    case = world.mentor.get(f"/api/escalations/{case_id}").get_json()
    assert case["status"] == "staff_review"
    r = world.staff.post(
        f"/api/submissions/{ids['submission_id']}/staff-grade", json={"scores": {"scope": 4, "risks": 1}, "note": "Graded."}
    )
    assert r.status_code == 201
    case = world.mentor.get(f"/api/escalations/{case_id}").get_json()
    assert case["status"] == "resolved" and case["outcome"]["action"] == "staff_grade"
    score = world.learners[0].get(f"/api/submissions/{ids['submission_id']}").get_json()["score"]
    assert score["value"] == 5.0 and score["method"] == "staff" and score["interval"] == [5.0, 5.0]


def test_reviewer_reports_claimed_item(world: World) -> None:
    a, b = world.learners[:2]
    assert world.submit(a, n=0).status_code == 201
    assert world.submit(b, n=1).status_code == 201
    claimed = world.claim(b)
    assert claimed.status_code == 201, claimed.get_json()
    claim = claimed.get_json()
    r = b.post(f"/api/review-claims/{claim['claim_id']}/reports", json={"kind": "plagiarism", "message": "This is my own text."})
    assert r.status_code == 201
    case = world.mentor.get(f"/api/escalations/{r.get_json()['case_id']}").get_json()
    assert case["kind"] == "plagiarism" and case["evidence"]["claim_id"] == claim["claim_id"]
    assert b.get(f"/api/escalations/{case['id']}").get_json()["status"] == "open"


def test_exact_duplicate_opens_similarity_case_with_provenance(world: World) -> None:
    a, b = world.learners[:2]
    original = "My own careful plan: " + "a weekly repair cafe in the school hall with volunteers and posters. " * 3
    assert world.submit(a, text=original).status_code == 201
    assert world.submit(b, n=1).status_code == 201
    claim = world.claim(b).get_json()
    assert claim["item"]["text"] == original
    copy = original.upper().replace(".", " .  ")
    r = world.submit(b, text=copy)
    assert r.status_code == 201
    cases = world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"]
    similar = [c for c in cases if c["kind"] == "similarity"]
    assert len(similar) == 1
    evidence = similar[0]["evidence"]
    assert evidence["provenance"]["shown_before_submitting"] is True
    assert evidence["later"]["submission_id"] == r.get_json()["id"]
    # Running the check again opens nothing new.
    from reviews.integrity.services import check_submission
    from reviews.kernel.db import db

    with world.app.app_context():
        assert check_submission(db.session, r.get_json()["id"]) == 0


def test_case_page_admits_whom_the_case_api_admits(world: World) -> None:
    """One visibility rule for the API and the page: the reporter reads their case's progress, a mentor the
    whole case, another learner neither."""
    ids = scored_world(world)
    case_id = appeal(world, ids["submission_id"])
    reporter, other = world.learners[0], world.learners[1]
    for caller, api_status in ((reporter, 200), (world.mentor, 200), (other, 404)):
        api = caller.get(f"/api/escalations/{case_id}")
        page = caller.get(f"/escalations/{case_id}")
        assert (api.status_code, page.status_code) == (api_status, api_status), caller.email
    reporter_page = reporter.get(f"/escalations/{case_id}").get_data(as_text=True)
    assert "Your report" in reporter_page and "waiting for a mentor" in reporter_page
    assert "Claim" not in reporter_page and world.learners[0].email not in reporter_page
    mentor_page = world.mentor.get(f"/escalations/{case_id}").get_data(as_text=True)
    assert "The reviewer ignored my risks section." in mentor_page
