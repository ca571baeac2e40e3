"""The review gate and helpfulness ratings in Chromium (issue 13, acceptance 4): a reviewer's review that scores a
criterion 0 without a reason, and leaves the required overall comment empty, comes back with everything they typed
and each reason beside its box; fixed, it is sent. An author whose score is released rates a review from their
assignment page, and staff read the rating with its note on the reviewer view. Each state is checked with axe at
both widths, for sideways scrolling, and kept as a screenshot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.checks import WIDTHS, axe_source, axe_violations, horizontal_overflow, screenshot_folder
from tests.browser.conftest import Live
from tests.browser.test_pages import Person, new_person, sign_in_url, wait_until
from tests.conftest import ASSIGNMENT, essay

pytestmark = pytest.mark.browser

LONG_THOUGHTS = "The plan is readable and the milestones are dated,\nbut nobody owns the risks."
WHY_ZERO = "The scope never says which tasks are in and which are out."


@dataclass
class QualityCourse:
    staff: Person
    gated_id: str  # needs an overall comment; reviewed through the page
    released_id: str  # reviewed through the API, every score released
    learners: list[Person]


@pytest.fixture(scope="module")
def course(live: Live) -> QualityCourse:
    admin = live.admin_token
    staff = new_person(live, "quality-staff@browser.test", "Quinn Staff")
    learners = [new_person(live, f"quality{i}@browser.test", f"Quality Learner {i}") for i in range(4)]
    created = live.post("/api/courses", admin, {"title": "Browser Review Quality"}, expect=201)
    live.post(f"/api/courses/{created['id']}/members", admin, {"user_id": staff.id, "role": "staff"}, expect=201)
    for learner in learners:
        live.post(f"/api/courses/{created['id']}/members", staff.token, {"user_id": learner.id, "role": "learner"}, expect=201)
    gated = live.post(
        f"/api/courses/{created['id']}/assignments",
        staff.token,
        {**ASSIGNMENT, "title": "Gated reviews", "require_overall_comment": True},
        expect=201,
    )["id"]
    released = live.post(f"/api/courses/{created['id']}/assignments", staff.token, {**ASSIGNMENT, "title": "Rated reviews"}, expect=201)[
        "id"
    ]
    for aid in (gated, released):
        for i, learner in enumerate(learners):
            live.post(f"/api/assignments/{aid}/submissions", learner.token, {"text": essay(40 + i)}, expect=201)
    for i, learner in enumerate(learners):
        for _ in range(2):
            claim = live.post(f"/api/assignments/{released}/review-claims", learner.token, expect=201)
            body = {
                "scores": {"scope": 2 + i % 3, "risks": 1 + i % 2},
                "comments": {"scope": f"Scope remark {i}: the list of tasks is clear."},
                "overall_comment": f"Overall remark {i}: a workable plan.",
            }
            live.post(f"/api/review-claims/{claim['claim_id']}/review", learner.token, body, expect=201)

    def scored() -> bool:
        return all(live.get(f"/api/assignments/{released}/progress", p.token)["score"] is not None for p in learners)

    try:
        wait_until(scored, 60, "every submission scored (embedded background work)")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- server log ---\n{live.log_tail()}") from None
    live.post(f"/api/assignments/{released}/release", staff.token, expect=200)  # work short of a review is released too
    assert all(live.get(f"/api/assignments/{released}/progress", p.token)["score"]["released"] for p in learners)
    return QualityCourse(staff, gated, released, learners)


def _check(page: Any, name: str, width: str, folder: Path, source: str, problems: list[str]) -> None:
    page.screenshot(path=str(folder / f"review-quality-{name}-{width}.png"), full_page=True)
    problems += [f"{name} ({width}): {v}" for v in axe_violations(page, source)]
    if (overflow := horizontal_overflow(page)) > 0:
        problems.append(f"{name} ({width}): the page is {overflow}px wider than the window")


@pytest.mark.parametrize(("width", "learner_index"), [("desktop", 0), ("phone", 1)])
def test_a_refused_review_keeps_what_was_typed(
    width: str, learner_index: int, live: Live, course: QualityCourse, new_page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from playwright.sync_api import expect

    source, folder, problems = axe_source(), screenshot_folder(tmp_path_factory), []
    print(f"screenshots: {folder}")
    learner = course.learners[learner_index]
    page = new_page(WIDTHS[width])
    page.goto(sign_in_url(live, learner))
    page.goto(f"{live.base_url}/assignments/{course.gated_id}")
    page.get_by_role("button", name="Get something to review").click()
    form = page.locator("#claim form").first
    form.get_by_label("Points for Scope").fill("0")
    form.get_by_label("Points for Risks").fill("3")
    form.get_by_label("Comment on Risks").fill("good")
    # The browser's own check would stop an empty required box before the server sees it: the server's gate is
    # what is tested here, so the reviewer writes something that says nothing.
    form.get_by_label("Overall comment (required)").fill("....")
    form.get_by_role("button", name="Send review").click()

    form = page.locator("#claim form").first
    expect(page.locator("#claim .form-errors")).to_contain_text("Your review was not sent")
    expect(form.locator("#review-comments-scope-error")).to_contain_text("You gave Scope 0 points")
    expect(form.locator("#review-comments-risks-error")).to_contain_text("says nothing specific")
    expect(form.locator("#review-overall-comment-error")).to_contain_text("only dots")
    expect(form.get_by_label("Points for Scope")).to_have_value("0")
    expect(form.get_by_label("Points for Risks")).to_have_value("3")
    expect(form.get_by_label("Comment on Risks")).to_have_value("good")
    expect(form.get_by_label("Overall comment (required)")).to_have_value("....")
    assert live.get(f"/api/assignments/{course.gated_id}/progress", learner.token)["reviews_given"] == 0
    _check(page, "refused", width, folder, source, problems)

    form.get_by_label("Comment on Scope").fill(WHY_ZERO)
    form.get_by_label("Comment on Risks").fill("Two risks named, each with an owner.")
    form.get_by_label("Overall comment (required)").fill(LONG_THOUGHTS)
    form.get_by_role("button", name="Send review").click()
    expect(page.locator("main")).to_contain_text("Review sent. Thank you.")
    assert live.get(f"/api/assignments/{course.gated_id}/progress", learner.token)["reviews_given"] == 1
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(("width", "learner_index"), [("desktop", 2), ("phone", 3)])
def test_an_author_rates_a_review_and_staff_read_it(
    width: str, learner_index: int, live: Live, course: QualityCourse, new_page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from playwright.sync_api import expect

    source, folder, problems = axe_source(), screenshot_folder(tmp_path_factory), []
    author = course.learners[learner_index]
    note = f"Review 1 showed me the missing dates ({width})."
    page = new_page(WIDTHS[width])
    page.goto(sign_in_url(live, author))
    page.goto(f"{live.base_url}/assignments/{course.released_id}")
    card = page.locator("#received article.review").first
    expect(card.locator("h3")).to_have_text("Review 1")
    _check(page, "rating-form", width, folder, source, problems)
    card.get_by_label("How helpful was Review 1?").select_option("4")
    card.get_by_label("A note for the course staff (optional)").fill(note)
    card.get_by_role("button", name="Rate this review").click()
    expect(page.locator("main")).to_contain_text("your rating is saved")
    card = page.locator("#received article.review").first
    expect(card.locator(".rated")).to_have_text("You rated this review 4 of 5 (very helpful). You can change it.")
    expect(card.get_by_label("How helpful was Review 1?")).to_have_value("4")
    expect(card.get_by_role("button", name="Change your rating")).to_be_visible()
    _check(page, "rated", width, folder, source, problems)

    staff = new_page(WIDTHS[width])
    staff.goto(sign_in_url(live, course.staff))
    staff.goto(f"{live.base_url}/assignments/{course.released_id}/reviewers")
    expect(staff.locator("main")).to_contain_text(note)
    expect(staff.locator("main")).to_contain_text("4 of 5 (very helpful)")
    _check(staff, "reviewers-with-ratings", width, folder, source, problems)
    assert problems == [], "\n".join(problems)
