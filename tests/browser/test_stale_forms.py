"""A form left open while its person signs in again elsewhere keeps what they typed: nothing is sent behind their
back, the form comes back filled in with a fresh token, and it sends when they press the button again."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Live
from tests.browser.test_pages import Scenario, scenario, sign_in_url  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

NOTE = "Checked the risks section against the rubric: the review is fair, nothing to change."


def test_a_mentors_note_survives_signing_in_again_in_another_tab_and_sends_after(
    browser: object,
    live: Live,
    scenario: Scenario,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1100, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(sign_in_url(live, scenario.mentor))
        page.get_by_role("link", name="Escalation queue").first.click()
        page.get_by_role("link", name="Open case").first.click()
        page.get_by_role("button", name="Claim this case").click()
        expect(page.get_by_text("You claimed this case.")).to_be_visible()
        page.get_by_label("Note (the learner reads it with the outcome)").fill(NOTE)

        other_tab = context.new_page()  # signs in again: the first tab's form now holds an old token
        other_tab.goto(sign_in_url(live, scenario.mentor))
        expect(other_tab.get_by_role("heading", name="Your courses")).to_be_visible()
        other_tab.close()

        page.get_by_role("button", name="Resolve").click()
        expect(page.get_by_text("Nothing was sent yet")).to_be_visible()
        expect(page.get_by_label("Note (the learner reads it with the outcome)")).to_have_value(NOTE)
        status = live.get(f"/api/escalations/{scenario.appeal_case_id}", live.admin_token)["status"]
        assert status == "claimed", "a stale form must not have been sent"

        page.get_by_role("button", name="Resolve").click()
        expect(page.get_by_text("Case updated.")).to_be_visible()
        case = live.get(f"/api/escalations/{scenario.appeal_case_id}", live.admin_token)
        assert case["status"] == "resolved" and case["outcome"]["note"] == NOTE
    finally:
        context.close()
