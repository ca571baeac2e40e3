"""A course from the first rubric to the released gradebook, by clicking only, in headless Chromium against a real
``fairpeer serve``: staff create an assignment with a rubric and add two calibration samples; three learners submit
(one of them from a form left open across signing in again) and review each other; staff release the scores, give
one learner a staff grade, download scores.csv and read the audit trail; a learner reads the explained score.

Only the accounts and the course are made through the API, as an administrator's script would."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Live
from tests.browser.test_pages import new_person, sign_in, sign_in_url
from tests.conftest import essay

pytestmark = pytest.mark.browser

SAMPLES = [
    ("A tool library in the school gym on Saturdays: what is lent, to whom, two risks and what is done about each.", ("4", "3")),
    ("A bake sale next week; some risks in passing, nothing about who does what or when.", ("1", "1")),
]


def test_a_course_from_rubric_to_released_gradebook_by_clicking(live: Live, new_page: Callable[[], Any]) -> None:
    from playwright.sync_api import expect

    admin = live.admin_token
    staff = new_person(live, "journey.staff@browser.test", "Jo Staff")
    learners = [new_person(live, f"journey.learner{i}@browser.test", f"Journey Learner {i}") for i in range(3)]
    course = live.post("/api/courses", admin, {"title": "Journey 101"}, expect=201)
    live.post(f"/api/courses/{course['id']}/members", admin, {"user_id": staff.id, "role": "staff"}, expect=201)
    for learner in learners:
        live.post(f"/api/courses/{course['id']}/members", staff.token, {"user_id": learner.id, "role": "learner"}, expect=201)

    # Staff: an assignment with a two-criterion rubric, from the home page.
    desk = new_page()
    sign_in(desk, live, staff)
    desk.get_by_role("link", name="Manage course").click()
    desk.get_by_role("link", name="New assignment").click()
    about = desk.get_by_role("group", name="The assignment")
    about.get_by_label("Title", exact=True).fill("Plan a tool library")
    about.get_by_label("Prompt: what learners are asked to do").fill("Plan a tool library: what it lends, to whom, and its risks.")
    first, second = desk.locator("fieldset.criterion").nth(0), desk.locator("fieldset.criterion").nth(1)
    first.get_by_label("Title", exact=True).fill("Scope")
    first.get_by_label("Most points").fill("4")
    second.get_by_label("Title", exact=True).fill("Risks")
    second.get_by_label("Most points").fill("3")
    desk.get_by_label("Reviews each submission needs").fill("2")
    desk.get_by_label("Reviews each learner gives").fill("3")
    desk.get_by_label("Calibration share, in percent").fill("30")
    desk.get_by_role("button", name="Create the assignment").click()
    expect(desk.locator(".flash.ok")).to_have_text("The assignment is created.")
    (assignment,) = live.get(f"/api/courses/{course['id']}/assignments", staff.token)["assignments"]
    aid = assignment["id"]

    # Two calibration samples, graded by staff.
    desk.get_by_role("link", name="Your courses").first.click()
    desk.get_by_role("link", name="Gradebook of Plan a tool library").click()
    desk.get_by_role("navigation", name="Assignment pages").get_by_role("link", name="Calibration samples").click()
    for text, (scope, risks) in SAMPLES:
        form = desk.locator("#add-sample")
        form.get_by_label("The sample's text").fill(text)
        form.get_by_label("Scope (0–4 points)").fill(scope)
        form.get_by_label("Risks (0–3 points)").fill(risks)
        form.get_by_role("button", name="Add this sample").click()
        expect(desk.locator(".flash.ok")).to_contain_text("Calibration sample added.")
    expect(desk.get_by_role("heading", name="Samples (2)")).to_be_visible()

    # Learners submit. The first typed their answer in a page opened before signing in again in another tab:
    # nothing is sent behind their back, the answer is still there, and it sends when they press the button again.
    pages = []
    for i, learner in enumerate(learners):
        page = new_page()
        sign_in(page, live, learner)
        page.get_by_role("link", name="Plan a tool library").click()
        page.get_by_label("Your answer").fill(essay(30 + i))
        if i == 0:
            other_tab = page.context.new_page()
            other_tab.goto(sign_in_url(live, learner))
            other_tab.close()
            page.get_by_role("button", name="Submit", exact=True).click()
            expect(page.get_by_text("Nothing was sent yet")).to_be_visible()
            expect(page.get_by_label("Your answer")).to_have_value(essay(30))
            assert live.get(f"/api/assignments/{aid}/progress", learner.token)["submission"] is None
        page.get_by_role("button", name="Submit", exact=True).click()
        expect(page.locator(".flash.ok")).to_contain_text("Attempt 1 submitted.")
        assert page.url.endswith(f"/assignments/{aid}"), "after sending, the page is the assignment's (a reload sends nothing)"
        pages.append(page)

    # Each learner reviews three items (peers' work and staff samples look the same to them).
    for i, page in enumerate(pages):
        for n in range(3):
            page.get_by_role("button", name="Get something to review").click()
            page.get_by_label("Points for Scope").fill(str(2 + (i + n) % 3))
            page.get_by_label("Points for Risks").fill(str(1 + (i + n) % 2))
            page.get_by_label("Comment on Scope").fill("What is lent and to whom is clear.")
            page.get_by_label("Overall comment").fill("A workable plan; the risks need owners.")
            page.get_by_role("button", name="Send review").click()
            expect(page.locator(".flash.ok")).to_be_visible()
    given = sum(live.get(f"/api/assignments/{aid}/progress", learner.token)["reviews_given"] for learner in learners)
    assert given == 9

    # Staff: release, grade one learner, download the CSV, read the audit trail.
    desk.get_by_role("navigation", name="Assignment pages").get_by_role("link", name="Gradebook").click()
    desk.get_by_role("button", name="Release scores").click()
    expect(desk.locator("#released")).to_be_visible()
    row = desk.locator("#gradebook tr", has_text="Journey Learner 2")
    row.locator("summary").click()
    row.get_by_label("Scope (0–4 points)").fill("3")
    row.get_by_label("Risks (0–3 points)").fill("2")
    row.get_by_label("Note (kept in the audit trail)").fill("Graded by hand: the plan names every risk.")
    row.get_by_role("button", name="Give this staff grade").click()
    expect(desk.locator("#gradebook tr", has_text="Journey Learner 2")).to_contain_text("Staff grade")
    with desk.expect_download() as download:
        desk.get_by_role("link", name="Download scores.csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 3
    graded = next(r for r in rows if learners[2].id in r.values())
    assert float(graded["score"]) == 5.0 and graded["method"] == "staff"
    desk.get_by_role("navigation", name="Assignment pages").get_by_role("link", name="Journey 101").click()
    desk.get_by_role("link", name="Audit trail").first.click()
    desk.get_by_label("Action").select_option(label="Scores released")
    desk.get_by_role("button", name="Show").click()
    released = desk.locator("table.reflow tbody tr")
    expect(released).to_have_count(1)
    expect(released.first).to_contain_text("Jo Staff")

    # A learner reads the explained score.
    learner_page = pages[0]
    learner_page.reload()
    expect(learner_page.locator("body")).to_contain_text("Careful graders would most likely give between")
