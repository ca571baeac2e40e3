"""Who sees what on the assignment page and its forms: every role, another learner, another course's staff, and a
learner served a staff sample who never learns it was one."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from reviews.allocation.models import ReviewClaim
from reviews.kernel.db import db
from reviews.submissions.models import STAFF_SAMPLE, Submission
from tests.conftest import Caller, World, build_world, essay, make_user
from tests.unit.submissions.learner_world import HTML, browser, field_error, page, post_form, progress_of, reviewed_world, text_of


def url(world: World) -> str:
    return f"/assignments/{world.assignment_id}"


def other_course_staff(world: World) -> Caller:
    staff = make_user(world.app, world.client, "elsewhere@example.org", "Staff Elsewhere")
    added = world.admin.post(f"/api/courses/{world.other_course_id}/members", json={"user_id": staff.id, "role": "staff"})
    assert added.status_code == 201
    return staff


def test_every_role_on_a_released_learners_page(world: World) -> None:
    reviewed_world(world)
    author, other = world.learners[0], world.learners[1]
    own = progress_of(world, author)
    own_reviews = author.get(f"/api/submissions/{own['submission']['id']}/reviews").get_json()["reviews"]
    secret_words = essay(0)
    # The author's page shows their work and their reviews' comments...
    author_page = page(browser(world, author.id), url(world))
    assert secret_words in author_page and "Overall remark" in author_page
    # ...another learner of the course sees only their own: not the author's work, score or reviews.
    other_page = page(browser(world, other.id), url(world))
    assert secret_words not in other_page
    assert own["submission"]["id"] not in other_page
    assert all(r["id"] not in other_page for r in own_reviews)
    assert essay(1) in other_page
    # Mentors and staff get the course's tools, not a learner's sections.
    for person in (world.mentor, world.staff, world.admin):
        html = page(browser(world, person.id), url(world))
        words = text_of(html)
        assert "Escalation queue" in words
        assert "Your score" not in words and "Reviews you received" not in words and secret_words not in html
    # Another course's learner and staff learn nothing; a signed-out browser is asked to sign in.
    for person in (world.outsider, other_course_staff(world)):
        page(browser(world, person.id), url(world), status=404)
    signed_out = world.app.test_client().get(url(world), headers=HTML)
    assert signed_out.status_code == 401
    assert secret_words not in signed_out.get_data(as_text=True)


def test_nobody_else_reaches_a_learners_scores_or_reviews(world: World) -> None:
    reviewed_world(world)
    author = world.learners[0]
    submission_id = progress_of(world, author)["submission"]["id"]
    reviews = author.get(f"/api/submissions/{submission_id}/reviews").get_json()["reviews"]
    for person in (world.learners[1], world.outsider, other_course_staff(world)):
        assert person.get(f"/api/submissions/{submission_id}").status_code == 404
        assert person.get(f"/api/submissions/{submission_id}/reviews").status_code == 404
        assert person.get(f"/api/courses/{world.course_id}/learners/{author.id}/record").status_code in (403, 404)
        client = browser(world, person.id)
        page(client, f"/records/{world.course_id}/{author.id}", status=404)
    # Another learner cannot appeal the author's reviews from the page either.
    intruder = browser(world, world.learners[1].id)
    sent = post_form(
        intruder, f"/submissions/{submission_id}/appeal", url(world), "appeal", {"review_id": reviews[0]["id"], "message": "x"}
    )
    assert sent.status_code == 404
    assert world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"] == []
    # Progress is a learner's own: staff and mentors are refused, another course's learner learns nothing.
    assert world.staff.get(f"/api/assignments/{world.assignment_id}/progress").status_code == 403
    assert world.outsider.get(f"/api/assignments/{world.assignment_id}/progress").status_code == 404


@pytest.fixture
def sampled_world(app: Any, client: Any) -> World:
    """Samples make up half of every reviewer's queue after the first three claims, and one of those is a sample."""
    world = build_world(app, client, calibration_share=0.5, reviews_to_give=4, reviews_required=2)
    added = world.staff.post(
        f"/api/assignments/{world.assignment_id}/calibration-samples", json={"text": essay(90), "scores": {"scope": 4, "risks": 3}}
    )
    assert added.status_code == 201
    world.extra["sample_id"] = added.get_json()["id"]
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    return world


def claim_shape(html: str) -> list[str]:
    """The review block's structure without its texts: tags, ids and field names in order."""
    block = re.search(r'<div id="claim">.*?</details>', html, re.S)
    assert block, html
    return re.findall(
        r'<(\w+)(?: [^>]*?(?:name|id)="([^"]+)")?', re.sub(r'value="[^"]*"', "", re.sub(r"claim[s]?/[^/]+/", "", block.group(0)))
    )


def test_a_staff_sample_is_served_like_peer_work_and_its_report_says_nothing_of_it(sampled_world: World) -> None:
    world = sampled_world
    learner = world.learners[0]
    client = browser(world, learner.id)
    shapes, sample_seen = [], False
    for _ in range(3):
        claimed = post_form(client, f"{url(world)}/claim", url(world), "claim", {})
        assert claimed.status_code == 303
        html = page(client, url(world))
        lowered = text_of(html).lower()
        assert "sample" not in lowered and "calibration" not in lowered and "staff" not in lowered
        shapes.append(claim_shape(html))
        with world.app.app_context():
            claim = db.session.query(ReviewClaim).filter_by(reviewer_id=learner.id, status="live").one()
            item = db.session.get(Submission, claim.submission_id)
            is_sample = item is not None and item.kind == STAFF_SAMPLE
        if is_sample:
            sample_seen = True
            sent = post_form(
                client, f"/review-claims/{claim.id}/report", url(world), "report", {"kind": "plagiarism", "message": "Seen it."}
            )
            assert sent.status_code == 303
            html = page(client, url(world))
            row = text_of(re.search(r'<table class="reflow" id="reports">.*?</table>', html, re.S).group(0))
            assert "Report: copied work" in row and "attempt" not in row.lower()
            assert "sample" not in text_of(html).lower()
        sent = post_form(client, f"/review-claims/{claim.id}/review", url(world), "review", {"scores.scope": "3", "scores.risks": "2"})
        assert sent.status_code == 303
        assert "Review sent. Thank you." in page(client, url(world))
    assert sample_seen, "one of the first three claims is a staff sample"
    assert shapes[0] == shapes[1] == shapes[2]


def test_review_form_errors_sit_beside_their_fields_and_keep_the_text(world: World) -> None:
    learner = world.learners[0]
    for i, person in enumerate(world.learners[:3]):
        assert world.submit(person, n=i).status_code == 201
    client = browser(world, learner.id)
    assert post_form(client, f"{url(world)}/claim", url(world), "claim", {}).status_code == 303
    html = page(client, url(world))
    claim_id = re.search(r'action="/review-claims/([^/]+)/review"', html).group(1)
    sent = post_form(
        client,
        f"/review-claims/{claim_id}/review",
        url(world),
        "review",
        {"scores.scope": "", "scores.risks": "9", "comments.scope": "Scope is clear.", "overall_comment": "A careful plan."},
    )
    assert sent.status_code == 303
    html = page(client, url(world))
    assert field_error(html, "review", "scores.scope") == "Give Scope a number of points from 0 to 4."
    assert "A careful plan." in html and "Scope is clear." in html
    # The number is there; the service refuses it beside the same field, in words.
    sent = post_form(client, f"/review-claims/{claim_id}/review", url(world), "review", {"scores.scope": "3", "scores.risks": "9"})
    html = page(client, url(world))
    assert field_error(html, "review", "scores.risks") == "Must be between 0 and 4."
    assert "scores." not in text_of(html) and "invalid_request" not in html  # no field names or codes in the words
    assert progress_of(world, learner)["reviews_given"] == 0


def test_the_review_form_offers_the_rubrics_level_descriptors(app: Any, client: Any) -> None:
    rubric = {
        "criteria": [
            {
                "key": "scope",
                "title": "Scope",
                "description": "Is it clear what is in and out?",
                "max_points": 2,
                "levels": [{"points": 0, "description": "Missing"}, {"points": 2, "description": "Every part named"}],
            },
            {"key": "risks", "title": "Risks", "description": "Are the main risks named?", "max_points": 4},
        ]
    }
    world = build_world(app, client, rubric=rubric)
    for i, person in enumerate(world.learners[:3]):
        assert world.submit(person, n=i).status_code == 201
    browser_ = browser(world, world.learners[0].id)
    assert post_form(browser_, f"{url(world)}/claim", url(world), "claim", {}).status_code == 303
    html = page(browser_, url(world))
    select = re.search(r'<select id="review-scores-scope" name="scores.scope"[^>]*>(.*?)</select>', html, re.S)
    assert select, html
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    assert options == [("", "Choose the points"), ("2", "2 points: Every part named"), ("1", "1 point"), ("0", "0 points: Missing")]
    # A criterion without levels keeps the number input.
    assert re.search(r'<input id="review-scores-risks" name="scores.risks" type="number"', html)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"MAX_FILE_BYTES": 2048}


def test_a_file_over_the_limit_is_reported_in_kilobytes_beside_the_file_field(world: World) -> None:
    learner = world.learners[0]
    big = b"word " * 1000  # 4.9 KB
    answer = learner.post(
        f"/api/assignments/{world.assignment_id}/submissions",
        data={"text": essay(0), "files": (io.BytesIO(big), "plan.txt")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 413
    message = answer.get_json()["error"]["message"]
    assert message == "The file 'plan.txt' is 4.9 KB; the limit is 2 KB. Send a smaller file."
    client = browser(world, learner.id)
    html = page(client, url(world))
    assert "each up to 2 KB" in html
    sent = post_form(client, f"{url(world)}/submit", url(world), "submit", {"text": essay(0), "files": (io.BytesIO(big), "plan.txt")})
    assert sent.status_code == 303
    html = page(client, url(world))
    assert field_error(html, "submit", "files") == message.replace("'", "&#39;")
    assert "bytes" not in text_of(html)
    assert essay(0) in html  # the text is kept; the file must be attached again
    assert "Attach your files again" in html
