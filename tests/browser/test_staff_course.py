"""Staff run a course by clicking only: create an assignment with a two-criterion rubric (one with level
descriptors), edit it, add a member, remove one, and read the audit trail filtered by action."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CSP_VIOLATION, DESKTOP, PHONE, TIMEOUT_MS, Live
from tests.browser.test_pages import Person, new_person, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def staff_page(browser: Any, live: Live) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A signed-in staff member's page in its own context, failing on any CSP report; and the course's ids."""
    admin = live.admin_token
    staff = new_person(live, "course.staff@browser.test", "Cora Staff")
    keeper = new_person(live, "kept.learner@browser.test", "Kim Kept")
    leaver = new_person(live, "leaving.learner@browser.test", "Lee Leaving")
    newcomer = new_person(live, "new.mentor@browser.test", "Noor Mentor")
    course = live.post("/api/courses", admin, {"title": "Clicking 101"}, expect=201)
    live.post(f"/api/courses/{course['id']}/members", admin, {"user_id": staff.id, "role": "staff"}, expect=201)
    for person in (keeper, leaver):
        live.post(f"/api/courses/{course['id']}/members", staff.token, {"user_id": person.id, "role": "learner"}, expect=201)
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if CSP_VIOLATION in message.text else None)
    sign_in(page, live, staff)
    yield page, {"course_id": course["id"], "staff": staff, "leaver": leaver, "newcomer": newcomer, "token": staff.token}
    context.close()
    assert violations == [], "the pages broke their Content-Security-Policy"


def at_both_widths(page: Any, folder: Path, name: str) -> None:
    """Screenshots at phone and desktop width, and no horizontal scrolling on the phone."""
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} scrolls sideways at 390 px by {overflow} px"
    page.set_viewport_size(DESKTOP)


def test_staff_manage_a_course_by_clicking(live: Live, staff_page: tuple[Any, dict[str, Any]], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page, ids = staff_page
    course_id, staff = ids["course_id"], ids["staff"]
    assert isinstance(staff, Person)

    page.get_by_role("link", name="Manage course").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clicking 101")
    page.get_by_role("link", name="New assignment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New assignment")

    # Create: a two-criterion rubric, the first with level descriptors.
    about = page.get_by_role("group", name="The assignment")
    about.get_by_label("Title", exact=True).fill("Plan a street party")
    about.get_by_label("Prompt: what learners are asked to do").fill("Plan a street party: what is in it and what could go wrong.")
    first, second = page.locator("fieldset.criterion").nth(0), page.locator("fieldset.criterion").nth(1)
    first.get_by_label("Title", exact=True).fill("Scope")
    first.get_by_label("Most points").fill("4")
    first.get_by_label("What reviewers look for").fill("Is it clear what is in and what is out?")
    first.get_by_label("Level descriptors (optional)").fill("4: In and out both clear\n2: Only what is in\n0: Neither")
    second.get_by_label("Title", exact=True).fill("Risks")
    second.get_by_label("Most points").fill("3")
    page.get_by_label("Reviews each submission needs").fill("2")
    page.get_by_label("Reviews each learner gives").fill("3")
    page.get_by_label("Calibration share, in percent").fill("20")
    page.get_by_label("Submissions due (UTC)").fill("2030-06-30T23:59")
    at_both_widths(page, tmp_path, "assignment-new")
    page.get_by_role("button", name="Create the assignment").click()
    expect(page.locator(".flash.ok")).to_have_text("The assignment is created.")
    (assignment,) = live.get(f"/api/courses/{course_id}/assignments", staff.token)["assignments"]
    assert [c["key"] for c in assignment["rubric"]["criteria"]] == ["scope", "risks"]
    assert assignment["rubric"]["criteria"][0]["levels"] == [
        {"points": 4, "description": "In and out both clear"},
        {"points": 2, "description": "Only what is in"},
        {"points": 0, "description": "Neither"},
    ]
    assert "levels" not in assignment["rubric"]["criteria"][1]
    assert (assignment["reviews_required"], assignment["reviews_to_give"], assignment["calibration_share"]) == (2, 3, 0.2)
    assert assignment["due_at"].startswith("2030-06-30T23:59")

    # Edit: the page shows what was saved; a new title and a third criterion.
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit “Plan a street party”")
    page.get_by_role("group", name="The assignment").get_by_label("Title", exact=True).fill("Plan a street party, safely")
    third = page.locator("fieldset.criterion").nth(2)
    third.get_by_label("Title", exact=True).fill("Budget")
    third.get_by_label("Most points").fill("2")
    at_both_widths(page, tmp_path, "assignment-edit")
    page.get_by_role("button", name="Save the assignment").click()
    expect(page.locator(".flash.ok")).to_have_text("The assignment is saved.")
    saved = live.get(f"/api/assignments/{assignment['id']}", staff.token)
    assert saved["title"] == "Plan a street party, safely" and [c["key"] for c in saved["rubric"]["criteria"]] == [
        "scope",
        "risks",
        "budget",
    ]

    # Add a member, then remove one, on the course page.
    page.get_by_role("navigation", name="Course").get_by_role("link", name="Course").click()
    expect(page.get_by_role("cell", name="Plan a street party, safely", exact=True)).to_be_visible()
    page.get_by_label("Email address").fill("new.mentor@browser.test")
    page.get_by_label("Role").select_option("mentor")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".flash.ok")).to_have_text("Noor Mentor is now mentor in this course.")
    expect(page.locator("#members tr", has_text="Noor Mentor")).to_contain_text("Mentor")
    page.get_by_role("button", name="Remove Lee Leaving").click()
    expect(page.locator(".flash.ok")).to_have_text("Lee Leaving is no longer in this course.")
    expect(page.locator("#members")).not_to_contain_text("Lee Leaving")
    at_both_widths(page, tmp_path, "course")

    # The audit trail, filtered by action.
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail: Clicking 101")
    page.get_by_label("Action").select_option(label="Member removed")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.reflow tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Cora Staff (course.staff@browser.test)")
    expect(rows.first).to_contain_text(f"Lee Leaving (user:{ids['leaver'].id})")
    expect(rows.first).to_contain_text("role: learner")
    at_both_widths(page, tmp_path, "audit")
    api = live.get(f"/api/courses/{course_id}/audit?action=member.removed", staff.token)["events"]
    assert [e["subject"] for e in api] == [f"user:{ids['leaver'].id}"]
    print(f"screenshots in {tmp_path}")
