"""The inbox: what the escalation queue tells whom, that nobody reads another's, and the page with its count."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from reviews.accounts.callers import SESSION_KEY
from reviews.accounts.services import start_web_session
from reviews.kernel.db import db
from tests.conftest import World, build_world

HTML = {"Accept": "text/html"}


def inbox(caller: Any) -> list[dict[str, Any]]:
    answer = caller.get("/api/notifications")
    assert answer.status_code == 200
    return list(answer.get_json()["notifications"])


def scored(world: World) -> tuple[str, str]:
    world.submit_and_review()
    author = world.learners[0]
    submission_id = author.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    review_id = author.get(f"/api/submissions/{submission_id}/reviews").get_json()["reviews"][0]["id"]
    return submission_id, review_id


def appeal(world: World, submission_id: str, **extra: Any) -> str:
    if "review_id" not in extra:  # an appeal names the review it is about
        extra["review_id"] = world.learners[0].get(f"/api/submissions/{submission_id}/reviews").get_json()["reviews"][0]["id"]
    body = {"kind": "unfair_review", "message": "The reviewer ignored my risks section entirely.", **extra}
    answer = world.learners[0].post(f"/api/submissions/{submission_id}/reports", json=body)
    assert answer.status_code == 201, answer.get_json()
    return str(answer.get_json()["case_id"])


def settle(world: World, case_id: str, body: dict[str, Any]) -> None:
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    answer = world.mentor.post(f"/api/escalations/{case_id}/resolve", json=body)
    assert answer.status_code == 200, answer.get_json()


def test_appeal_received_and_outcome_reach_only_the_learner(world: World) -> None:
    submission_id, review_id = scored(world)
    case_id = appeal(world, submission_id, review_id=review_id)
    author = world.learners[0]
    [received] = inbox(author)
    assert received["subject"] == "Your appeal was received" and received["read_at"] is None
    assert received["link"] == f"/escalations/{case_id}"
    for other in (world.learners[1], world.mentor, world.staff, world.outsider, world.admin):
        assert inbox(other) == []
    settle(world, case_id, {"action": "dismiss", "note": "The review follows the rubric."})
    outcome = inbox(author)[0]
    assert outcome["subject"] == "The outcome of your appeal"
    assert "made no change" in outcome["body"] and "The review follows the rubric." in outcome["body"]
    assert author.get("/api/notifications").get_json()["unread"] == 2


def test_nobody_marks_or_reads_another_persons_notification(world: World) -> None:
    submission_id, _ = scored(world)
    appeal(world, submission_id)
    [own] = inbox(world.learners[0])
    for other in (world.learners[1], world.mentor, world.staff, world.admin, world.outsider):
        answer = other.post(f"/api/notifications/{own['id']}/read")
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
        assert other.post("/api/notifications/read").get_json() == {"marked": 0}
    assert inbox(world.learners[0])[0]["read_at"] is None
    assert world.client.get("/api/notifications").status_code == 401
    assert world.client.post(f"/api/notifications/{own['id']}/read").status_code == 401
    marked = world.learners[0].post(f"/api/notifications/{own['id']}/read")
    assert marked.status_code == 200 and marked.get_json()["read_at"] is not None
    assert world.learners[0].get("/api/notifications").get_json()["unread"] == 0


def test_released_score_change_plagiarism_and_staff_handover(world: World) -> None:
    submission_id, _ = scored(world)
    assert world.staff.post(f"/api/assignments/{world.assignment_id}/release").status_code == 200
    report = world.mentor.post(f"/api/submissions/{submission_id}/reports", json={"kind": "other", "message": "Please check the total."})
    case_id = report.get_json()["case_id"]
    assert world.staff.post(f"/api/escalations/{case_id}/claim").status_code == 200
    answer = world.staff.post(
        f"/api/escalations/{case_id}/resolve", json={"action": "override_score", "score": 6.5, "note": "Risks were covered."}
    )
    assert answer.status_code == 200
    [changed] = inbox(world.learners[0])
    assert changed["kind"] == "score_changed" and "Risks were covered." in changed["body"]
    assert inbox(world.mentor)[0]["subject"] == "The outcome of your report"

    other_id = world.learners[1].get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    report = world.mentor.post(f"/api/submissions/{other_id}/reports", json={"kind": "plagiarism", "message": "Same as another learner's."})
    copied = report.get_json()["case_id"]
    assert world.staff.post(f"/api/escalations/{copied}/claim").status_code == 200
    world.staff.post(f"/api/escalations/{copied}/resolve", json={"action": "mark_plagiarism", "note": "Copied paragraphs."})
    [marked] = inbox(world.learners[1])
    assert marked["kind"] == "work_marked_copied" and "Copied paragraphs." in marked["body"] and "answer" in marked["body"]

    third = world.learners[2].get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    asked = world.learners[2].post(f"/api/submissions/{third}/reports", json={"kind": "other", "message": "Please look at my score."})
    case3 = asked.get_json()["case_id"]
    settle_body = {"action": "request_staff_review", "note": "Needs a staff grade."}
    assert world.mentor.post(f"/api/escalations/{case3}/claim").status_code == 200
    assert world.mentor.post(f"/api/escalations/{case3}/resolve", json=settle_body).status_code == 200
    staff_notes = [n for n in inbox(world.staff) if n["kind"] == "case_for_staff"]
    assert len(staff_notes) == 1 and staff_notes[0]["link"] == f"/escalations/{case3}"
    assert not [n for n in inbox(world.mentor) if n["kind"] == "case_for_staff"]
    assert not [n for n in inbox(world.learners[2]) if n["kind"] == "case_for_staff"]


def test_no_notification_reveals_a_reviewer_or_a_staff_sample(app: Flask, client: Any) -> None:
    world = build_world(app, client, n_learners=4, calibration_share=0.5, reviews_required=2, reviews_to_give=4)
    sample_text = "A community garden with a clear scope, named risks and dated milestones for the whole season."
    assert (
        world.staff.post(
            f"/api/assignments/{world.assignment_id}/calibration-samples", json={"text": sample_text, "scores": {"scope": 4, "risks": 3}}
        ).status_code
        == 201
    )
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    reported: dict[str, dict[str, Any]] = {}
    for learner in world.learners:
        for _ in range(4):
            claim = world.claim(learner).get_json()
            kind = "sample" if claim["item"]["text"] == sample_text else "peer"
            if kind not in reported:
                answer = learner.post(
                    f"/api/review-claims/{claim['claim_id']}/reports", json={"kind": "junk", "message": "It looks like junk."}
                )
                assert answer.status_code == 201
                case_id = answer.get_json()["case_id"]
                settle(world, case_id, {"action": "dismiss", "note": ""})
                reported[kind] = {"learner": learner, "case": case_id}
            assert world.review(learner, claim["claim_id"]).status_code == 201
    assert set(reported) == {"sample", "peer"}

    def texts(entry: dict[str, Any]) -> list[tuple[str, str, str]]:
        notes = [n for n in inbox(entry["learner"]) if n["link"] == f"/escalations/{entry['case']}"]
        return [(n["kind"], n["subject"], n["body"]) for n in notes]

    assert texts(reported["sample"]) == texts(reported["peer"]) and len(texts(reported["peer"])) == 2
    # An appeal won by discounting a review: the author hears it without learning who wrote the review.
    author = world.learners[0]
    submission_id = author.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    assert world.staff.post(f"/api/assignments/{world.assignment_id}/release").status_code == 200
    review_id = author.get(f"/api/submissions/{submission_id}/reviews").get_json()["reviews"][0]["id"]
    case_id = author.post(
        f"/api/submissions/{submission_id}/reports",
        json={"kind": "unfair_review", "message": "This review ignored my risks.", "review_id": review_id},
    ).get_json()["case_id"]
    settle(world, case_id, {"action": "discount_review", "review_id": review_id, "note": "Set aside."})
    raw = author.get("/api/notifications").get_data(as_text=True)
    everyone = [*world.learners, world.staff, world.mentor]
    for person in everyone:
        assert person.id not in raw and person.email not in raw
    with app.app_context():
        from reviews.accounts.models import User

        names = [u.name for u in db.session.query(User).all() if u.id != author.id]
    assert not any(name in raw for name in names)
    assert review_id not in raw and "sample" not in raw.lower() and "calibration" not in raw.lower()
    assert "set one of the reviews" in raw or "set the review aside" in raw


def _browser(app: Flask, user_id: str) -> Any:
    browser = app.test_client()
    with app.app_context():
        secret = start_web_session(db.session, user_id, None, hours=1)
        db.session.commit()
    with browser.session_transaction() as session:
        session[SESSION_KEY] = secret
        session["csrf"] = "page-token"
    return browser


def test_inbox_page_count_and_mark_read(world: World) -> None:
    submission_id, _ = scored(world)
    appeal(world, submission_id)
    author = _browser(world.app, world.learners[0].id)
    page = author.get("/inbox", headers=HTML).get_data(as_text=True)
    assert re.search(r"Inbox \(1<span", page) and "Your appeal was received" in page and 'class="reflow"' in page
    own_id = inbox(world.learners[0])[0]["id"]
    other = _browser(world.app, world.learners[1].id)
    assert "Your appeal was received" not in other.get("/inbox", headers=HTML).get_data(as_text=True)
    form = {"csrf": "page-token", "form_id": "read", "back": "/inbox"}
    assert other.post(f"/inbox/{own_id}/read", data=form, headers=HTML).status_code == 404
    assert inbox(world.learners[0])[0]["read_at"] is None
    done = author.post(f"/inbox/{own_id}/read", data={**form, "open": "1"}, headers=HTML)
    assert done.status_code == 303 and done.headers["Location"].startswith("/escalations/")
    page = author.get("/inbox", headers=HTML).get_data(as_text=True)
    assert re.search(r"Inbox \(0<span", page) and "Mark as read" not in page
    signed_out = world.app.test_client().get("/inbox", headers=HTML)
    assert signed_out.status_code in (302, 303, 401)
