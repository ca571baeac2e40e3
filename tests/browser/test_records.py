"""Issue 12's journey in a browser: a learner annotates two projects and shares one; anyone opening the link signed
out sees exactly what was picked (the learner's words marked as theirs, not the other project), follows the verify
link and reads "Valid"; once the learner revokes the link it answers 404. Both widths, with axe and overflow checks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.checks import WIDTHS, axe_source, axe_violations, horizontal_overflow, screenshot_folder
from tests.browser.conftest import Live
from tests.browser.test_pages import Scenario, scenario, sign_in, wait_until  # noqa: F401 - the fixture
from tests.browser.test_verify import current_credential, verdict
from tests.conftest import ASSIGNMENT, essay

pytestmark = pytest.mark.browser

SECOND_TITLE = "Risk register for the delivery"


def test_annotate_share_one_open_signed_out_verify_and_revoke(
    live: Live,
    scenario: Scenario,  # noqa: F811
    new_page: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from playwright.sync_api import expect

    learner = scenario.learners[0]
    second = live.post(
        f"/api/courses/{scenario.course_id}/assignments",
        scenario.staff.token,
        {**ASSIGNMENT, "title": SECOND_TITLE, "skills": ["Naming risks"]},
        expect=201,
    )
    live.post(f"/api/assignments/{second['id']}/submissions", learner.token, {"text": essay(9)}, expect=201)
    live.call("PATCH", f"/api/assignments/{scenario.assignment_id}", scenario.staff.token, {"skills": ["Scoping a delivery plan"]})
    summary = "How to plan a small delivery: its scope, its risks and a fallback."
    live.call("PATCH", f"/api/courses/{scenario.course_id}", scenario.staff.token, {"learning_summary": summary})
    submission_id = live.get(f"/api/assignments/{scenario.assignment_id}/progress", learner.token)["submission"]["id"]
    links = wait_until(lambda: current_credential(live, submission_id), 30, "learner 0's project credential")

    own = new_page()
    sign_in(own, live, learner)
    own.goto(f"{live.base_url}/records/{scenario.course_id}/{learner.id}")
    first_card, second_card = own.locator("article.project").nth(0), own.locator("article.project").nth(1)
    expect(first_card.get_by_role("heading", level=2)).to_have_text(scenario.assignment_title)
    first_card.get_by_label("Your words about this project").fill("I planned the delivery with two farms and a fallback.")
    first_card.get_by_label("Show this project on my shared record").check()
    first_card.get_by_role("button", name="Save").click()
    expect(own.locator(".flash.ok")).to_contain_text("Saved")
    second_card = own.locator("article.project").nth(1)
    expect(second_card.get_by_role("heading", level=2)).to_have_text(SECOND_TITLE)
    second_card.get_by_label("Your words about this project").fill("My first risk register; not ready to show.")
    second_card.get_by_role("button", name="Save").click()
    expect(own.locator(".flash.ok")).to_contain_text("Saved")
    expect(own.locator("article.project").nth(0).locator(".annotation blockquote")).to_have_text(
        "I planned the delivery with two farms and a fallback."
    )
    own.get_by_role("button", name="Make a new link").click()
    flash = own.locator(".flash.ok")
    expect(flash).to_contain_text("shown only once")
    found = re.search(r"(https?://\S+/shared/[A-Za-z0-9_-]+)", flash.inner_text())
    assert found, flash.inner_text()
    share_url = found.group(1)

    folder = screenshot_folder(tmp_path_factory)
    source = axe_source()
    problems: list[str] = []
    own.screenshot(path=str(folder / "record-learner-desktop.png"), full_page=True)
    problems += [f"record: {v}" for v in axe_violations(own, source)]

    for width, viewport in WIDTHS.items():
        page = new_page(viewport)  # a fresh context: signed out
        answer = page.goto(share_url)
        assert answer is not None and answer.status == 200
        assert answer.headers.get("x-robots-tag") == "noindex"
        expect(page.locator('meta[name="robots"]')).to_have_attribute("content", "noindex")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{learner.name} · Browser Planning 101")
        expect(page.locator(".learning-summary")).to_have_text(summary)
        cards = page.locator("article.project")
        expect(cards).to_have_count(1)
        expect(cards.first.get_by_role("heading", level=2)).to_have_text(scenario.assignment_title)
        expect(cards.first.locator(".annotation blockquote")).to_have_text("I planned the delivery with two farms and a fallback.")
        expect(cards.first.locator(".annotation figcaption")).to_contain_text("own words; not verified")
        expect(cards.first.locator(".skills")).to_contain_text("Scoping a delivery plan")
        expect(cards.first.locator(".integrity")).to_contain_text("no case upheld")
        body = page.inner_text("body")
        assert SECOND_TITLE not in body and "not ready to show" not in body
        html = page.content()
        for secret in (scenario.course_id, scenario.assignment_id, learner.id, submission_id):
            assert secret not in html
        assert not any(other.name in body for other in scenario.learners[1:])
        page.screenshot(path=str(folder / f"shared-record-{width}.png"), full_page=True)
        problems += [f"shared ({width}): {v}" for v in axe_violations(page, source)]
        if (overflow := horizontal_overflow(page)) > 0:
            problems.append(f"shared ({width}): {overflow}px wider than the window")

    # The verify link, followed from the shared page, says valid.
    page = new_page()
    page.goto(share_url)
    page.get_by_role("link", name="Verify this credential").click()
    expect(page).to_have_url(live.base_url + links["verify_url"])
    assert verdict(page) == "Valid", page.inner_text("body")
    assert problems == [], "\n".join(problems)

    # Revoking the link: it answers 404 from then on.
    own.goto(f"{live.base_url}/records/{scenario.course_id}/{learner.id}")
    own.locator("#shares").get_by_role("button", name="Revoke").click()
    expect(own.locator(".flash.ok")).to_contain_text("revoked")
    gone = new_page().goto(share_url)
    assert gone is not None and gone.status == 404
