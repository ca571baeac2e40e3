"""The learner's assignment page, state by state: nothing submitted, waiting for release, released (the score
explained, the reviews labelled), a new attempt that asks first and keeps the old score in view, and appeals."""

from __future__ import annotations

import re

from tests.conftest import World, essay
from tests.unit.submissions.learner_world import (
    browser,
    field_error,
    page,
    post_form,
    progress_of,
    reviewed_world,
    text_of,
)


def url(world: World) -> str:
    return f"/assignments/{world.assignment_id}"


def test_before_any_submission_the_page_says_what_to_do_and_asks_nothing(world: World) -> None:
    html = page(browser(world, world.learners[0].id), url(world))
    words = text_of(html)
    assert "You have not submitted yet" in words
    assert "Submit your work" in words and "Attempts used: 0 of 2" in words
    assert 'name="confirm"' not in html  # nothing to replace yet
    assert "Reviews you received" not in words and "Previous attempt" not in words


def test_waiting_for_release_says_what_is_still_owed(world: World) -> None:
    learner = world.learners[0]
    assert world.submit(learner, n=0).status_code == 201
    words = text_of(page(browser(world, learner.id), url(world)))
    assert "Attempt 1: not released yet" in words
    assert "Reviews for you to give: 2 more." in words
    assert "Reviews still to receive: 2 of 2." in words
    assert "Your score is released once your work has 2 reviews and you have given 2" in words
    assert "Your reviews appear once your score is released." in words
    assert not re.search(r"Your score is \d", words)


def test_released_score_is_explained_with_criteria_and_labelled_reviews(world: World) -> None:
    reviewed_world(world)
    learner = world.learners[0]
    progress = progress_of(world, learner)
    score = progress["score"]
    assert score["released"] is True and score["method"] == "calibrated"
    html = page(browser(world, learner.id), url(world))
    words = text_of(html)

    low, high = score["interval"]
    total = f"Your score is {score['value']:.1f} out of {score['max']:g}."
    assert total in words
    if f"{low:.1f}" != f"{high:.1f}":
        assert f"Careful graders would most likely give between {low:.1f} and {high:.1f} (a 95% interval)" in words
    else:
        assert f"Careful graders would most likely give {score['value']:.1f} as well" in words
    assert "this is the calibrated score, which corrects for reviewers who grade high or low." in words
    # Each criterion against the rubric: title, value / max, interval.
    table = re.search(r'<table class="reflow" id="score-criteria">.*?</table>', html, re.S)
    assert table, html
    cells = text_of(table.group(0))
    for title, key in (("Scope", "scope"), ("Risks", "risks")):
        value = score["criteria"][key]
        assert f"{title} {value['value']:.1f} / 4 {value['interval'][0]:.1f}–{value['interval'][1]:.1f}" in cells

    # The reviews: labelled in order, under the criterion titles, with comments and how much each counted.
    received = learner.get(f"/api/submissions/{progress['submission']['id']}/reviews").get_json()["reviews"]
    assert len(received) >= 2
    shares = []
    for number, review in enumerate(received, start=1):
        card = re.search(rf'<article class="review" id="review-{number}">.*?</article>', html, re.S)
        assert card, number
        card_words = text_of(card.group(0))
        assert card_words.startswith(f"Review {number} ")
        assert f"Scope {review['scores']['scope']:g} / 4 {review['comments']['scope']}" in card_words
        assert f"Risks {review['scores']['risks']:g} / 4 {review['comments']['risks']}" in card_words
        assert f"Overall: {review['overall_comment']}" in card_words
        found = re.search(r"(\d+)% of your score", card_words)
        assert found, card_words
        shares.append(int(found.group(1)))
    assert abs(sum(shares) - 100) <= len(shares)  # rounded shares of one whole
    # Raw keys are gone, and the reviewers stay anonymous.
    assert not re.search(r"\b(scope|risks): ?\d", words)  # "scope: 4.0" was how reviews read
    for reviewer in world.learners[1:]:
        assert reviewer.id not in html and f"Learner {world.learners.index(reviewer)}" not in words
    # The appeal form names the reviews by the same labels.
    options = re.findall(r'<option value="([^"]+)"[^>]*>(Review \d+)</option>', html)
    assert options == [(r["id"], f"Review {n}") for n, r in enumerate(received, start=1)]


def test_a_new_attempt_asks_first_then_keeps_the_released_score_as_previous(world: World) -> None:
    reviewed_world(world)
    learner = world.learners[0]
    before = progress_of(world, learner)
    old = before["score"]
    client = browser(world, learner.id)
    html = page(client, url(world))
    words = text_of(html)
    # In words, before sending: the score, the reviews, the attempts.
    assert (
        f"Your released score {old['value']:.1f} (out of {old['max']:g}) stays on your record until the new attempt is scored and released."
        in words
    )
    assert "needs 2 new reviews before it is scored" in words
    assert "This is your last attempt: you will have no attempts left." in words
    assert re.search(r'<input id="submit-confirm" name="confirm" type="checkbox" value="1" required', html)

    # Without the tick nothing is sent: the text comes back with the sentence beside the box.
    sent = post_form(client, f"{url(world)}/submit", url(world), "submit", {"text": essay(40)})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"{url(world)}#form-submit")
    html = page(client, url(world))
    assert field_error(html, "submit", "confirm") == "Tick the box to confirm that your new attempt replaces attempt 1."
    assert essay(40) in html
    assert progress_of(world, learner)["attempts"] == 1

    sent = post_form(client, f"{url(world)}/submit", url(world), "submit", {"text": essay(40), "confirm": "1"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(url(world))
    html = page(client, url(world))
    words = text_of(html)
    assert "Attempt 2 submitted." in words
    assert "Attempt 2: not released yet" in words
    previous = re.search(r'<section id="previous-attempt".*?</section>', html, re.S)
    assert previous, html
    previous_words = text_of(previous.group(0))
    assert previous_words.startswith("Previous attempt (attempt 1)")
    assert f"Your score is {old['value']:.1f} out of {old['max']:g}." in previous_words
    assert "stays on your record until attempt 2 is scored and released" in previous_words
    # The old reviews stay readable under the previous attempt, without an appeal form.
    assert "Reviews of your previous attempt (attempt 1)" in words
    assert re.search(r'id="previous-reviews">.*Review 1.*Review 2', html, re.S)
    assert 'action="/submissions/' not in html

    # The API says the same: previous_score on the progress and the submission, the record keeps attempt 1.
    after = progress_of(world, learner)
    assert after["score"] is None and after["submission"]["attempt"] == 2
    assert after["previous_score"]["attempt"] == 1 and after["previous_score"]["value"] == old["value"]
    assert after["previous_score"]["submission_id"] == before["submission"]["id"]
    record = learner.get(f"/api/courses/{world.course_id}/learners/{learner.id}/record").get_json()
    (project,) = record["projects"]
    assert project["attempt"] == 1 and project["submission_id"] == before["submission"]["id"]
    assert project["score"]["value"] == old["value"] and project["attempts"] == 2
    record_page = text_of(page(client, f"/records/{world.course_id}/{learner.id}"))
    assert "previous attempt: attempt 1; attempt 2 is not released yet" in record_page

    # The page for the last attempt says no more attempts are left.
    assert "You have used all 2 attempts for this assignment." in words


def test_appeals_and_reports_are_listed_with_their_state_and_outcome(world: World) -> None:
    reviewed_world(world)
    learner = world.learners[0]
    client = browser(world, learner.id)
    progress = progress_of(world, learner)
    submission_id = progress["submission"]["id"]
    reviews = learner.get(f"/api/submissions/{submission_id}/reviews").get_json()["reviews"]
    appealed = post_form(
        client,
        f"/submissions/{submission_id}/appeal",
        url(world),
        "appeal",
        {"review_id": reviews[1]["id"], "message": "It ignored my risks section."},
    )
    assert appealed.status_code == 303
    html = page(client, url(world))
    table = re.search(r'<table class="reflow" id="reports">.*?</table>', html, re.S)
    assert table, html
    row = text_of(table.group(0))
    assert "Appeal of an unfair review: Review 2" in row
    assert "Waiting for a mentor" in row and "not decided yet" in row

    # A mentor decides; the learner reads the outcome and its note.
    (case,) = world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"]
    assert world.mentor.post(f"/api/escalations/{case['id']}/claim").status_code == 200
    resolved = world.mentor.post(
        f"/api/escalations/{case['id']}/resolve", json={"action": "dismiss", "note": "The review did read the risks section."}
    )
    assert resolved.status_code == 200, resolved.get_json()
    row = text_of(re.search(r'<table class="reflow" id="reports">.*?</table>', page(client, url(world)), re.S).group(0))
    assert "Decided" in row and "Dismissed: nothing was changed: The review did read the risks section." in row

    # After a new attempt the appeal is still listed, now naming the attempt its review belonged to.
    sent = post_form(client, f"{url(world)}/submit", url(world), "submit", {"text": essay(41), "confirm": "1"})
    assert sent.status_code == 303
    row = text_of(re.search(r'<table class="reflow" id="reports">.*?</table>', page(client, url(world)), re.S).group(0))
    assert "Appeal of an unfair review: Review 2 of attempt 1" in row


def test_a_refused_submission_keeps_the_text_with_the_reason_beside_the_answer(world: World) -> None:
    learner = world.learners[0]
    client = browser(world, learner.id)
    junk = "....... ....."
    refused = learner.post(f"/api/assignments/{world.assignment_id}/submissions", json={"text": junk}).get_json()
    reasons = [r["message"] for r in refused["error"]["details"]["reasons"]]
    sent = post_form(client, f"{url(world)}/submit", url(world), "submit", {"text": junk})
    assert sent.status_code == 303  # never an answer on /submit: a reload sends nothing again
    html = page(client, url(world))
    assert field_error(html, "submit", "text") == " ".join(reasons).replace("'", "&#39;")
    assert "Your work was not accepted, and it did not use an attempt." in html
    assert re.search(r'<textarea id="submit-text" name="text"[^>]*>\.{7} \.{5}</textarea>', html)
    assert progress_of(world, learner)["attempts"] == 0
