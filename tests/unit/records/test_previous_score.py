"""previous_score on the progress and submission answers, and the record keeping the last released attempt while a
newer one is not released."""

from __future__ import annotations

from typing import Any

from tests.conftest import World, essay
from tests.unit.submissions.learner_world import progress_of, reviewed_world


def resubmit(world: World, learner: Any, n: int = 40) -> dict[str, Any]:
    answer = world.submit(learner, n=n)
    assert answer.status_code == 201, answer.get_json()
    return dict(answer.get_json())


def review_new_attempt(world: World, text: str, reviews: int) -> None:
    """Other learners review the new attempt (the least reviewed work, so the first they are handed)."""
    done = 0
    for reviewer in world.learners[1:]:
        claim = world.claim(reviewer)
        assert claim.status_code == 201, claim.get_json()
        body = claim.get_json()
        assert world.review(reviewer, body["claim_id"], {"scope": 1, "risks": 1}).status_code == 201
        done += body["item"]["text"] == text
        if done == reviews:
            return
    raise AssertionError("the new attempt was not handed out")


def project(world: World, caller: Any, learner: Any) -> dict[str, Any]:
    answer = caller.get(f"/api/courses/{world.course_id}/learners/{learner.id}/record")
    assert answer.status_code == 200, answer.get_json()
    (found,) = answer.get_json()["projects"]
    return dict(found)


def test_no_previous_score_without_an_earlier_released_attempt(world: World) -> None:
    learner = world.learners[0]
    assert progress_of(world, learner)["previous_score"] is None  # nothing submitted
    first = resubmit(world, learner, n=0)
    assert progress_of(world, learner)["previous_score"] is None
    assert learner.get(f"/api/submissions/{first['id']}").get_json()["previous_score"] is None
    # A second attempt before the first was ever released: still nothing released to keep.
    second = resubmit(world, learner, n=41)
    progress = progress_of(world, learner)
    assert progress["submission"]["attempt"] == 2 and progress["previous_score"] is None
    assert learner.get(f"/api/submissions/{second['id']}").get_json()["previous_score"] is None
    assert project(world, learner, learner)["submission_id"] == second["id"]


def test_previous_score_is_the_last_released_earlier_attempt_until_the_new_one_is_released(world: World) -> None:
    reviewed_world(world)
    learner = world.learners[0]
    before = progress_of(world, learner)
    old, old_id = before["score"], before["submission"]["id"]
    assert old["released"] is True and before["previous_score"] is None

    new = resubmit(world, learner)
    progress = progress_of(world, learner)
    assert progress["score"] is None
    expected = {**old, "attempt": 1, "submission_id": old_id}
    assert progress["previous_score"] == expected
    # The submission answer carries it for the author and for staff; the earlier attempt has none before it.
    assert learner.get(f"/api/submissions/{new['id']}").get_json()["previous_score"] == expected
    assert world.staff.get(f"/api/submissions/{new['id']}").get_json()["previous_score"] == expected
    assert world.staff.get(f"/api/submissions/{old_id}").get_json()["previous_score"] is None
    # The record keeps the released attempt, for the learner and for staff alike.
    for caller in (learner, world.staff):
        kept = project(world, caller, learner)
        assert kept["submission_id"] == old_id and kept["attempt"] == 1 and kept["status"] == "superseded"
        assert kept["score"]["value"] == old["value"] and kept["score"]["released"] is True
        assert kept["attempts"] == 2

    # Once the new attempt has its reviews (the reviews its author gave still count) it is released: the record
    # moves to it, and previous_score still names the earlier attempt.
    review_new_attempt(world, essay(40), reviews=2)
    progress = progress_of(world, learner)
    assert progress["score"]["released"] is True and progress["score"]["value"] is not None
    assert progress["previous_score"]["attempt"] == 1
    now = project(world, learner, learner)
    assert now["submission_id"] == new["id"] and now["attempt"] == 2
    assert now["score"]["value"] == progress["score"]["value"]


def test_previous_score_is_in_the_contract(world: World) -> None:
    document = world.client.get("/api/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for name in ("Progress", "Submission"):
        found = [s for key, s in schemas.items() if key.startswith(name) and "previous_score" in s.get("properties", {})]
        assert found, name
    record = [s for key, s in schemas.items() if key.startswith("RecordProject")]
    assert record and "attempt" in record[0]["properties"]
