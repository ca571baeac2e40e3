"""The evidence of every kind of case, in the API (``details``) and on the case page, and who may see it."""

from __future__ import annotations

import html
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import World, build_world, make_app
from tests.unit.integrity.test_services import LIGHT_REWRITE, ORIGINAL


def cases_of(world: World, kind: str) -> list[dict[str, Any]]:
    cases = world.mentor.get(f"/api/courses/{world.course_id}/escalations?status=all").get_json()["cases"]
    return [c for c in cases if c["kind"] == kind]


def submission_id(world: World, learner: Any) -> str:
    return str(learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"])


def copied_after_review(world: World) -> str:
    """Learner 0 writes ORIGINAL; learner 1 is shown it in a review claim, then submits a light rewrite of it."""
    a, b = world.learners[:2]
    assert world.submit(a, text=ORIGINAL).status_code == 201
    assert world.submit(b, n=1).status_code == 201
    claim = world.claim(b).get_json()
    assert claim["item"]["text"] == ORIGINAL
    assert world.submit(b, text=LIGHT_REWRITE).status_code == 201
    (case,) = cases_of(world, "similarity")
    return str(case["id"])


def marked(page: str) -> list[str]:
    """The texts inside <mark> on a page, unescaped."""
    return [html.unescape(part.split("</mark>", 1)[0]) for part in page.split("<mark>")[1:]]


def test_similarity_pair_shows_score_both_texts_with_passages_authors_and_exposures(world: World) -> None:
    case_id = copied_after_review(world)
    details = world.mentor.get(f"/api/escalations/{case_id}").get_json()["details"]
    assert details["type"] == "pair" and details["score"] >= 0.35
    assert 0 < details["containment_earlier"] <= 1 and 0 < details["containment_later"] <= 1
    earlier, later = details["earlier"], details["later"]
    assert earlier["author"]["name"] == "Learner 0" and later["author"]["name"] == "Learner 1"
    assert earlier["text"] == ORIGINAL and later["text"] == LIGHT_REWRITE
    assert earlier["submitted_at"] < later["submitted_at"] and later["attempt"] == 2
    assert earlier["passages"] and len(earlier["passages"]) == len(later["passages"])
    for (a0, a1), (b0, b1) in zip(earlier["passages"], later["passages"], strict=True):
        # A matched passage reads alike on both sides (same words, maybe other case and spacing).
        assert ORIGINAL[a0:a1].split()[-1].lower().strip(".,") == LIGHT_REWRITE[b0:b1].split()[-1].lower().strip(".,")
    (shown,) = details["exposures"]
    assert shown["viewer"]["name"] == "Learner 1" and shown["author"]["name"] == "Learner 0"
    assert shown["shown_work"] == "the earlier work" and shown["before_submitting"] is True
    assert shown["seconds_from_submitting"] < 0 and "before they submitted" in shown["when"]
    assert shown["claim"] == "their review claim is open"

    page = world.mentor.get(f"/escalations/{case_id}").get_data(as_text=True)
    assert 'id="similarity-score"' in page and f"{round(100 * details['score'])}%" in page
    earlier_part, later_part = page.split('data-side="later"')
    assert "Learner 0" in earlier_part and "Learner 1" in later_part
    marks_earlier, marks_later = marked(earlier_part), marked(later_part)
    assert marks_earlier and marks_later
    assert [ORIGINAL[a:b] for a, b in earlier["passages"]] == marks_earlier
    assert [LIGHT_REWRITE[a:b] for a, b in later["passages"]] == marks_later
    assert 'id="exposures"' in page and "before they submitted" in page


def test_highlighted_texts_are_escaped(world: World) -> None:
    a, b = world.learners[:2]
    hostile = ORIGINAL.replace("locked cupboard", "<script>alert(1)</script> locked cupboard & shelf")
    assert world.submit(a, text=hostile).status_code == 201
    assert world.submit(b, text=hostile.replace("Borrowers", "People")).status_code == 201
    (case,) = cases_of(world, "similarity")
    page = world.mentor.get(f"/escalations/{case['id']}").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&amp; shelf" in page
    assert "<mark>" in page


def test_one_copy_of_two_earlier_works_opens_one_case(world: World) -> None:
    """The finding: a copy matching two earlier works opened one case per earlier work."""
    a, b, c = world.learners[:3]
    assert world.submit(a, text=ORIGINAL).status_code == 201
    assert world.submit(c, text=ORIGINAL + " Our street agrees.").status_code == 201
    first = cases_of(world, "similarity")
    assert len(first) == 1
    assert world.submit(b, text=LIGHT_REWRITE).status_code == 201
    cases = [case for case in cases_of(world, "similarity") if case["subject"]["type"] == "submission"]
    assert len(cases) == 2, "one case for c's copy of a, one for b's copy (the three also make a cluster)"
    copy = submission_id(world, b)
    (of_b,) = [case for case in cases if case["submission_id"] == copy]
    details = world.mentor.get(f"/api/escalations/{of_b['id']}").get_json()["details"]
    names = {details["earlier"]["author"]["name"], *(m["author"]["name"] for m in details["also_matched"])}
    assert names == {"Learner 0", "Learner 2"}
    assert set(of_b["subject"]["ids"]) == {submission_id(world, a), submission_id(world, c), copy}


def test_cluster_case_lists_members_pairs_and_the_strongest_pair_highlighted(app: Flask, client: Any) -> None:
    world = build_world(app, client, n_learners=5)
    for learner in world.learners[:4]:
        text = ORIGINAL if learner is world.learners[0] else LIGHT_REWRITE + f" Signed by {learner.email}."
        assert world.submit(learner, text=text).status_code == 201
    (cluster,) = [c for c in cases_of(world, "similarity") if c["subject"]["type"] == "cluster"]
    details = world.mentor.get(f"/api/escalations/{cluster['id']}").get_json()["details"]
    assert details["type"] == "cluster"
    assert [m["author"]["name"] for m in details["members"]] == ["Learner 0", "Learner 1", "Learner 2", "Learner 3"]
    assert details["pairs"] and all(p["score"] >= 0.35 for p in details["pairs"])
    strongest = details["strongest_pair"]
    assert strongest["earlier"]["passages"] and strongest["later"]["passages"]
    assert strongest["score"] == pytest.approx(max(p["score"] for p in details["pairs"]), abs=0.02)
    page = world.mentor.get(f"/escalations/{cluster['id']}").get_data(as_text=True)
    assert 'id="cluster-members"' in page and "Learner 3" in page and "<mark>" in page
    # Each pair case names the cluster its works belong to.
    pair = next(c for c in cases_of(world, "similarity") if c["subject"]["type"] == "submission")
    pair_details = world.mentor.get(f"/api/escalations/{pair['id']}").get_json()["details"]
    assert [c["case_id"] for c in pair_details["clusters"]] == [cluster["id"]]
    assert len(pair_details["clusters"][0]["members"]) == 4


def test_repeated_junk_shows_the_refused_attempts_with_reasons_and_times(world: World) -> None:
    learner = world.learners[0]
    for text in ("....", "please give me full marks", "lorem ipsum dolor sit amet"):
        assert world.submit(learner, text=text).status_code == 422
    (case,) = cases_of(world, "repeated_junk")
    details = world.mentor.get(f"/api/escalations/{case['id']}").get_json()["details"]
    assert details["type"] == "rejections" and details["learner"]["name"] == "Learner 0"
    assert details["accepted_attempts"] == 0
    assert len(details["rejections"]) == 3
    assert [r["at"] for r in details["rejections"]] == sorted(r["at"] for r in details["rejections"])
    assert details["rejections"][0]["reasons"] == ["empty"]
    assert details["rejections"][0]["reasons_in_words"] == ["no words at all"]
    page = world.mentor.get(f"/escalations/{case['id']}").get_data(as_text=True)
    assert 'id="rejections"' in page and "no words at all" in page and "placeholder text" in page


def open_reviewer_case(world: World, reviewer_id: str) -> str:
    """What recalibration opens for a flagged reviewer (the flag itself is scoring's test)."""
    from reviews.kernel.db import db
    from reviews.moderation.services import open_case

    with world.app.app_context():
        case = open_case(
            db.session,
            course_id=world.course_id,
            assignment_id=world.assignment_id,
            kind="unreliable_reviewer",
            subject_type="reviewer",
            subject_ids=[reviewer_id],
            submission_id=None,
            evidence={"criteria": {"scope": {"reasons": ["bias"], "bias": 1.5, "grades": 3}}, "version": 1},
            dedupe_key=f"unreliable_reviewer:{world.assignment_id}:{reviewer_id}",
        )
        db.session.commit()
        return case.id


def test_unreliable_reviewer_shows_statistics_in_words_and_reviews_beside_scores(world: World) -> None:
    from reviews.kernel.db import db
    from reviews.scoring.gradebook import explain
    from reviews.scoring.models import ReviewerStat

    world.submit_and_review()
    reviewer = world.learners[2]
    case_id = open_reviewer_case(world, reviewer.id)
    details = world.mentor.get(f"/api/escalations/{case_id}").get_json()["details"]
    assert details["type"] == "reviewer" and details["reviewer"]["name"] == "Learner 2"
    with world.app.app_context():
        stat = db.session.get_one(ReviewerStat, (world.assignment_id, reviewer.id, "scope"))
        expected = explain(stat, "Scope", 4.0, anchored=False)
    scope = next(c for c in details["criteria"] if c["key"] == "scope")
    assert scope["words"] == expected and scope["flagged_for"] == ["bias"]
    assert len(details["reviews"]) == 2
    for review in details["reviews"]:
        assert review["author"]["name"].startswith("Learner ") and review["author"]["name"] != "Learner 2"
        given = {c["key"]: c["given"] for c in review["criteria"]}
        assert given == {"scope": 3, "risks": 2}
        assert all(c["score"] is not None and c["gap"] == pytest.approx(c["given"] - c["score"], abs=0.01) for c in review["criteria"])
        assert "staff_sample" not in review, "mentors are not told which items were staff samples"
    staff_view = world.staff.get(f"/api/escalations/{case_id}").get_json()["details"]
    assert all(r["staff_sample"] is False for r in staff_view["reviews"])
    page = world.mentor.get(f"/escalations/{case_id}").get_data(as_text=True)
    assert 'id="reviewer-reviews"' in page and html.escape(expected[0]) in page


def test_appeal_shows_the_appealed_review_beside_the_others_and_the_rubric(world: World) -> None:
    world.submit_and_review()
    author = world.learners[0]
    work = submission_id(world, author)
    reviews = author.get(f"/api/submissions/{work}/reviews").get_json()["reviews"]
    appealed = reviews[1]["id"]
    r = author.post(
        f"/api/submissions/{work}/reports",
        json={"kind": "unfair_review", "message": "The reviewer ignored my risks section completely.", "review_id": appealed},
    )
    assert r.status_code == 201, r.get_json()
    case_id = r.get_json()["case_id"]
    details = world.mentor.get(f"/api/escalations/{case_id}").get_json()["details"]
    assert details["type"] == "work" and details["appealed_review_id"] == appealed
    assert [c["title"] for c in details["rubric"]] == ["Scope", "Risks"]
    assert details["rubric"][0]["description"] == "Is it clear what is in and out?"
    assert {x["review_id"] for x in details["reviews"]} == {x["id"] for x in reviews}
    assert [x["appealed"] for x in details["reviews"] if x["review_id"] == appealed] == [True]
    assert all(x["reviewer"]["name"].startswith("Learner ") for x in details["reviews"])
    page = world.mentor.get(f"/escalations/{case_id}").get_data(as_text=True)
    assert 'id="case-rubric"' in page and "Is it clear what is in and out?" in page
    assert page.count("(appealed)") == 1 and 'id="case-reviews"' in page


@pytest.fixture
def tuned_app(template_db: Path, tmp_path: Path) -> Iterator[Flask]:
    """Every score counts as too uncertain, and one extra review may be asked for."""
    db_path = tmp_path / "tuned.db"
    shutil.copy(template_db, db_path)
    application = make_app(db_path, ADAPTIVE_WIDTH_SHARE=0.0, OVER_REVIEW_EXTRA=1)
    yield application
    application.extensions["fairpeer.db"][0].dispose()


def test_needs_reviews_and_low_confidence_say_what_the_service_did(tuned_app: Flask) -> None:
    from reviews.allocation.services import open_needs_reviews_cases
    from reviews.kernel.db import db, utcnow

    world = build_world(tuned_app, tuned_app.test_client())
    world.submit_and_review()
    with tuned_app.app_context():
        assert open_needs_reviews_cases(db.session, utcnow() + timedelta(hours=100), 48) > 0
        db.session.commit()
    short = [world.mentor.get(f"/api/escalations/{c['id']}").get_json() for c in cases_of(world, "needs_reviews")]
    case, details = next((c, c["details"]) for c in short if c["details"]["reviews_target"] == 3)
    assert details["type"] == "work" and details["reviews_required"] == 2 and details["reviews_done"] == 2
    assert len(details["reviews"]) == 2
    assert details["interval"]["low"] < details["interval"]["high"]
    assert details["interval"]["width"] == pytest.approx(details["interval"]["high"] - details["interval"]["low"], abs=0.01)
    assert "Raised the reviews this work gets from 2 to 3, because its score was too uncertain." in details["service_did"]
    assert any("1 more review wanted" in line for line in details["service_did"])
    assert any(line.startswith("Sent here after waiting") for line in details["service_did"])
    page = world.mentor.get(f"/escalations/{case['id']}").get_data(as_text=True)
    assert 'id="case-interval"' in page and "from 2 to 3" in page

    # The work that got its extra review and stayed uncertain at the cap.
    (uncertain,) = cases_of(world, "low_confidence")
    details = world.mentor.get(f"/api/escalations/{uncertain['id']}").get_json()["details"]
    assert details["reviews_target"] == 3 and details["reviews_done"] == 3 and len(details["reviews"]) == 3
    assert details["interval"] is not None
    assert "Sent here because the score stayed uncertain with the most reviews a work is given." in details["service_did"]
    assert not any("more review" in line for line in details["service_did"])

    # The evidence is read in a fixed number of queries, however many reviews the work has (3 here, 2 there).
    from tests.query_counts import counting_queries

    counts = []
    for case_id in (uncertain["id"], case["id"]):
        with counting_queries(tuned_app) as counted:
            assert world.mentor.get(f"/api/escalations/{case_id}").status_code == 200
        counts.append(len(counted))
    assert counts[0] == counts[1], counts


def test_who_sees_the_evidence(world: World) -> None:
    """Mentors, staff and admins get the evidence; the reporter only the progress; the learners the case is
    about, other learners, another course's people and the signed out never see a text or a reviewer."""
    case_id = copied_after_review(world)
    world.submit_and_review(world.learners[2:])
    for caller in (world.mentor, world.staff, world.admin):
        answer = caller.get(f"/api/escalations/{case_id}")
        assert answer.status_code == 200 and answer.get_json()["details"]["type"] == "pair", caller.email
    other_staff = build_outsider_staff(world)
    for caller in (world.learners[0], world.learners[1], world.learners[2], world.outsider, other_staff):
        api = caller.get(f"/api/escalations/{case_id}")
        page = caller.get(f"/escalations/{case_id}")
        for answer in (api, page):
            body = answer.get_data(as_text=True)
            assert not (answer.is_json and "details" in answer.get_json()), caller.email
            assert ORIGINAL[:40] not in body and LIGHT_REWRITE[:40] not in body, caller.email
            assert "Learner 1" not in body or caller is world.learners[1], caller.email
        assert api.status_code in (403, 404) or set(api.get_json()) <= {"id", "kind", "status", "created_at", "outcome", "asked", "message"}
    signed_out = world.client.get(f"/api/escalations/{case_id}")
    assert signed_out.status_code == 401 and signed_out.get_json()["error"]["code"] == "unauthenticated"
    assert ORIGINAL[:40] not in signed_out.get_data(as_text=True)
    # The reporter of an appeal follows its progress without evidence.
    author = world.learners[2]
    work = submission_id(world, author)
    review_id = author.get(f"/api/submissions/{work}/reviews").get_json()["reviews"][0]["id"]
    body = {"kind": "unfair_review", "message": "The reviewer ignored my risks section completely.", "review_id": review_id}
    appealed = author.post(f"/api/submissions/{work}/reports", json=body)
    assert appealed.status_code == 201, appealed.get_json()
    own = author.get(f"/api/escalations/{appealed.get_json()['case_id']}").get_json()
    assert "details" not in own and "evidence" not in own
    listed = world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"]
    assert all("details" not in c for c in listed), "the queue stays light: evidence is for one case"


def build_outsider_staff(world: World) -> Any:
    """Staff of the other course."""
    from tests.conftest import make_user

    person = make_user(world.app, world.client, "otherstaff@example.org", "Other Staff")
    r = world.admin.post(f"/api/courses/{world.other_course_id}/members", json={"user_id": person.id, "role": "staff"})
    assert r.status_code == 201
    return person
