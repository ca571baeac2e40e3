"""Every page, as each role sees it, at a desktop's and a phone's width: axe-core finds no serious or critical
violation, nothing scrolls sideways, the Content-Security-Policy is never broken, and a screenshot of each is kept
for a person to look at (the folder is printed; FAIRPEER_SCREENSHOTS chooses it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.checks import CSP_WATCH, WIDTHS, axe_source, axe_violations, csp_violations, horizontal_overflow, screenshot_folder
from tests.browser.conftest import Live
from tests.browser.test_pages import Person, Scenario, new_person, scenario, sign_in_url, wait_until  # noqa: F401 - the fixture
from tests.browser.test_verify import current_credential
from tests.conftest import ASSIGNMENT

pytestmark = pytest.mark.browser


@dataclass
class Visit:
    name: str  # the screenshot's name
    who: str  # a persona of ``people``, or "" for a signed-out browser
    path: str
    status: int = 200
    then: Callable[[Any], None] | None = None  # clicks that bring the page to the state to check (a refused form)


def _refused_assignment(page: Any) -> None:
    """Settings the service refuses (too few peer reviews to go round): the form comes back with the sentence
    beside the field, and everything typed kept."""
    about = page.get_by_role("group", name="The assignment")
    about.get_by_label("Title", exact=True).fill("Plan a tool library")
    about.get_by_label("Prompt: what learners are asked to do").fill("Plan a tool library and its risks.")
    criterion = page.locator("fieldset.criterion").nth(0)
    criterion.get_by_label("Title", exact=True).fill("Scope")
    criterion.get_by_label("Most points").fill("4")
    page.get_by_label("Reviews each submission needs").fill("3")
    page.get_by_label("Reviews each learner gives").fill("3")
    page.get_by_label("Calibration share, in percent").fill("50")
    page.get_by_role("button", name="Create the assignment").click()
    page.locator(".field-error").first.wait_for()


def _refused_answer(page: Any) -> None:
    page.get_by_label("Your answer").fill(". . . . .")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.locator(".field-error").first.wait_for()


@pytest.fixture(scope="module")
def people(live: Live, scenario: Scenario) -> dict[str, Person]:  # noqa: F811 - the fixture imported above
    admin = live.post("/api/users", live.admin_token, {"email": "admin2@browser.test", "name": "Ada Admin", "is_admin": True}, expect=201)
    return {
        "admin": Person(admin["id"], admin["token"], "Ada Admin"),
        "learner": scenario.learners[0],
        "newcomer": scenario.newcomer,
        "mentor": scenario.mentor,
        "staff": scenario.staff,
    }


@pytest.fixture(scope="module")
def training_assignment(live: Live, scenario: Scenario) -> str:  # noqa: F811
    """A second assignment of the course with training: a training sample, and the newcomer's first try out of tolerance."""
    settings = {**ASSIGNMENT, "title": "Plan with training first", "training_samples": 1}
    aid = str(live.post(f"/api/courses/{scenario.course_id}/assignments", scenario.staff.token, settings, expect=201)["id"])
    sample = {
        "text": "Training text: a tool library in a garage, open two evenings a week, with a deposit for each tool.",
        "scores": {"scope": 3, "risks": 2},
        "comments": {"scope": "Clear: one place, two evenings, a deposit.", "risks": "Two risks named, neither met."},
    }
    sample_id = live.post(f"/api/assignments/{aid}/training/samples", scenario.staff.token, sample, expect=201)["id"]
    tried = {"sample_id": sample_id, "scores": {"scope": 1, "risks": 4}, "comments": {"scope": "Unclear."}}
    live.post(f"/api/assignments/{aid}/training/tries", scenario.newcomer.token, tried, expect=201)
    return aid


def visits(live: Live, scenario: Scenario, people: dict[str, Person], training_aid: str) -> list[Visit]:  # noqa: F811
    aid, cid = scenario.assignment_id, scenario.course_id
    learner = people["learner"]
    work = live.get(f"/api/assignments/{aid}/progress", learner.token)["submission"]["id"]
    credential = wait_until(lambda: current_credential(live, work), 30, "learner 0's project credential")
    record = f"/api/courses/{cid}/learners/{learner.id}/record"
    note = {"annotation": "I planned it with the farm and a fallback.", "shared": True, "text_public": True}
    live.call("PUT", f"{record}/projects/{aid}", learner.token, note)
    shared = live.post(f"{record}/shares", learner.token, {}, expect=201)["path"]
    return [
        Visit("signed-out-home", "", "/"),
        Visit("used-sign-in-link", "", "/sign-in/sl_not-a-real-link", 400),
        Visit("learner-home", "learner", "/"),
        Visit("learner-assignment-released", "learner", f"/assignments/{aid}"),
        Visit("learner-record", "learner", f"/records/{cid}/{learner.id}"),
        Visit("signed-out-verify", "", credential["verify_url"]),
        Visit("signed-out-shared-record", "", shared),
        Visit("signed-out-shared-project", "", f"{shared}/projects/1"),
        Visit("signed-out-shared-revoked-or-unknown", "", "/shared/no-such-link-at-all-000000", 404),
        Visit("learner-appeal-progress", "learner", f"/escalations/{scenario.appeal_case_id}"),
        Visit("learner-inbox", "learner", "/inbox"),
        Visit("newcomer-assignment-before-submitting", "newcomer", f"/assignments/{aid}"),
        Visit("newcomer-answer-refused", "newcomer", f"/assignments/{aid}", then=_refused_answer),
        Visit("newcomer-training-feedback", "newcomer", f"/assignments/{training_aid}/training"),
        Visit("not-found", "learner", "/assignments/no-such-assignment", 404),
        Visit("mentor-home", "mentor", "/"),
        Visit("mentor-queue", "mentor", f"/courses/{cid}/escalations"),
        Visit("mentor-case", "mentor", f"/escalations/{scenario.appeal_case_id}"),
        Visit("mentor-inbox", "mentor", "/inbox"),
        Visit("staff-home", "staff", "/"),
        Visit("staff-course", "staff", f"/courses/{cid}"),
        Visit("staff-new-assignment", "staff", f"/courses/{cid}/assignments/new"),
        Visit("staff-new-assignment-refused", "staff", f"/courses/{cid}/assignments/new", then=_refused_assignment),
        Visit("staff-edit-assignment-locked", "staff", f"/assignments/{aid}/edit"),
        Visit("staff-assignment", "staff", f"/assignments/{aid}"),
        Visit("staff-gradebook", "staff", f"/assignments/{aid}/gradebook"),
        Visit("staff-work", "staff", f"/submissions/{work}/work"),
        Visit("staff-reviewers", "staff", f"/assignments/{aid}/reviewers"),
        Visit("staff-samples", "staff", f"/assignments/{aid}/samples"),
        Visit("staff-training-samples", "staff", f"/assignments/{training_aid}/training/samples"),
        Visit("staff-audit", "staff", f"/courses/{cid}/audit"),
        Visit("staff-queue", "staff", f"/courses/{cid}/escalations"),
        Visit("staff-learner-record", "staff", f"/records/{cid}/{learner.id}"),
        Visit("admin-home", "admin", "/"),
        Visit("admin-users", "admin", "/admin/users"),
        Visit("admin-courses", "admin", "/admin/courses"),
    ]


@pytest.fixture(scope="module")
def signed_in_contexts(browser: Any, live: Live, people: dict[str, Person]) -> Iterator[dict[tuple[str, str, bool], Any]]:
    """One browser context per (person, width, CSP bypassed or not), each signed in once through its own link."""
    contexts: dict[tuple[str, str, bool], Any] = {}

    def context_for(who: str, width: str, bypass_csp: bool) -> Any:
        key = (who, width, bypass_csp)
        if key not in contexts:
            context = browser.new_context(viewport=WIDTHS[width], bypass_csp=bypass_csp)
            context.set_default_timeout(10_000)
            if not bypass_csp:
                context.add_init_script(CSP_WATCH)
            if who:
                page = context.new_page()
                page.goto(sign_in_url(live, people[who]))
                page.close()
            contexts[key] = context
        return contexts[key]

    yield context_for  # type: ignore[misc]
    for context in contexts.values():
        context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_is_accessible_fits_the_width_and_keeps_its_policy(
    width: str,
    live: Live,
    scenario: Scenario,  # noqa: F811
    people: dict[str, Person],
    signed_in_contexts: Any,
    training_assignment: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    source = axe_source()
    folder: Path = screenshot_folder(tmp_path_factory)
    print(f"screenshots: {folder}")
    problems: list[str] = []
    for visit in visits(live, scenario, people, training_assignment):
        # axe needs its script in the page: a context that bypasses the policy, as a checker would.
        page = signed_in_contexts(visit.who, width, True).new_page()
        answer = page.goto(live.base_url + visit.path)
        assert answer is not None and answer.status == visit.status, f"{visit.name}: {visit.path} answered {answer and answer.status}"
        if visit.then:
            visit.then(page)
        page.screenshot(path=str(folder / f"{visit.name}-{width}.png"), full_page=True)
        problems += [f"{visit.name} ({width}): {v}" for v in axe_violations(page, source)]
        if (overflow := horizontal_overflow(page)) > 0:
            problems.append(f"{visit.name} ({width}): the page is {overflow}px wider than the window")
        assert "{&#34;error" not in page.content() and '{"error"' not in page.inner_text("body"), f"{visit.name} shows raw JSON"
        page.close()
        # The same page under its own policy: nothing it does is blocked.
        strict = signed_in_contexts(visit.who, width, False).new_page()
        strict.goto(live.base_url + visit.path)
        if visit.then:
            visit.then(strict)
        problems += [f"{visit.name} ({width}): CSP {v}" for v in csp_violations(strict)]
        strict.close()
    assert problems == [], "\n".join(problems)
