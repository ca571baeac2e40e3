"""The rules of cases: appeals, who may act, plagiarism blocking attempts until reopened, the author's answer, and
released scores staying released."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from reviews.submissions.pages import SUBMIT_FORM
from tests.conftest import World, essay, make_user
from tests.unit.scoring.pages_helpers import HTML, page_client, post_form

MESSAGE = "The reviewer ignored my risks section."


def scored(world: World) -> dict[str, Any]:
    """Every learner submits and gives two reviews: learner 0's work has its two reviews and a released score."""
    world.submit_and_review()
    author = world.learners[0]
    work = author.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    reviews = author.get(f"/api/submissions/{work}/reviews").get_json()["reviews"]
    return {"work": work, "reviews": [r["id"] for r in reviews]}


def report(caller: Any, work: str, **body: Any) -> Any:
    return caller.post(f"/api/submissions/{work}/reports", json={"kind": "unfair_review", "message": MESSAGE, **body})


def other_staff(world: World) -> Any:
    person = make_user(world.app, world.client, "otherstaff@example.org", "Other Staff")
    assert (
        world.admin.post(f"/api/courses/{world.other_course_id}/members", json={"user_id": person.id, "role": "staff"}).status_code == 201
    )
    return person


def second_mentor(world: World) -> Any:
    person = make_user(world.app, world.client, "mentor2@example.org", "Second Mentor")
    assert world.staff.post(f"/api/courses/{world.course_id}/members", json={"user_id": person.id, "role": "mentor"}).status_code == 201
    return person


def send_form(world: World, caller: Any, page: str, action: str, form_id: str, fields: dict[str, Any]) -> str:
    """Send a page's form as the caller's browser and read the page it goes back to."""
    browser = page_client(world.app, caller.id)
    r = post_form(browser, page, action, form_id, fields)
    assert r.status_code == 303, r.status_code
    return browser.get(r.headers["Location"], headers=HTML).get_data(as_text=True)


def error(r: Any) -> tuple[int, str, str]:
    body = r.get_json()["error"]
    return r.status_code, body["code"], body["message"]


# --- appeals -------------------------------------------------------------------------------------------------


def test_one_open_appeal_per_review_per_learner(world: World) -> None:
    ids = scored(world)
    author, review = world.learners[0], ids["reviews"][0]
    first = report(author, ids["work"], review_id=review)
    assert first.status_code == 201
    again = report(author, ids["work"], review_id=review, message="Still unfair: the risks section is there.")
    assert again.status_code == 200 and again.get_json()["case_id"] == first.get_json()["case_id"]
    other_review = report(author, ids["work"], review_id=ids["reviews"][1])
    assert other_review.status_code == 201 and other_review.get_json()["case_id"] != first.get_json()["case_id"]
    by_criterion = report(author, ids["work"], criterion_key="scope")
    assert by_criterion.status_code == 201
    assert report(author, ids["work"], criterion_key="scope").get_json()["case_id"] == by_criterion.get_json()["case_id"]
    assert report(author, ids["work"], criterion_key="scope").status_code == 200
    cases = world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"]
    assert len([c for c in cases if c["kind"] == "unfair_review"]) == 3
    (criterion_case,) = [c for c in cases if c["id"] == by_criterion.get_json()["case_id"]]
    assert criterion_case["criterion_key"] == "scope"
    # Once decided, the same review may be appealed again: a new case.
    case_id = first.get_json()["case_id"]
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    assert world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Fair review."}).status_code == 200
    later = report(author, ids["work"], review_id=review)
    assert later.status_code == 201 and later.get_json()["case_id"] != case_id


def test_an_appeal_needs_real_words_and_a_review_or_criterion(world: World) -> None:
    ids = scored(world)
    author, review = world.learners[0], ids["reviews"][0]
    for message, reason in [("", "blank"), ("....", "punctuation_only"), ("ok", "filler"), ("unfair unfair unfair", "repeated_word")]:
        r = report(author, ids["work"], review_id=review, message=message)
        status, code, sentence = error(r)
        assert (status, code) == (422, "message_rejected"), message
        assert r.get_json()["error"]["details"]["reasons"][0]["code"] == reason
        assert "message" in r.get_json()["error"]["details"]["fields"] and sentence.endswith(".")
    status, code, sentence = error(report(author, ids["work"]))
    assert (status, code) == (422, "invalid_request") and "which review or which criterion" in sentence
    r = report(author, ids["work"], criterion_key="style")
    assert r.status_code == 422 and "scope, risks" in r.get_json()["error"]["details"]["fields"]["criterion_key"][0]
    assert world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"] == []


def test_the_appeal_form_keeps_the_message_and_says_what_to_write(world: World) -> None:
    ids = scored(world)
    back = f"/assignments/{world.assignment_id}"
    page = send_form(
        world, world.learners[0], back, f"/submissions/{ids['work']}/appeal", "appeal", {"review_id": ids["reviews"][0], "message": "ok"}
    )
    assert "says nothing specific" in page
    assert world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"] == []


# --- who may act ---------------------------------------------------------------------------------------------


def test_nobody_acts_on_a_case_they_opened(world: World) -> None:
    ids = scored(world)
    opened = world.mentor.post(f"/api/submissions/{ids['work']}/reports", json={"kind": "other", "message": "Please check the scope."})
    case_id = opened.get_json()["case_id"]
    status, code, sentence = error(world.mentor.post(f"/api/escalations/{case_id}/claim"))
    assert (status, code) == (403, "forbidden") and "You opened this case" in sentence
    mentor2 = second_mentor(world)
    assert mentor2.post(f"/api/escalations/{case_id}/claim").status_code == 200
    assert mentor2.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Fine."}).status_code == 200


def test_nobody_acts_on_their_own_work_or_reviews(world: World) -> None:
    """A member whose own work or review a case concerns is refused, whatever their role (the rule in services)."""
    from reviews.accounts.models import User
    from reviews.allocation.models import Review
    from reviews.kernel.db import db
    from reviews.moderation import rules
    from reviews.moderation.models import Case

    ids = scored(world)
    case_id = report(world.learners[0], ids["work"], review_id=ids["reviews"][0]).get_json()["case_id"]
    with world.app.app_context():
        case = db.session.get_one(Case, case_id)
        reviewer_id = db.session.get_one(Review, ids["reviews"][0]).reviewer_id
        bystander = world.learners[4].id if reviewer_id != world.learners[4].id else world.learners[3].id
        assert "your own work" in (rules.own_stake(db.session, Case(**_like(case, opened_by_id=None)), world.learners[0].id) or "")
        assert "a review you wrote" in (rules.own_stake(db.session, Case(**_like(case, opened_by_id=None)), reviewer_id) or "")
        assert rules.own_stake(db.session, case, world.mentor.id) is None
        assert rules.own_stake(db.session, Case(**_like(case, opened_by_id=None)), bystander) is None
        about_reviewer = Case(
            **_like(case, opened_by_id=None, subject_type="reviewer", subject_ids=[bystander], submission_id=None, evidence={})
        )
        assert "about you" in (rules.own_stake(db.session, about_reviewer, bystander) or "")
        assert db.session.scalar(select(User.id).where(User.id == bystander))


def _like(case: Any, **changes: Any) -> dict[str, Any]:
    fields = ("course_id", "assignment_id", "kind", "subject_type", "subject_ids", "submission_id", "opened_by_id", "evidence")
    return {name: getattr(case, name) for name in fields} | changes


def test_only_staff_settle_a_case_waiting_for_staff(world: World) -> None:
    ids = scored(world)
    case_id = report(world.learners[0], ids["work"], review_id=ids["reviews"][0]).get_json()["case_id"]
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    r = world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "request_staff_review", "note": "Needs staff."})
    assert r.status_code == 200 and r.get_json()["status"] == "staff_review"
    status, code, sentence = error(
        world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Never mind."})
    )
    assert (status, code) == (403, "forbidden") and "only a staff member" in sentence
    assert world.mentor.get(f"/api/escalations/{case_id}").get_json()["status"] == "staff_review"
    assert world.staff.post(f"/api/escalations/{case_id}/takeover").status_code == 200
    assert world.staff.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Fair."}).status_code == 200


# --- plagiarism blocks attempts -----------------------------------------------------------------------------


def test_plagiarism_blocks_attempts_until_staff_reopen(world: World) -> None:
    ids = scored(world)
    author = world.learners[0]
    case_id = report(author, ids["work"], kind="other").get_json()["case_id"]
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    r = world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "mark_plagiarism", "note": "Copied from a blog."})
    assert r.status_code == 200
    status, code, sentence = error(world.submit(author, n=9))
    assert (status, code) == (409, "attempts_blocked") and "marked as plagiarism" in sentence and "answer it" in sentence
    assert world.submit(world.learners[1], text=essay(11)).status_code == 201, "only the author is blocked"
    # Who may reopen: staff of the course only.
    for caller, expected in [(world.mentor, 403), (author, 403), (world.learners[2], 404), (other_staff(world), 404)]:
        assert world.submit(author, n=9).status_code == 409
        assert caller.post(f"/api/escalations/{case_id}/reopen", json={}).status_code == expected, caller.email
    world.client.post("/api/auth/sign-out")
    assert world.client.post(f"/api/escalations/{case_id}/reopen", json={}).status_code == 401
    reopened = world.staff.post(f"/api/escalations/{case_id}/reopen", json={"note": "The blog copied the learner."})
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "open" and reopened.get_json()["outcome"] is None
    assert reopened.get_json()["evidence"]["earlier_outcomes"][0]["action"] == "mark_plagiarism"
    assert world.learners[0].get(f"/api/submissions/{ids['work']}").get_json()["status"] == "active"
    events = world.staff.get(f"/api/courses/{world.course_id}/audit").get_json()
    assert any(e["action"] == "case.reopened" for e in events.get("events", events if isinstance(events, list) else []))
    again = world.staff.post(f"/api/escalations/{case_id}/reopen", json={})
    assert error(again)[:2] == (409, "not_decided")
    assert world.submit(author, n=9).status_code == 201


def test_a_blocked_author_sees_why_on_the_assignment_page(world: World) -> None:
    ids = scored(world)
    author = world.learners[0]
    case_id = report(author, ids["work"], kind="other").get_json()["case_id"]
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    assert world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "mark_plagiarism"}).status_code == 200
    back = f"/assignments/{world.assignment_id}"
    page = send_form(world, author, back, f"{back}/submit", SUBMIT_FORM, {"text": essay(9), "confirm": "1"})
    assert "marked as plagiarism" in page and "answer it" in page


# --- the author of the work: a reduced view and an answer -----------------------------------------------------


def reported_by_a_reviewer(world: World) -> tuple[str, Any, Any]:
    """Learner 1 claims a piece of work and reports it as copied: (case id, the work's author, the reporter)."""
    for i, learner in enumerate(world.learners[:3]):
        assert world.submit(learner, n=i).status_code == 201
    reporter = world.learners[1]
    claim = world.claim(reporter).get_json()
    r = reporter.post(f"/api/review-claims/{claim['claim_id']}/reports", json={"kind": "plagiarism", "message": "This copies a textbook."})
    assert r.status_code == 201, r.get_json()
    case_id = r.get_json()["case_id"]
    submission_id = world.mentor.get(f"/api/escalations/{case_id}").get_json()["submission_id"]
    (author,) = [x for x in world.learners if x.get(f"/api/submissions/{submission_id}").status_code == 200 and x is not world.learners[1]]
    return case_id, author, reporter


def test_the_author_sees_a_reduced_view_and_answers(world: World) -> None:
    case_id, author, reporter = reported_by_a_reviewer(world)
    view = author.get(f"/api/escalations/{case_id}").get_json()
    assert set(view) == {"id", "kind", "status", "created_at", "outcome", "asked"}
    assert view["kind"] == "plagiarism" and "how you wrote it" in view["asked"]
    body = author.get(f"/api/escalations/{case_id}").get_data(as_text=True)
    assert "textbook" not in body and reporter.id not in body
    # Who may answer: the author only.
    for caller, expected in [(reporter, 403), (world.mentor, 403), (world.staff, 403), (world.learners[2], 404), (world.outsider, 404)]:
        r = caller.post(f"/api/escalations/{case_id}/responses", json={"message": "I wrote all of it myself."})
        assert r.status_code == expected, caller.email
    assert error(author.post(f"/api/escalations/{case_id}/responses", json={"message": "ok"}))[:2] == (422, "message_rejected")
    r = author.post(f"/api/escalations/{case_id}/responses", json={"message": "I wrote it myself; my drafts date from March."})
    assert r.status_code == 201 and r.get_json()["case_id"] == case_id
    mentor_view = world.mentor.get(f"/api/escalations/{case_id}").get_json()
    assert [x["message"] for x in mentor_view["responses"]] == ["I wrote it myself; my drafts date from March."]
    assert mentor_view["responses"][0]["by"] == author.id
    assert author.get(f"/api/escalations/{case_id}").get_json()["responses"][0]["message"].startswith("I wrote it myself")
    assert "responses" not in reporter.get(f"/api/escalations/{case_id}").get_json(), "the reporter never reads the author's answer"
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    assert world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Original."}).status_code == 200
    late = author.post(f"/api/escalations/{case_id}/responses", json={"message": "One more thing about my drafts."})
    assert error(late)[:2] == (409, "case_resolved")


def test_the_author_answers_on_the_case_page(world: World) -> None:
    case_id, author, reporter = reported_by_a_reviewer(world)
    case_page = f"/escalations/{case_id}"
    page = page_client(world.app, author.id).get(case_page, headers=HTML).get_data(as_text=True)
    assert "A case about your work" in page and "how you wrote it" in page and "textbook" not in page
    assert 'id="respond-message"' in page and '<label for="respond-message">' in page
    page = send_form(world, author, case_page, f"{case_page}/responses", "respond", {"message": "..."})
    assert "only dots" in page and 'id="respond-message-error"' in page
    page = send_form(world, author, case_page, f"{case_page}/responses", "respond", {"message": "My drafts show how I wrote it."})
    assert "Your answer was added" in page and "My drafts show how I wrote it." in page
    assert world.mentor.get(f"/api/escalations/{case_id}").get_json()["responses"][0]["message"] == "My drafts show how I wrote it."
    mentor_page = page_client(world.app, world.mentor.id).get(case_page, headers=HTML).get_data(as_text=True)
    assert 'id="case-responses"' in mentor_page and "My drafts show how I wrote it." in mentor_page
    assert "respond-message" not in page_client(world.app, reporter.id).get(case_page, headers=HTML).get_data(as_text=True)


# --- released scores stay released ----------------------------------------------------------------------------


def test_a_discounted_review_leaves_a_released_score_released_and_queues_an_extra_review(world: World) -> None:
    ids = scored(world)
    author = world.learners[0]
    before = author.get(f"/api/submissions/{ids['work']}").get_json()["score"]
    required = 2  # the world's reviews_required
    assert before["released"] is True and before["reviews"] >= required
    # Appeals that win: reviews are discounted until one fewer than required is left.
    for review_id in ids["reviews"][: before["reviews"] - required + 1]:
        case_id = report(author, ids["work"], review_id=review_id).get_json()["case_id"]
        assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
        r = world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "discount_review", "review_id": review_id})
        assert r.status_code == 200
    after = author.get(f"/api/submissions/{ids['work']}").get_json()["score"]
    assert after["released"] is True and after["reviews"] == required - 1 and after["value"] is not None
    assert after["interval"][1] - after["interval"][0] > before["interval"][1] - before["interval"][0]
    assert "fewer reviews than required" in after["note"]
    assert author.get(f"/api/submissions/{ids['work']}/reviews").get_json()["released"] is True
    progress = author.get(f"/api/assignments/{world.assignment_id}/progress").get_json()
    assert progress["score"]["released"] is True and progress["score"]["value"] is not None
    # The extra review: a newcomer's first claim is the work that lost its review, ahead of everything else.
    newcomer = make_user(world.app, world.client, "late@example.org", "Late Learner")
    assert world.staff.post(f"/api/courses/{world.course_id}/members", json={"user_id": newcomer.id, "role": "learner"}).status_code == 201
    assert world.submit(newcomer, n=12).status_code == 201
    claim = world.claim(newcomer).get_json()
    assert claim["item"]["text"] == essay(0)
    assert world.review(newcomer, claim["claim_id"]).status_code == 201
    healed = author.get(f"/api/submissions/{ids['work']}").get_json()["score"]
    assert healed["released"] is True and healed["reviews"] == required and "note" not in healed
    # Pages: the learner's assignment page and record still show the score.
    browser = page_client(world.app, author.id)
    assignment_page = browser.get(f"/assignments/{world.assignment_id}", headers=HTML).get_data(as_text=True)
    record_page = browser.get(f"/records/{world.course_id}/{author.id}", headers=HTML).get_data(as_text=True)
    for page in (assignment_page, record_page):
        assert "not released" not in page.lower()
