"""Staff score an assignment by clicking only, in headless Chromium against a real ``fairpeer serve``: add two
calibration samples, open the gradebook, give one learner a staff grade, release, download scores.csv and read
the reviewer view. Learners' submissions and reviews are made through the API, as an LMS would."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Live
from tests.browser.test_pages import Person, new_person, sign_in, wait_until
from tests.conftest import ASSIGNMENT, essay

pytestmark = pytest.mark.browser

SAMPLES = [
    ("A community garden on one street: scope, two named risks with their answers, and dated milestones.", {"scope": "4", "risks": "3"}),
    ("A repair cafe once a month in the library hall; risks named briefly, no milestones at all yet.", {"scope": "2", "risks": "1"}),
]
ATTACHMENT = b"# Garden plan\n\nScope: one street. Risks: rain, and a late delivery of seeds.\n"


def test_staff_score_an_assignment_by_clicking(live: Live, new_page: Callable[[], Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    admin = live.admin_token
    staff = new_person(live, "scoring-staff@browser.test", "Sol Staff")
    learners = [new_person(live, f"scoring-learner{i}@browser.test", f"Scoring Learner {i}") for i in range(4)]
    course = live.post("/api/courses", admin, {"title": "Browser Scoring 101"}, expect=201)
    live.post(f"/api/courses/{course['id']}/members", admin, {"user_id": staff.id, "role": "staff"}, expect=201)
    for learner in learners:
        live.post(f"/api/courses/{course['id']}/members", staff.token, {"user_id": learner.id, "role": "learner"}, expect=201)
    settings = {**ASSIGNMENT, "title": "Plan a garden", "calibration_share": 0.5, "reviews_to_give": 4}
    aid = live.post(f"/api/courses/{course['id']}/assignments", staff.token, settings, expect=201)["id"]

    page = new_page()
    sign_in(page, live, staff)
    page.get_by_role("link", name="Gradebook of Plan a garden").click()
    expect(page).to_have_url(f"{live.base_url}/assignments/{aid}/gradebook")
    page.get_by_role("navigation", name="Assignment pages").get_by_role("link", name="Calibration samples").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Calibration samples: Plan a garden")
    for i, (text, points) in enumerate(SAMPLES):
        form = page.locator("#add-sample")
        form.get_by_label("The sample's text").fill(text)
        if i == 0:
            form.get_by_label("Files").set_input_files([{"name": "garden.md", "mimeType": "text/markdown", "buffer": ATTACHMENT}])
        form.get_by_label("Scope (0–4 points)").fill(points["scope"])
        form.get_by_label("Risks (0–4 points)").fill(points["risks"])
        form.get_by_role("button", name="Add this sample").click()
        expect(page.locator(".flash.ok")).to_have_text("Calibration sample added. Reviewers will be served it like any learner's work.")
    expect(page.get_by_role("heading", name="Samples (2)")).to_be_visible()
    expect(page.locator("body")).to_contain_text("garden.md")
    page.screenshot(path=str(tmp_path / "staff-samples.png"), full_page=True)
    listed = live.get(f"/api/assignments/{aid}/calibration-samples", staff.token)["samples"]
    assert [s["text"] for s in listed] == [text for text, _ in SAMPLES]
    assert [s["scores"] for s in listed] == [{"scope": 4.0, "risks": 3.0}, {"scope": 2.0, "risks": 1.0}]

    # Learners submit, then each claims and reviews three items (one of them a sample, unknown to them).
    for i, learner in enumerate(learners):
        live.post(f"/api/assignments/{aid}/submissions", learner.token, {"text": essay(40 + i)}, expect=201)
    for i, learner in enumerate(learners):
        for _ in range(3):
            claim = live.post(f"/api/assignments/{aid}/review-claims", learner.token, expect=201)
            review = {
                "scores": {"scope": 2 + i % 3, "risks": 1 + i % 2},
                "comments": {"scope": "Clear."},
                "overall_comment": "Readable plan.",
            }
            live.post(f"/api/review-claims/{claim['claim_id']}/review", learner.token, review, expect=201)

    def scored() -> list[dict[str, str]] | None:
        rows = list(csv.DictReader(io.StringIO(api_csv(live, aid, staff))))
        return rows if len(rows) == 4 and all(r["score"] for r in rows) and sum(int(r["reviews"]) for r in rows) == 8 else None

    wait_until(scored, 30, "every learner's work calibrated over all the peer reviews (embedded background work)")

    page.get_by_role("navigation", name="Assignment pages").get_by_role("link", name="Gradebook").click()
    expect(page.locator("#gradebook tbody tr")).to_have_count(4)
    graded = learners[1]
    row = page.locator(f'#gradebook tr[data-learner-id="{graded.id}"]')
    row.locator("summary").click()
    row.get_by_label("Scope (0–4 points)").fill("3.5")
    row.get_by_label("Risks (0–4 points)").fill("2")
    row.get_by_label("Note (kept in the audit trail)").fill("Checked by hand.")
    row.get_by_role("button", name="Give this staff grade").click()
    expect(page.locator(".flash.ok")).to_have_text(f"Staff grade of 5.5 / 8 given to {graded.name}; it is now their score.")
    row = page.locator(f'#gradebook tr[data-learner-id="{graded.id}"]')
    expect(row.locator('td[data-label="State"]')).to_have_text("Staff grade")
    expect(row.locator('td[data-label="Score"]')).to_contain_text("5.5 / 8")

    page.get_by_role("button", name="Release scores").click()
    expect(page.locator(".flash.ok")).to_contain_text("Scores released")
    expect(page.locator("#released")).to_contain_text("Scores were released on")
    for learner in learners:
        progress = live.get(f"/api/assignments/{aid}/progress", learner.token)
        assert progress["score"]["released"] is True, learner.name
    page.screenshot(path=str(tmp_path / "staff-gradebook.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download scores.csv").click()
    saved = Path(download.value.path()).read_bytes().decode()
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(saved))}
    assert saved == api_csv(live, aid, staff), "the page's CSV is the API's"
    assert sorted(rows) == sorted(f"scoring-learner{i}@browser.test" for i in range(4))
    assert rows["scoring-learner1@browser.test"]["method"] == "staff" and float(rows["scoring-learner1@browser.test"]["score"]) == 5.5
    assert all(r["released"] == "True" for r in rows.values())

    page.get_by_role("navigation", name="Assignment pages").get_by_role("link", name="Reviewers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reviewers: Plan a garden")
    for learner in learners:
        expect(page.get_by_role("heading", name=learner.name)).to_be_visible()
    expect(page.locator("body")).to_contain_text("of a typical review")
    expect(page.locator("strong.tag").first).to_have_text("sample")
    page.screenshot(path=str(tmp_path / "staff-reviewers.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    for path in (f"/assignments/{aid}/gradebook", f"/assignments/{aid}/reviewers", f"/assignments/{aid}/samples"):
        page.goto(live.base_url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
        page.screenshot(path=str(tmp_path / f"phone-{path.rsplit('/', 1)[-1]}.png"), full_page=True)


def api_csv(live: Live, assignment_id: str, staff: Person) -> str:
    import urllib.request

    request = urllib.request.Request(
        f"{live.base_url}/api/assignments/{assignment_id}/scores.csv", headers={"Authorization": f"Bearer {staff.token}"}
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return str(response.read().decode())
