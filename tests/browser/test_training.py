"""Training before live reviews, in Chromium (issue 13, acceptance 4): a learner opens the review section, is sent
to training, grades a training text out of tolerance, reads the staff's points and comments next to theirs, tries
again within tolerance, passes, and gets a live review. Each state is checked with axe at both widths, for sideways
scrolling, and kept as a screenshot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.checks import WIDTHS, axe_source, axe_violations, horizontal_overflow, screenshot_folder
from tests.browser.conftest import Live
from tests.browser.test_pages import Person, new_person, sign_in_url
from tests.conftest import ASSIGNMENT, essay

pytestmark = pytest.mark.browser

TRAINING_TEXT = "Training text: a repair cafe in the library on the last Saturday of each month, run by four volunteers."
STAFF_POINTS = {"scope": 3, "risks": 1}
STAFF_COMMENTS = {
    "scope": "The scope is clear: one place, one day a month, four people.",
    "risks": "Only one risk, vaguely named: what if nobody can fix what is brought?",
}


@dataclass
class TrainingCourse:
    assignment_id: str
    learners: list[Person]


@pytest.fixture(scope="module")
def course(live: Live) -> TrainingCourse:
    admin = live.admin_token
    staff = new_person(live, "trainer@browser.test", "Tara Trainer")
    learners = [new_person(live, f"trainee{i}@browser.test", f"Trainee {i}") for i in range(3)]
    created = live.post("/api/courses", admin, {"title": "Browser Training 101"}, expect=201)
    live.post(f"/api/courses/{created['id']}/members", admin, {"user_id": staff.id, "role": "staff"}, expect=201)
    for learner in learners:
        live.post(f"/api/courses/{created['id']}/members", staff.token, {"user_id": learner.id, "role": "learner"}, expect=201)
    settings = {**ASSIGNMENT, "training_samples": 1}
    assignment = live.post(f"/api/courses/{created['id']}/assignments", staff.token, settings, expect=201)
    aid = assignment["id"]
    sample = {"text": TRAINING_TEXT, "scores": STAFF_POINTS, "comments": STAFF_COMMENTS}
    live.post(f"/api/assignments/{aid}/training/samples", staff.token, sample, expect=201)
    for i, learner in enumerate(learners):
        live.post(f"/api/assignments/{aid}/submissions", learner.token, {"text": essay(20 + i)}, expect=201)
    return TrainingCourse(aid, learners)


def _check(page: Any, name: str, width: str, folder: Path, source: str, problems: list[str]) -> None:
    page.screenshot(path=str(folder / f"training-{name}-{width}.png"), full_page=True)
    problems += [f"{name} ({width}): {v}" for v in axe_violations(page, source)]
    if (overflow := horizontal_overflow(page)) > 0:
        problems.append(f"{name} ({width}): the page is {overflow}px wider than the window")


def _grade(page: Any, points: dict[str, int]) -> None:
    form = page.locator("#training-sample form")
    for key, title in (("scope", "Scope"), ("risks", "Risks")):
        form.get_by_label(f"Points for {title}").fill(str(points[key]))
    form.get_by_label("Comment on Scope (optional)").fill("It says what is in.")
    form.get_by_role("button", name="Send this training grade").click()
    page.locator("#last-try").wait_for()


@pytest.mark.parametrize(("width", "learner_index"), [("desktop", 0), ("phone", 1)])
def test_a_learner_trains_then_reviews(
    width: str, learner_index: int, live: Live, course: TrainingCourse, new_page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from playwright.sync_api import expect

    source, folder, problems = axe_source(), screenshot_folder(tmp_path_factory), []
    print(f"screenshots: {folder}")
    learner = course.learners[learner_index]
    aid = course.assignment_id
    page = new_page(WIDTHS[width])
    page.goto(sign_in_url(live, learner))
    page.goto(f"{live.base_url}/assignments/{aid}")

    # The review section sends the learner to training; there is nothing to claim yet.
    section = page.locator("#training-first")
    expect(section).to_contain_text("training text")
    expect(page.get_by_role("button", name="Get something to review")).to_have_count(0)
    _check(page, "assignment-before", width, folder, source, problems)
    section.get_by_role("link", name="Start your training").click()
    expect(page).to_have_url(f"{live.base_url}/assignments/{aid}/training")
    expect(page.locator("main")).to_contain_text("training texts, not other learners' work")
    expect(page.locator("main")).to_contain_text("up to 3 tries for each training text")
    expect(page.locator("pre.work")).to_have_text(TRAINING_TEXT)
    # Before grading, nothing of the staff's points or comments shows.
    expect(page.locator("main")).not_to_contain_text(STAFF_COMMENTS["scope"])
    _check(page, "first-try", width, folder, source, problems)

    # Out of tolerance (1 point either way on these 4-point criteria): the staff's points and comments beside theirs.
    _grade(page, {"scope": 1, "risks": 4})
    last = page.locator("#last-try")
    expect(last).to_contain_text("Not yet")
    expect(last).to_contain_text("2 tries left")
    expect(last).to_contain_text(STAFF_COMMENTS["scope"])
    expect(last).to_contain_text(STAFF_COMMENTS["risks"])
    expect(last).to_contain_text("You wrote: It says what is in.")
    scope_row = last.locator("tbody tr").filter(has_text="Scope")
    expect(scope_row.locator("td").nth(1)).to_have_text("1")
    expect(scope_row.locator("td").nth(2)).to_have_text("3")
    expect(scope_row.locator("td").nth(3)).to_contain_text("No")
    expect(page.locator("#sample-heading")).to_contain_text("try 2 of 3")
    api = live.get(f"/api/assignments/{aid}/training", learner.token)
    assert api["state"] == "in_progress" and api["samples"][0]["tries"][0]["passed"] is False
    _check(page, "feedback-out-of-tolerance", width, folder, source, problems)

    # Within tolerance: passed, and the way to live reviews is open.
    _grade(page, {"scope": 4, "risks": 2})
    expect(page.locator("#last-try")).to_contain_text("Passed")
    expect(page.locator("#training-done")).to_contain_text("Your training is done")
    expect(page.locator("#training-progress")).to_contain_text("Done: 1 of 1")
    _check(page, "passed", width, folder, source, problems)
    page.locator("#training-done").get_by_role("link", name="Review others' work").click()
    expect(page.locator("#training-first")).to_have_count(0)
    page.get_by_role("button", name="Get something to review").click()
    claim = page.locator("#claim")
    expect(claim).to_be_visible()
    expect(claim.locator("pre.work")).not_to_have_text(TRAINING_TEXT)
    _check(page, "live-review", width, folder, source, problems)
    assert live.get(f"/api/assignments/{aid}/training", learner.token)["state"] == "passed"
    assert live.get(f"/api/assignments/{aid}/progress", learner.token)["reviews_given"] == 0
    assert problems == [], "\n".join(problems)
