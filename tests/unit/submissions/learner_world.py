"""A course whose learners' scores are released from differing reviews, and browsers signed in as its people."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from reviews.accounts.callers import SESSION_KEY
from reviews.accounts.services import start_web_session
from reviews.kernel.db import db
from tests.conftest import World

HTML = {"Accept": "text/html"}
# Each reviewer grades their own way, so the calibration weighs their reviews differently.
REVIEWER_POINTS = [
    {"scope": 3, "risks": 2},
    {"scope": 4, "risks": 3},
    {"scope": 2, "risks": 2},
    {"scope": 3, "risks": 1},
    {"scope": 4, "risks": 4},
]


def browser(world: World, user_id: str) -> FlaskClient:
    """A browser holding a live page session of the user's (as a sign-in link leaves it)."""
    client = world.app.test_client()
    with world.app.app_context():
        secret = start_web_session(db.session, user_id, None, hours=1)
        db.session.commit()
    with client.session_transaction() as session:
        session[SESSION_KEY] = secret
    return client


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    answer = client.get(path, headers=HTML)
    assert answer.status_code == status, (path, answer.status_code, answer.get_data(as_text=True)[:500])
    return answer.get_data(as_text=True)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def post_form(client: FlaskClient, path: str, back: str, form_id: str, data: dict[str, Any], **kw: Any) -> Any:
    """Send one of the page's forms as the browser would (its token, form id and page), without following."""
    html = page(client, back)
    body = {"csrf": csrf_of(html), "form_id": form_id, "back": back, **data}
    return client.post(path, data=body, headers=HTML, **kw)


def field_error(html: str, form_id: str, name: str) -> str:
    """The sentence the page shows beside one field of a form ("" when none)."""
    field_id = f"{form_id}-{name}".replace(".", "-").replace("_", "-")
    found = re.search(rf'<span class="field-error" id="{re.escape(field_id)}-error">([^<]*)</span>', html)
    return found.group(1) if found else ""


def text_of(html: str) -> str:
    """The page's words without tags, blanks collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def reviewed_world(world: World) -> None:
    """Every learner submits, then reviews two others' work with their own points and comments."""
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    for i, learner in enumerate(world.learners):
        for _ in range(2):
            claim = world.claim(learner).get_json()["claim_id"]
            answer = learner.post(
                f"/api/review-claims/{claim}/review",
                json={
                    "scores": REVIEWER_POINTS[i],
                    "comments": {"scope": f"Scope remark {i}.", "risks": f"Risks remark {i}."},
                    "overall_comment": f"Overall remark {i}.",
                },
            )
            assert answer.status_code == 201, answer.get_json()


def progress_of(world: World, learner: Any) -> dict[str, Any]:
    answer = learner.get(f"/api/assignments/{world.assignment_id}/progress")
    assert answer.status_code == 200, answer.get_json()
    return dict(answer.get_json())
