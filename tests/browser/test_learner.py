"""A learner in headless Chromium, by clicking only: they read their score explained and their labelled reviews,
then send a new attempt, which asks first and keeps the old score in view marked as the previous attempt.

Every figure read on the page is checked against what the API reports for the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, Live
from tests.browser.test_pages import REVIEWER_POINTS, Person, new_person, sign_in, wait_until
from tests.conftest import ASSIGNMENT, essay

pytestmark = pytest.mark.browser


@dataclass
class Course:
    course_id: str
    assignment_id: str
    title: str
    learners: list[Person]


@pytest.fixture(scope="module")
def course(live: Live) -> Course:
    """Five learners who submitted and reviewed each other with differing points; learner 0's score is released."""
    admin = live.admin_token
    staff = new_person(live, "staff@learner.test", "Sam Staff")
    learners = [new_person(live, f"learner{i}@learner.test", f"Learner {i}") for i in range(5)]
    created = live.post("/api/courses", admin, {"title": "Learner journeys"}, expect=201)
    live.post(f"/api/courses/{created['id']}/members", admin, {"user_id": staff.id, "role": "staff"}, expect=201)
    for person in learners:
        live.post(f"/api/courses/{created['id']}/members", staff.token, {"user_id": person.id, "role": "learner"}, expect=201)
    assignment = live.post(f"/api/courses/{created['id']}/assignments", staff.token, dict(ASSIGNMENT), expect=201)
    aid = assignment["id"]
    for i, learner in enumerate(learners):
        live.post(f"/api/assignments/{aid}/submissions", learner.token, {"text": essay(i)}, expect=201)
    for i, learner in enumerate(learners):
        for _ in range(2):
            claim = live.post(f"/api/assignments/{aid}/review-claims", learner.token, expect=201)
            review = {
                "scores": REVIEWER_POINTS[i],
                "comments": {"scope": f"Scope remark {i}.", "risks": f"Risks remark {i}."},
                "overall_comment": f"Overall remark {i}.",
            }
            live.post(f"/api/review-claims/{claim['claim_id']}/review", learner.token, review, expect=201)
    all_reviews = 2 * len(learners)

    def settled() -> bool:
        events = live.get(f"/api/courses/{created['id']}/audit", staff.token)["events"]
        runs = [e["data"].get("reviews") for e in events if e["action"] == "scores.recalibrated" and e["subject"] == f"assignment:{aid}"]
        score = live.get(f"/api/assignments/{aid}/progress", learners[0].token)["score"]
        return all_reviews in runs and bool(score and score.get("released") and score.get("value") is not None)

    try:
        wait_until(settled, 30, "a recalibration over all reviews and learner 0's released score")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- server log ---\n{live.log_tail()}") from None
    return Course(created["id"], aid, assignment["title"], learners)


def fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_learner_reads_the_explained_score_and_labelled_reviews(
    live: Live, course: Course, new_page: Callable[..., Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    learner = course.learners[0]
    progress = live.get(f"/api/assignments/{course.assignment_id}/progress", learner.token)
    score = progress["score"]
    reviews = live.get(f"/api/submissions/{progress['submission']['id']}/reviews", learner.token)["reviews"]

    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = new_page(viewport)
        sign_in(page, live, learner)
        page.get_by_role("link", name=course.title).click()
        expect(page).to_have_url(f"{live.base_url}/assignments/{course.assignment_id}")
        explained = page.locator("#score")
        expect(explained).to_contain_text(f"Your score is {score['value']:.1f} out of {score['max']:g}.")
        low, high = score["interval"]
        if f"{low:.1f}" != f"{high:.1f}":
            expect(explained).to_contain_text(f"Careful graders would most likely give between {low:.1f} and {high:.1f} (a 95% interval)")
        expect(explained).to_contain_text("this is the calibrated score, which corrects for reviewers who grade high or low.")
        for title, key in (("Scope", "scope"), ("Risks", "risks")):
            row = page.locator("#score-criteria tbody tr", has_text=title)
            expect(row).to_contain_text(f"{score['criteria'][key]['value']:.1f} / 4")
        for number, review in enumerate(reviews, start=1):
            card = page.locator(f"#review-{number}")
            expect(card.get_by_role("heading", name=f"Review {number}")).to_be_visible()
            expect(card.locator("dt")).to_have_text(["Scope", "Risks"])  # the rubric's titles, not its keys
            expect(card.locator("dd").nth(0)).to_contain_text(f"{review['scores']['scope']:g} / 4")
            expect(card.locator("dd").nth(1)).to_contain_text(f"{review['scores']['risks']:g} / 4")
            expect(card.locator("dd").nth(1)).to_contain_text(review["comments"]["risks"])
            expect(card).to_contain_text(f"Overall: {review['overall_comment']}")
            expect(card.locator(".weight")).to_contain_text("% of your score")
        expect(page.locator("#received")).not_to_contain_text("scope:")
        # The appeal form names the same reviews.
        page.get_by_text("Appeal a review").click()
        labels = page.get_by_label("What your appeal is about").locator("option").all_inner_texts()
        assert labels == [
            "Choose a review or a criterion",
            *(f"Review {n}" for n in range(1, len(reviews) + 1)),
            "Criterion: Scope",
            "Criterion: Risks",
        ]
        assert fits_the_screen(page), f"the assignment page scrolls sideways on the {name}"
        page.screenshot(path=str(tmp_path / f"learner-explained-{name}.png"), full_page=True)


def test_a_new_attempt_asks_first_and_keeps_the_old_score_as_previous(
    live: Live, course: Course, new_page: Callable[..., Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    learner = course.learners[1]
    before = live.get(f"/api/assignments/{course.assignment_id}/progress", learner.token)
    old = wait_until(
        lambda: (
            (p := live.get(f"/api/assignments/{course.assignment_id}/progress", learner.token))["score"]
            and p["score"].get("released")
            and p["score"]
        ),
        30,
        "learner 1's released score",
    )
    page = new_page(PHONE)
    sign_in(page, live, learner)
    page.get_by_role("link", name=course.title).click()
    warning = page.locator("#before-new-attempt")
    expect(warning).to_contain_text(
        f"Your released score {old['value']:.1f} (out of {old['max']:g}) stays on your record until the new attempt is scored and released."
    )
    expect(warning).to_contain_text("needs 2 new reviews")
    expect(warning).to_contain_text("This is your last attempt: you will have no attempts left.")
    page.screenshot(path=str(tmp_path / "learner-before-new-attempt-phone.png"), full_page=True)

    page.get_by_label("Your answer").fill(essay(60))
    send = page.get_by_role("button", name="Submit the new attempt")
    send.click()
    # Not ticked: the browser keeps the form, and nothing was sent.
    assert page.get_by_label("I understand: submit a new attempt that replaces attempt 1.").evaluate("box => !box.validity.valid")
    assert live.get(f"/api/assignments/{course.assignment_id}/progress", learner.token)["attempts"] == before["attempts"]

    page.get_by_label("I understand: submit a new attempt that replaces attempt 1.").check()
    send.click()
    expect(page.locator(".flash.ok")).to_have_text("Attempt 2 submitted.")
    expect(page).to_have_url(f"{live.base_url}/assignments/{course.assignment_id}")
    expect(page.locator("#score")).to_contain_text("Attempt 2: not released yet")
    previous = page.locator("#previous-attempt")
    expect(previous.get_by_role("heading", name="Previous attempt (attempt 1)")).to_be_visible()
    expect(previous).to_contain_text(f"Your score is {old['value']:.1f} out of {old['max']:g}.")
    expect(page.locator("#previous-reviews")).to_contain_text("Review 1")
    assert fits_the_screen(page)
    page.screenshot(path=str(tmp_path / "learner-previous-attempt-phone.png"), full_page=True)

    after = live.get(f"/api/assignments/{course.assignment_id}/progress", learner.token)
    assert after["submission"]["attempt"] == 2 and after["previous_score"]["value"] == old["value"]

    # The record keeps the released attempt, marked as the previous one.
    page.get_by_role("link", name="Your courses").first.click()
    page.get_by_role("link", name="Your record").click()
    row = page.locator(f'#record tr[data-assignment-id="{course.assignment_id}"]')
    expect(row.locator("td.score")).to_contain_text(f"{old['value']:.1f} / {old['max']:.1f}")
    expect(row.locator("td.score")).to_contain_text("previous attempt: attempt 1")
    expect(row.locator("td.attempts")).to_have_text("2 of 2")
    assert fits_the_screen(page)
    page.screenshot(path=str(tmp_path / "learner-record-previous-phone.png"), full_page=True)
