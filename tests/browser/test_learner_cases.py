"""The learner's side of a case, by clicking only: they appeal a review from the assignment page, a mentor decides
it, the learner hears the outcome in the inbox, reads it with the note on the case page and contests it once; a
second contest (from another tab) is refused with its reason. At a phone's width nothing scrolls sideways."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.checks import horizontal_overflow
from tests.browser.conftest import PHONE, Live
from tests.browser.test_pages import REVIEWER_POINTS, Person, new_person, sign_in, wait_until
from tests.conftest import ASSIGNMENT, essay

pytestmark = pytest.mark.browser

WHY_UNFAIR = "This review ignored my whole risks section and the backup plan."
NOTE = "The review read the risks section; its points match the rubric."
CONTEST = "The mentor did not look at the backup plan in my risks section."


@dataclass
class Course:
    id: str
    assignment_id: str
    title: str
    mentor: Person
    learner: Person


@pytest.fixture(scope="module")
def course(live: Live) -> Course:
    """Five learners submit and review each other twice; learner 0's score is released (nothing is appealed yet)."""
    admin = live.admin_token
    staff = new_person(live, "staff@cases.test", "Sam Staff")
    mentor = new_person(live, "mentor@cases.test", "Mia Mentor")
    learners = [new_person(live, f"learner{i}@cases.test", f"Learner {i}") for i in range(5)]
    created = live.post("/api/courses", admin, {"title": "Appeals 101"}, expect=201)
    live.post(f"/api/courses/{created['id']}/members", admin, {"user_id": staff.id, "role": "staff"}, expect=201)
    for person, role in [(mentor, "mentor"), *[(p, "learner") for p in learners]]:
        live.post(f"/api/courses/{created['id']}/members", staff.token, {"user_id": person.id, "role": role}, expect=201)
    aid = live.post(f"/api/courses/{created['id']}/assignments", staff.token, dict(ASSIGNMENT), expect=201)["id"]
    for i, learner in enumerate(learners):
        live.post(f"/api/assignments/{aid}/submissions", learner.token, {"text": essay(i)}, expect=201)
    for i, learner in enumerate(learners):
        for _ in range(2):
            claim = live.post(f"/api/assignments/{aid}/review-claims", learner.token, expect=201)
            review = {"scores": REVIEWER_POINTS[i], "comments": {"scope": "Clear."}, "overall_comment": "Solid work."}
            live.post(f"/api/review-claims/{claim['claim_id']}/review", learner.token, review, expect=201)

    def released() -> bool:
        events = live.get(f"/api/courses/{created['id']}/audit", staff.token)["events"]
        runs = [e["data"].get("reviews") for e in events if e["action"] == "scores.recalibrated"]
        score = live.get(f"/api/assignments/{aid}/progress", learners[0].token)["score"]
        return 2 * len(learners) in runs and bool(score and score.get("released") and score.get("value") is not None)

    try:
        wait_until(released, 30, "a recalibration over all reviews and learner 0's released score (embedded background work)")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- server log ---\n{live.log_tail()}") from None
    return Course(created["id"], aid, ASSIGNMENT["title"], mentor, learners[0])


def inbox_says(page: Any, unread: int) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#inbox-link")).to_contain_text(f"Inbox ({unread}")


def test_learner_appeals_hears_the_outcome_and_contests_once(
    live: Live, course: Course, new_page: Callable[..., Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    learner, mentor = course.learner, course.mentor
    page = new_page()
    sign_in(page, live, learner)

    # The appeal, from the assignment page: a review chosen by its label, a message in real words.
    page.get_by_role("link", name=course.title).click()
    expect(page).to_have_url(f"{live.base_url}/assignments/{course.assignment_id}")
    page.locator("#appeal summary").click()
    page.get_by_label("What your appeal is about").select_option(label="Review 1")
    page.get_by_label("Why it is unfair").fill(WHY_UNFAIR)
    page.get_by_role("button", name="Appeal").click()
    expect(page.locator(".flash.ok")).to_have_text("Your appeal was sent to a mentor.")
    row = page.locator("#reports tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Appeal of an unfair review: Review 1")
    expect(row).to_contain_text("not decided yet")
    (case,) = live.get(f"/api/courses/{course.id}/escalations", mentor.token)["cases"]
    assert case["kind"] == "unfair_review" and case["message"] == WHY_UNFAIR
    # "Received" is in the inbox; the learner reads it.
    inbox_says(page, 1)
    page.locator("#inbox-link").click()
    page.get_by_role("button", name="Mark as read: Your appeal was received").click()
    inbox_says(page, 0)

    # The mentor decides, by clicking.
    desk = new_page()
    sign_in(desk, live, mentor)
    desk.get_by_role("link", name="Escalation queue").first.click()
    desk.locator(f'#cases tr[data-case-id="{case["id"]}"]').get_by_role("link", name="Open case").click()
    expect(desk).to_have_url(f"{live.base_url}/escalations/{case['id']}")
    expect(desk.locator("body")).to_contain_text(WHY_UNFAIR)
    desk.get_by_role("button", name="Claim this case").click()
    expect(desk.locator("#case-status")).to_have_text("claimed")
    desk.get_by_label("Action").select_option("dismiss")
    desk.get_by_label("Note").fill(NOTE)
    desk.get_by_role("button", name="Resolve").click()
    expect(desk.locator("#case-status")).to_have_text("resolved")

    # The learner hears it: one unread in the header, opened from the inbox onto the case page.
    page.get_by_role("link", name="Your courses").first.click()
    inbox_says(page, 1)
    page.locator("#inbox-link").click()
    expect(page.locator("#inbox")).to_contain_text("The outcome of your appeal")
    expect(page.locator("#inbox")).to_contain_text(NOTE)
    page.get_by_role("button", name="Open: The outcome of your appeal").click()
    expect(page).to_have_url(f"{live.base_url}/escalations/{case['id']}")
    inbox_says(page, 0)
    expect(page.locator("#case-status")).to_have_text("decided")
    expect(page.locator("#case-outcome")).to_have_text("nothing was changed")
    expect(page.locator("#case-decision")).to_contain_text(NOTE)
    page.screenshot(path=str(tmp_path / "learner-case-outcome.png"), full_page=True)

    # The same case in a second tab, opened from the inbox's link: the form it shows goes stale once contested.
    second = page.context.new_page()
    second.goto(f"{live.base_url}/")
    second.locator("#inbox-link").click()
    second.locator("#inbox tbody tr", has_text="The outcome of your appeal").get_by_role("link", name="Open").click()
    expect(second).to_have_url(f"{live.base_url}/escalations/{case['id']}")

    page.get_by_label("Why the decision is wrong").fill(CONTEST)
    page.get_by_role("button", name="Contest the decision").click()
    expect(page.locator(".flash.ok")).to_contain_text("Your contest was sent")
    contests = [c for c in live.get(f"/api/courses/{course.id}/escalations", mentor.token)["cases"] if c["kind"] == "contested_decision"]
    assert len(contests) == 1 and contests[0]["contests_case_id"] == case["id"] and contests[0]["message"] == CONTEST
    expect(page).to_have_url(f"{live.base_url}/escalations/{contests[0]['id']}")
    expect(page.locator("body")).to_contain_text("that decision is final")

    # A second contest is refused, with its reason, and what was typed is kept.
    again = "I still think the backup plan was never read."
    second.get_by_label("Why the decision is wrong").fill(again)
    second.get_by_role("button", name="Contest the decision").click()
    refusal = second.locator("#form-contest")
    expect(refusal).to_contain_text("You contested this decision already; a decision can be contested only once.")
    expect(second.locator("#contest-kept")).to_have_text(again)
    expect(second.locator("#case-contested")).to_contain_text("follow the contest")
    expect(second.get_by_role("button", name="Contest the decision")).to_have_count(0)
    second.screenshot(path=str(tmp_path / "learner-second-contest.png"), full_page=True)
    listed = live.get(f"/api/courses/{course.id}/escalations", mentor.token)["cases"]
    assert [c["id"] for c in listed if c["kind"] == "contested_decision"] == [contests[0]["id"]]
    assert live.get(f"/api/escalations/{case['id']}", learner.token)["contest_case_id"] == contests[0]["id"]

    # At a phone's width the learner's pages fold: nothing scrolls sideways.
    phone = new_page(PHONE)
    sign_in(phone, live, learner)
    wide: list[str] = []
    for path in (f"/assignments/{course.assignment_id}", "/inbox", f"/escalations/{case['id']}", f"/escalations/{contests[0]['id']}"):
        answer = phone.goto(live.base_url + path)
        assert answer is not None and answer.status == 200, path
        if (overflow := horizontal_overflow(phone)) > 0:
            wide.append(f"{path}: {overflow}px wider than the window")
    phone.screenshot(path=str(tmp_path / "learner-case-phone.png"), full_page=True)
    assert not wide, "\n".join(wide)
