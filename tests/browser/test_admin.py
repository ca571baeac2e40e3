"""An administrator, by clicking only: creates a user, gives them a new API token (the old one then answers 401)
and a sign-in link, on the Users page at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, Live

pytestmark = pytest.mark.browser

# What sticks out past the window's right edge, to say why a page scrolls sideways.
WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + ' ' + Math.round(e.getBoundingClientRect().right))"""


def fits_the_width(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_admin_creates_a_user_and_replaces_their_token_by_clicking(live: Live, new_page: Callable[..., Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    root = live.post("/api/users", live.admin_token, {"email": "root@browser.test", "name": "Ren Root", "is_admin": True}, expect=201)
    course = live.post("/api/courses", live.admin_token, {"title": "Admin Journey 101"}, expect=201)
    link = live.post(f"/api/users/{root['id']}/sign-in-links", live.admin_token, expect=201)["url"]

    page = new_page()
    page.goto(link)
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page).to_have_url(f"{live.base_url}/admin/users")
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()

    create = page.locator("form", has=page.get_by_role("button", name="Create user"))
    create.get_by_label("Email").fill("tess@browser.test")
    create.get_by_label("Name").fill("Tess Token")
    create.get_by_role("button", name="Create user").click()
    expect(page.locator(".flash.ok")).to_have_text("Tess Token can now be added to courses.")
    first_token = page.locator("#shown-secret").input_value()
    assert first_token.startswith("fp_")
    expect(page.locator("#shown-once")).to_contain_text("tess@browser.test")
    page.screenshot(path=str(tmp_path / "admin-users-created.png"), full_page=True)

    # The same email again: refused beside the field, the typed name kept.
    create = page.locator("form", has=page.get_by_role("button", name="Create user"))
    create.get_by_label("Email").fill("TESS@browser.test")
    create.get_by_label("Name").fill("Tess Again")
    create.get_by_role("button", name="Create user").click()
    expect(page.locator("#create-user-email-error")).to_contain_text("already has the email tess@browser.test")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Tess Again")
    expect(page.locator("#shown-once")).to_have_count(0)

    # The token the page showed is the user's: with it, the new member reads the course.
    page.get_by_label("Email or name").fill("tess@")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#user-count")).to_have_text("1 user matches “tess@”.")
    row = page.locator("#users tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td.email")).to_have_text("tess@browser.test")
    user_id = row.get_attribute("data-user-id")
    assert user_id
    live.post(f"/api/courses/{course['id']}/members", live.admin_token, {"user_id": user_id, "role": "learner"}, expect=201)
    assignments = f"/api/courses/{course['id']}/assignments"
    live.get(assignments, first_token, expect=200)

    row.get_by_role("button", name="Issue a new API token").click()
    expect(page.locator(".flash.ok")).to_have_text("Tess Token has a new API token; their old one no longer works.")
    expect(page).to_have_url(f"{live.base_url}/admin/users?q=tess%40")
    new_token = page.locator("#shown-secret").input_value()
    assert new_token.startswith("fp_") and new_token != first_token
    assert new_token not in page.url
    page.screenshot(path=str(tmp_path / "admin-users-token.png"), full_page=True)

    refused = live.get(assignments, first_token, expect=401)
    assert refused["error"]["code"] == "unauthenticated"
    live.get(assignments, new_token, expect=200)

    # Shown once: the next view of the page no longer holds it.
    page.reload()
    expect(page.locator("#shown-once")).to_have_count(0)
    assert new_token not in page.content()

    # A sign-in link for the same user, opened in another browser, signs them in.
    page.locator("#users tbody tr").get_by_role("button", name="Make a sign-in link").click()
    expect(page.locator(".flash.ok")).to_have_text("A sign-in link for Tess Token is ready.")
    sign_in = page.locator("#shown-secret").input_value()
    assert sign_in.startswith(f"{live.base_url}/sign-in/")
    tess = new_page()
    tess.goto(sign_in)
    expect(tess.locator("header")).to_contain_text("Tess Token")
    expect(tess.get_by_role("heading", name="Admin Journey 101")).to_be_visible()
    response = tess.goto(f"{live.base_url}/admin/users")
    assert response is not None and response.status == 403

    # The same page on a phone: no sideways scrolling, the table reflows into cards.
    phone = new_page(PHONE)
    again = live.post(f"/api/users/{root['id']}/sign-in-links", live.admin_token, expect=201)["url"]
    phone.goto(again)
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(phone.locator("#users")).to_be_visible()
    phone.screenshot(path=str(tmp_path / "admin-users-phone.png"), full_page=True)
    assert fits_the_width(phone), phone.evaluate(WIDEST)
    assert fits_the_width(page)
