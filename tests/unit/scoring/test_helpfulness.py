"""Helpfulness ratings: after release the author rates each review received, 1 to 5 with an optional note;
anonymous both ways (the author never learns who reviewed, the reviewer sees only an aggregate from 3 ratings
on); a staff sample's review is never rated; staff read every rating. Every role is tried on every endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from reviews.allocation.models import Review
from reviews.kernel.audit import AuditEvent
from reviews.kernel.db import db
from reviews.scoring.helpfulness import helpfulness_summary
from reviews.scoring.models import HelpfulnessRating
from reviews.submissions.models import LEARNER_WORK, STAFF_SAMPLE, Submission
from tests.conftest import Caller, World, build_world, essay
from tests.unit.submissions.learner_world import HTML, browser, field_error, page, post_form, text_of


@pytest.fixture
def rated_world(app: Flask, client: FlaskClient) -> World:
    """Five learners each review three others' work, so every score is released and every reviewer has three
    reviews, each of a different author's work."""
    world = build_world(app, client, reviews_required=2, reviews_to_give=3)
    world.submit_and_review(reviews_each=3)
    return world


def own_submission(world: World, learner: Caller) -> str:
    progress = learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()
    assert progress["score"]["released"] is True, progress
    return str(progress["submission"]["id"])


def received(world: World, learner: Caller) -> tuple[str, list[str]]:
    submission_id = own_submission(world, learner)
    listed = learner.get(f"/api/submissions/{submission_id}/reviews").get_json()
    assert listed["released"] and listed["reviews"]
    return submission_id, [r["id"] for r in listed["reviews"]]


def rating_path(submission_id: str, review_id: str) -> str:
    return f"/api/submissions/{submission_id}/reviews/{review_id}/rating"


def put(caller: Caller, path: str, body: dict[str, Any]) -> Any:
    return caller.request("PUT", path, json=body)


def reviewer_of(world: World, review_id: str) -> Caller:
    with world.app.app_context():
        reviewer_id = db.session.get_one(Review, review_id).reviewer_id
    return next(learner for learner in world.learners if learner.id == reviewer_id)


def test_the_author_rates_a_review_and_the_last_rating_wins(rated_world: World) -> None:
    world, author = rated_world, rated_world.learners[0]
    submission_id, (first, *_) = received(world, author)
    path = rating_path(submission_id, first)
    given = put(author, path, {"rating": 4, "note": "  The milestone advice was concrete.  "})
    assert given.status_code == 200, given.get_json()
    assert given.get_json()["rating"] == 4 and given.get_json()["note"] == "The milestone advice was concrete."
    assert set(given.get_json()) == {"review_id", "rating", "note", "updated_at"}  # nothing of the reviewer
    changed = put(author, path, {"rating": 2})
    assert changed.status_code == 200 and changed.get_json()["rating"] == 2 and changed.get_json()["note"] == ""
    mine = author.get(path).get_json()
    assert (mine["rating"], mine["note"], "reviewer_id" in mine) == (2, "", False)
    with world.app.app_context():
        assert db.session.scalar(select(func.count(HelpfulnessRating.id))) == 1
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "review.rated")).all()
        assert [e.data["rating"] for e in events] == [4, 2] and {e.actor_id for e in events} == {author.id}
    staff_view = world.staff.get(path).get_json()
    assert staff_view["reviewer_id"] == reviewer_of(world, first).id and staff_view["submission_id"] == submission_id


def test_who_may_rate_and_read_a_rating(rated_world: World) -> None:
    world, author = rated_world, rated_world.learners[0]
    submission_id, (first, second, *_) = received(world, author)
    path = rating_path(submission_id, first)
    reviewer = reviewer_of(world, first)
    other = next(learner for learner in world.learners[1:] if learner is not reviewer)
    body = {"rating": 5}
    assert put(author, path, body).status_code == 200
    # Another learner, the reviewer of that very review and a learner of another course: the work does not exist.
    for person in (other, reviewer, world.outsider):
        assert put(person, path, body).status_code == 404
        assert person.get(path).status_code == 404
    # Mentors and staff see the work but do not rate; a mentor does not read ratings either.
    for person in (world.mentor, world.staff, world.admin):
        refused = put(person, path, body)
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert world.mentor.get(path).status_code == 403
    assert world.staff.get(path).status_code == 200
    # Signed out.
    assert world.client.put(path, json=body).status_code == 401
    assert world.client.get(path).status_code == 401
    # A review of someone else's work, named under one's own submission, is no review of it.
    _, elsewhere = received(world, other)
    assert put(author, rating_path(submission_id, elsewhere[0]), body).status_code == 404
    assert put(author, rating_path(submission_id, "no-such-review"), body).status_code == 404
    # Not rated yet: nothing to read.
    assert author.get(rating_path(submission_id, second)).status_code == 404
    with world.app.app_context():
        assert db.session.scalar(select(func.count(HelpfulnessRating.id))) == 1


BAD_RATINGS: list[tuple[dict[str, Any], str]] = [
    ({"rating": 0}, "rating"),
    ({"rating": 6}, "rating"),
    ({"rating": "5"}, "rating"),
    ({"rating": 4.5}, "rating"),
    ({"rating": True}, "rating"),
    ({}, "rating"),
    ({"rating": 3, "note": "x" * 501}, "note"),
    ({"rating": 3, "note": 7}, "note"),
]


def test_a_bad_rating_or_note_is_refused_and_500_characters_with_blanks_are_kept(rated_world: World) -> None:
    author = rated_world.learners[0]
    submission_id, (first, *_) = received(rated_world, author)
    for body, field in BAD_RATINGS:
        refused = put(author, rating_path(submission_id, first), body)
        assert refused.status_code == 422 and field in refused.get_json()["error"]["details"]["fields"], (body, refused.get_json())
    assert author.get(rating_path(submission_id, first)).status_code == 404  # nothing was stored
    note = "n" * 500
    given = put(author, rating_path(submission_id, first), {"rating": 3, "note": f"\n  {note}  \n"})
    assert given.status_code == 200 and given.get_json()["note"] == note


def test_no_rating_before_release(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, reviews_required=2, reviews_to_give=3)
    world.submit_and_review(reviews_each=2)  # each still owes a review: nothing is released
    author = world.learners[0]
    progress = author.get(f"/api/assignments/{world.assignment_id}/progress").get_json()
    assert progress["score"]["released"] is False
    with app.app_context():
        review_id = db.session.scalars(select(Review.id).where(Review.submission_id == progress["submission"]["id"])).first()
    refused = put(author, rating_path(progress["submission"]["id"], str(review_id)), {"rating": 5})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_released"


def test_a_staff_samples_review_is_never_rated(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, calibration_share=0.5, reviews_to_give=4, reviews_required=2)
    added = world.staff.post(
        f"/api/assignments/{world.assignment_id}/calibration-samples", json={"text": essay(90), "scores": {"scope": 4, "risks": 3}}
    )
    assert added.status_code == 201
    sample_id = added.get_json()["id"]
    world.submit_and_review(reviews_each=3)  # one of everyone's first three claims is the sample
    with app.app_context():
        sample_reviews = db.session.scalars(select(Review).where(Review.submission_id == sample_id)).all()
        pairs = [(r.id, r.reviewer_id) for r in sample_reviews]
    assert pairs
    review_id, reviewer_id = pairs[0]
    reviewer = next(learner for learner in world.learners if learner.id == reviewer_id)
    own = reviewer.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    for person, submission_id, status in (
        (world.staff, sample_id, 403),  # the sample's author is staff: staff do not rate
        (world.admin, sample_id, 403),
        (reviewer, sample_id, 404),  # a learner never sees a sample as such
        (reviewer, own, 404),  # nor rates it under their own work
        (world.learners[0], own, 404),
    ):
        assert put(person, rating_path(submission_id, review_id), {"rating": 1}).status_code == status
    assert world.staff.get(rating_path(sample_id, review_id)).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(HelpfulnessRating.id))) == 0
        kinds = {k for (k,) in db.session.execute(select(Submission.kind).join(Review, Review.submission_id == Submission.id))}
    assert kinds == {LEARNER_WORK, STAFF_SAMPLE}


def rate_everything(world: World, points: dict[str, int]) -> None:
    """Every author rates every review they received: ``points`` by reviewer id (3 when not named)."""
    for author in world.learners:
        submission_id, review_ids = received(world, author)
        for review_id in review_ids:
            rating = points.get(reviewer_of(world, review_id).id, 3)
            answer = put(author, rating_path(submission_id, review_id), {"rating": rating, "note": f"From {author.email}."})
            assert answer.status_code == 200, answer.get_json()


def test_a_reviewer_sees_only_an_aggregate_from_three_ratings_on(rated_world: World) -> None:
    world = rated_world
    reviewer = world.learners[1]
    mine = f"/api/assignments/{world.assignment_id}/helpfulness/mine"
    assert reviewer.get(mine).get_json() == {"ratings": 0, "mean": None, "shown_from": 3}
    # Two ratings: counted, but their mean would tell too much.
    with world.app.app_context():
        review_ids = db.session.scalars(select(Review.id).where(Review.reviewer_id == reviewer.id).order_by(Review.created_at)).all()
        authors = {rid: db.session.get_one(Submission, db.session.get_one(Review, rid).submission_id).author_id for rid in review_ids}
    assert len(review_ids) == 3
    by_id = {learner.id: learner for learner in world.learners}
    for review_id, rating in zip(review_ids[:2], (5, 4), strict=True):
        author = by_id[authors[review_id]]
        submission_id = own_submission(world, author)
        assert put(author, rating_path(submission_id, review_id), {"rating": rating, "note": "Secret note."}).status_code == 200
    assert reviewer.get(mine).get_json() == {"ratings": 2, "mean": None, "shown_from": 3}
    author = by_id[authors[review_ids[2]]]
    assert put(author, rating_path(own_submission(world, author), review_ids[2]), {"rating": 4}).status_code == 200
    assert reviewer.get(mine).get_json() == {"ratings": 3, "mean": 4.3, "shown_from": 3}
    # Only learners have their reviews rated.
    for person in (world.staff, world.mentor):
        assert person.get(mine).status_code == 403
    assert world.outsider.get(mine).status_code == 404
    # The reviewer's page says the aggregate, and nothing per review, no note, no author.
    html = page(browser(world, reviewer.id), f"/assignments/{world.assignment_id}")
    words = text_of(html)
    assert "Authors rated your reviews in this assignment 4.3 of 5 for helpfulness on average (3 ratings)." in words
    assert "Secret note." not in html and all(rid not in html for rid in review_ids)
    assert all(learner.email not in html for learner in world.learners if learner is not reviewer)


def test_staff_read_every_rating_with_its_note(rated_world: World) -> None:
    world = rated_world
    careful, careless = world.learners[1], world.learners[2]
    rate_everything(world, {careful.id: 5, careless.id: 1})
    listed = world.staff.get(f"/api/assignments/{world.assignment_id}/helpfulness")
    assert listed.status_code == 200
    body = listed.get_json()
    means = {r["reviewer_id"]: (r["mean"], r["ratings"]) for r in body["reviewers"]}
    assert means[careful.id] == (5.0, 3) and means[careless.id] == (1.0, 3)
    assert len(body["ratings"]) == 15 and all(r["note"].startswith("From learner") for r in body["ratings"])
    with world.app.app_context():
        assert helpfulness_summary(db.session, world.assignment_id) == {r: (m, n) for r, (m, n) in means.items()}
    assert world.mentor.get(f"/api/assignments/{world.assignment_id}/helpfulness").status_code == 403
    assert world.learners[0].get(f"/api/assignments/{world.assignment_id}/helpfulness").status_code == 404
    assert world.outsider.get(f"/api/assignments/{world.assignment_id}/helpfulness").status_code == 404
    # The reviewer view shows each review's rating with its note, and each reviewer's mean.
    html = page(browser(world, world.staff.id), f"/assignments/{world.assignment_id}/reviewers")
    words = text_of(html)
    assert "Authors rated their reviews 5.0 of 5 for helpfulness on average (3 ratings)." in words
    assert "Authors rated their reviews 1.0 of 5" in words
    assert f"From {world.learners[0].email}." in html and "1 of 5 (not helpful)" in words
    page(browser(world, world.mentor.id), f"/assignments/{world.assignment_id}/reviewers", status=403)


def test_the_author_rates_from_the_assignment_page(rated_world: World) -> None:
    world, author = rated_world, rated_world.learners[0]
    submission_id, (first, *_) = received(world, author)
    web = browser(world, author.id)
    back = f"/assignments/{world.assignment_id}"
    html = page(web, back)
    assert "How helpful was Review 1?" in html and "How helpful was Review 3?" in html
    action = f"/submissions/{submission_id}/reviews/{first}/rating"
    form_id = f"rate-{first}"
    # A rating that is not one: the page says so by the box and keeps the note.
    refused = post_form(web, action, back, form_id, {"rating": "", "note": "Kept note."})
    assert refused.status_code == 303
    html = page(web, back)
    assert field_error(html, form_id, "rating").startswith("Choose how helpful the review was")
    assert "Kept note.</textarea>" in html
    too_long = post_form(web, action, back, form_id, {"rating": "4", "note": "y" * 501})
    assert too_long.status_code == 303
    assert field_error(page(web, back), form_id, "note").startswith("Keep the note to 500 characters")
    done = post_form(web, action, back, form_id, {"rating": "4", "note": "Pointed at my missing dates."})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"#form-{form_id}")
    html = page(web, back)
    assert "You rated this review 4 of 5 (very helpful). You can change it." in text_of(html)
    assert author.get(rating_path(submission_id, first)).get_json()["note"] == "Pointed at my missing dates."
    # Another learner cannot post to it, even with a page of their own.
    other = browser(world, world.learners[1].id)
    assert post_form(other, action, back, form_id, {"rating": "1"}).status_code == 404
    assert author.get(rating_path(submission_id, first)).get_json()["rating"] == 4
    # Signed out: nothing is rated.
    assert world.app.test_client().post(action, data={"rating": "1"}, headers=HTML).status_code in (400, 401)
    assert author.get(rating_path(submission_id, first)).get_json()["rating"] == 4
