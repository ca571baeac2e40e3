"""Every change of a case moves its version: its answers carry it as an ETag, and a change sent with an If-Match
that names another version is refused with the case as it is now. The pages send it from a hidden field and keep
the form (and the mentor's note) when their copy of the case is out of date."""

from __future__ import annotations

import re

from tests.conftest import World
from tests.unit.moderation.lease_world import events, open_case, second_mentor, stored
from tests.unit.moderation.test_leases import version_on
from tests.unit.submissions.learner_world import browser, page, post_form, text_of


def etag_of(answer: object) -> int:
    tag = answer.headers["ETag"]  # type: ignore[attr-defined]
    assert re.fullmatch(r'"\d+"', tag), tag
    return int(tag.strip('"'))


def test_every_case_answer_carries_its_version_and_each_change_moves_it(world: World) -> None:
    case_id = open_case(world)
    seen = world.mentor.get(f"/api/escalations/{case_id}")
    first = etag_of(seen)
    assert seen.get_json()["version"] == first
    versions = [first]
    for step in ("claim", "renew", "release", "claim"):
        answer = world.mentor.post(f"/api/escalations/{case_id}/{step}")
        assert answer.status_code == 200, (step, answer.get_json())
        assert etag_of(answer) == answer.get_json()["version"] == stored(world, case_id)["version"]
        versions.append(etag_of(answer))
    # A claim that changes nothing (the holder asks again) leaves the version where it was.
    assert etag_of(world.mentor.post(f"/api/escalations/{case_id}/claim")) == versions[-1]
    resolved = world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Nothing to change."})
    versions.append(etag_of(resolved))
    assert versions == sorted(set(versions)) and len(versions) == 6
    assert world.mentor.get(f"/api/escalations/{case_id}").headers["ETag"] == f'"{versions[-1]}"'


def test_a_stale_if_match_is_refused_with_the_case_as_it_is_now(world: World) -> None:
    case_id = open_case(world)
    opened = etag_of(world.mentor.get(f"/api/escalations/{case_id}"))
    assert world.mentor.post(f"/api/escalations/{case_id}/claim", headers={"If-Match": f'"{opened}"'}).status_code == 200

    stale = world.mentor.post(
        f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Looks fine."}, headers={"If-Match": f'"{opened}"'}
    )
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["code"] == "conflict" and "Reload it" in error["message"]
    assert error["details"]["case"]["status"] == "claimed" and error["details"]["case"]["claimed_by"] == world.mentor.id
    assert error["details"]["case"]["version"] == error["details"]["version"] == stored(world, case_id)["version"]
    assert stored(world, case_id)["status"] == "claimed" and events(world, case_id, "case.dismiss") == []

    for sent in ("nonsense", '"0"', f'W/"{opened}"'):
        refused = world.mentor.post(f"/api/escalations/{case_id}/renew", headers={"If-Match": sent})
        assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "conflict", sent
    for form in ('W/"{}"', '"0", "{}"'):  # a weak tag, and a list naming the current version
        sent = form.format(stored(world, case_id)["version"])
        assert world.mentor.post(f"/api/escalations/{case_id}/renew", headers={"If-Match": sent}).status_code == 200, sent
    assert world.mentor.post(f"/api/escalations/{case_id}/renew", headers={"If-Match": "*"}).status_code == 200

    done = world.mentor.post(
        f"/api/escalations/{case_id}/resolve",
        json={"action": "dismiss", "note": "Looks fine."},
        headers={"If-Match": f'"{stored(world, case_id)["version"]}"'},
    )
    assert done.status_code == 200 and done.get_json()["status"] == "resolved"


def test_a_claim_sent_after_another_mentor_claimed_is_a_conflict_and_without_if_match_is_not_checked(world: World) -> None:
    case_id = open_case(world)
    other = second_mentor(world)
    opened = etag_of(world.mentor.get(f"/api/escalations/{case_id}"))
    assert other.post(f"/api/escalations/{case_id}/claim").status_code == 200
    stale = world.mentor.post(f"/api/escalations/{case_id}/claim", headers={"If-Match": f'"{opened}"'})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"
    assert stale.get_json()["error"]["details"]["case"]["claimed_by"] == other.id
    # An older client without If-Match gets the rule's own answer.
    plain = world.mentor.post(f"/api/escalations/{case_id}/claim")
    assert plain.status_code == 409 and plain.get_json()["error"]["code"] == "already_claimed"
    # Nobody learns anything through If-Match they could not see: an outsider still finds no case.
    assert world.outsider.post(f"/api/escalations/{case_id}/claim", headers={"If-Match": '"0"'}).status_code == 404
    # The learner who opened it, with a stale version, is told only their own view of it.
    mine = world.learners[0].post(f"/api/escalations/{case_id}/claim", headers={"If-Match": '"0"'})
    assert mine.status_code == 409
    assert set(mine.get_json()["error"]["details"]["case"]) == {"id", "kind", "status", "created_at", "outcome"}


def test_a_stale_page_keeps_the_decision_and_its_note_and_says_to_reload(world: World) -> None:
    case_id = open_case(world)
    url = f"/escalations/{case_id}"
    mentor = browser(world, world.mentor.id)
    assert post_form(mentor, f"{url}/claim", url, "claim", {"if_match": version_on(page(mentor, url))}).status_code == 303
    shown = version_on(page(mentor, url))
    # Meanwhile the case changes (the mentor renewed it from another tab).
    assert world.mentor.post(f"/api/escalations/{case_id}/renew").status_code == 200

    note = "The reviewer's remark about the budget was fair; nothing to change."
    sent = post_form(mentor, f"{url}/resolve", url, "resolve", {"if_match": shown, "action": "dismiss", "note": note})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("#form-resolve")
    assert stored(world, case_id)["status"] == "claimed"
    html = page(mentor, url)
    assert "This case changed since you opened it. Reload it" in text_of(html)
    assert re.search(r'<textarea id="resolve-note" name="note"[^>]*>' + re.escape(note.replace("'", "&#39;")) + "</textarea>", html)
    assert version_on(html) == str(stored(world, case_id)["version"])  # the kept form now names the case as it is

    again = post_form(mentor, f"{url}/resolve", url, "resolve", {"if_match": version_on(html), "action": "dismiss", "note": note})
    assert again.status_code == 303 and stored(world, case_id)["status"] == "resolved"


def test_a_stale_claim_from_the_page_is_kept_with_a_sentence(world: World) -> None:
    case_id = open_case(world)
    url = f"/escalations/{case_id}"
    mentor = browser(world, world.mentor.id)
    shown = version_on(page(mentor, url))
    assert second_mentor(world).post(f"/api/escalations/{case_id}/claim").status_code == 200
    sent = post_form(mentor, f"{url}/claim", url, "claim", {"if_match": shown})
    assert sent.status_code == 303
    html = page(mentor, url)
    assert "This case changed since you opened it." in text_of(html)
    assert "Another mentor is working on this case." in text_of(html)
    assert stored(world, case_id)["claimed_by"] != world.mentor.id


def test_a_note_for_a_case_taken_over_meanwhile_is_not_lost(world: World) -> None:
    case_id = open_case(world)
    url = f"/escalations/{case_id}"
    mentor = browser(world, world.mentor.id)
    assert post_form(mentor, f"{url}/claim", url, "claim", {"if_match": version_on(page(mentor, url))}).status_code == 303
    shown = version_on(page(mentor, url))
    assert world.staff.post(f"/api/escalations/{case_id}/takeover").status_code == 200

    note = "I checked both texts line by line; they share only the prompt."
    sent = post_form(mentor, f"{url}/resolve", url, "resolve", {"if_match": shown, "action": "dismiss", "note": note})
    assert sent.status_code == 303
    html = page(mentor, url)
    assert "you can no longer decide this case" in text_of(html)
    assert re.search(r'<textarea id="resolve-note" name="note"[^>]*readonly[^>]*>' + re.escape(note) + "</textarea>", html)
    assert 'id="resolve"' not in html  # no form to send: the decision is the staff member's now
    assert stored(world, case_id)["claimed_by"] == world.staff.id
