"""Issue 12 in a browser: the learner's record links the verify page of their project's credential; anyone who
follows it, signed out, reads "Valid"; once a mentor marks the work as plagiarism the same page says "Revoked"."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.browser.checks import WIDTHS, axe_source, axe_violations, horizontal_overflow, screenshot_folder
from tests.browser.conftest import Live
from tests.browser.test_pages import Scenario, scenario, sign_in, wait_until  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def current_credential(live: Live, submission_id: str) -> dict[str, Any] | None:
    """The submission's current credential links, read from the server's own database (credentials are issued by
    its background thread, a moment after the score is released)."""
    from reviews.credentials.services import current_credentials
    from reviews.kernel.db import db
    from tests.conftest import make_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SECRET_KEY", secrets.token_hex(16))
        app = make_app(live.workdir / "instance" / "fairpeer.db", SERVER_NAME=None)
    try:
        with app.app_context():
            return current_credentials(db.session, [submission_id]).get(submission_id)
    finally:
        app.extensions["fairpeer.db"][0].dispose()


def verdict(page: Any) -> str:
    return str(page.locator("#verdict .verdict-words").inner_text()).strip()


def test_the_record_links_a_verify_page_that_says_valid_then_revoked(
    live: Live,
    scenario: Scenario,  # noqa: F811
    new_page: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from playwright.sync_api import expect

    learner = scenario.learners[0]
    submission_id = live.get(f"/api/assignments/{scenario.assignment_id}/progress", learner.token)["submission"]["id"]
    links = wait_until(lambda: current_credential(live, submission_id), 30, "learner 0's project credential")

    # The learner's record page offers the verify link (and the signed JSON).
    own = new_page()
    sign_in(own, live, learner)
    own.goto(f"{live.base_url}/records/{scenario.course_id}/{learner.id}")
    link = own.locator(f'a[href$="{links["verify_url"]}"]')
    expect(link.first).to_be_visible()
    verify_url = live.base_url + links["verify_url"]

    # Anyone, signed out, follows it: valid, with who issued it and what it says.
    folder = screenshot_folder(tmp_path_factory)
    source = axe_source()
    problems: list[str] = []
    for width, viewport in WIDTHS.items():
        page = new_page(viewport)
        answer = page.goto(verify_url)
        assert answer is not None and answer.status == 200
        assert verdict(page) == "Valid", page.inner_text("body")
        expect(page.locator("#says-learner")).to_have_text(learner.name)
        expect(page.locator("#says-achievement")).to_have_text(scenario.assignment_title)
        expect(page.locator("#issuer")).to_contain_text("did:key:z6Mk")
        expect(page.locator("#issuer")).to_contain_text("Key registered with this service since")
        expect(page.locator('#checks tr[data-check="signature"]')).to_contain_text("passed")
        expect(page.locator('#checks tr[data-check="status"]')).to_contain_text("passed")
        page.screenshot(path=str(folder / f"verify-valid-{width}.png"), full_page=True)
        problems += [f"verify ({width}): {v}" for v in axe_violations(page, source)]
        if (overflow := horizontal_overflow(page)) > 0:
            problems.append(f"verify ({width}): {overflow}px wider than the window")
    assert problems == [], "\n".join(problems)

    # A mentor marks the work as plagiarism (the learner's own appeal case is about it).
    live.post(f"/api/escalations/{scenario.appeal_case_id}/claim", scenario.mentor.token)
    live.post(
        f"/api/escalations/{scenario.appeal_case_id}/resolve",
        scenario.mentor.token,
        {"action": "mark_plagiarism", "note": "Copied from a published plan."},
    )
    page = new_page()

    def revoked() -> bool:
        page.goto(verify_url)
        return verdict(page) == "Revoked"

    wait_until(revoked, 30, "the verify page to say the credential was revoked")
    expect(page.locator('#checks tr[data-check="signature"]')).to_contain_text("passed")
    page.screenshot(path=str(folder / "verify-revoked-desktop.png"), full_page=True)
    # An id that does not exist: 404, signed out too.
    missing = new_page().goto(f"{live.base_url}/verify/00000000-0000-4000-8000-000000000000")
    assert missing is not None and missing.status == 404
