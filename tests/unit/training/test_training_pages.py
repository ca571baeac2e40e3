"""Training on the pages, and the separation of training samples from blind calibration samples: no training answer
or page ever shows a blind sample (its id, text or staff scores), and a training sample is never served as a live
review."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import build_world
from tests.unit.scoring.pages_helpers import HTML, page_client, post_form

BLIND_TEXT = "Blind calibration text about a moonlit orchard cooperative with eleven beehives and a quarterly audit."
TRAINING_TEXT = "Training text about a seed swap at the school gate on the first Monday of every month, with a rota."


def test_training_never_shows_a_blind_sample(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=5, calibration_share=0.5, reviews_required=2, reviews_to_give=4, training_samples=1)
    blind = world.staff.post(
        f"/api/assignments/{world.assignment_id}/calibration-samples", json={"text": BLIND_TEXT, "scores": {"scope": 1, "risks": 4}}
    )
    assert blind.status_code == 201
    blind_id = blind.get_json()["id"]
    added = world.staff.post(
        f"/api/assignments/{world.assignment_id}/training/samples",
        json={"text": TRAINING_TEXT, "scores": {"scope": 2, "risks": 2}, "comments": {"scope": "Half there.", "risks": "Two risks."}},
    )
    assert added.status_code == 201
    training_id = added.get_json()["id"]
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201

    answers: list[str] = []
    base = f"/api/assignments/{world.assignment_id}/training"
    for learner in world.learners:
        answers.append(learner.get(base).get_data(as_text=True))
        for scores in ({"scope": 4, "risks": 4}, {"scope": 2, "risks": 2}):
            tried = learner.post(f"{base}/tries", json={"sample_id": training_id, "scores": scores})
            assert tried.status_code == 201
            answers.append(tried.get_data(as_text=True))
        answers.append(learner.get(base).get_data(as_text=True))
        # A blind sample is no training sample: naming it gets nothing.
        named = learner.post(f"{base}/tries", json={"sample_id": blind_id, "scores": {"scope": 1, "risks": 4}})
        assert named.status_code in (404, 409)
        answers.append(named.get_data(as_text=True))
        page = page_client(app, learner.id)
        answers.append(page.get(f"/assignments/{world.assignment_id}/training", headers=HTML).get_data(as_text=True))
    for path in ("/samples", "/learners"):
        answers.append(world.staff.get(f"{base}{path}").get_data(as_text=True))
    answers.append(page_client(app, world.staff.id).get(f"/assignments/{world.assignment_id}/training/samples").get_data(as_text=True))
    for answer in answers:
        assert blind_id not in answer and "moonlit orchard" not in answer

    # Live reviews: the blind sample is served (blind), the training text never is.
    served = []
    for learner in world.learners:
        for _ in range(4):
            claim = world.claim(learner)
            if claim.status_code != 201:
                break
            served.append(claim.get_json()["item"]["text"])
            assert world.review(learner, claim.get_json()["claim_id"]).status_code == 201
    assert BLIND_TEXT in served and TRAINING_TEXT not in served
    # And the training sample is nowhere among the blind samples either.
    listed = world.staff.get(f"/api/assignments/{world.assignment_id}/calibration-samples").get_json()["samples"]
    assert [s["id"] for s in listed] == [blind_id]


def test_the_training_form_on_the_page(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=2, training_samples=1)
    sample = {"text": TRAINING_TEXT, "scores": {"scope": 2, "risks": 2}, "comments": {"scope": "Half there.", "risks": "Two risks."}}
    training_id = world.staff.post(f"/api/assignments/{world.assignment_id}/training/samples", json=sample).get_json()["id"]
    learner = page_client(app, world.learners[0].id)
    url = f"/assignments/{world.assignment_id}/training"
    html = learner.get(url, headers=HTML).get_data(as_text=True)
    assert "training texts, not other learners' work" in html and "up to 3 tries" in html and "Half there." not in html
    # Not a number: kept, with the sentence beside the field, and no try used.
    sent = post_form(learner, url, f"{url}/tries", "training-try", {"sample_id": training_id, "scores.scope": "lots", "scores.risks": "2"})
    assert sent.status_code == 303
    kept = learner.get(url, headers=HTML).get_data(as_text=True)
    assert "Give the points as a number" in kept and 'value="lots"' in kept
    fields = {"sample_id": training_id, "scores.scope": "4", "scores.risks": "0", "comments.scope": "Seems complete."}
    assert post_form(learner, url, f"{url}/tries", "training-try", fields).status_code == 303
    html = learner.get(url, headers=HTML).get_data(as_text=True)
    assert "Half there." in html and "Two risks." in html and "Seems complete." in html and "2 tries left" in html
    fields = {"sample_id": training_id, "scores.scope": "2", "scores.risks": "2"}
    assert post_form(learner, url, f"{url}/tries", "training-try", fields).status_code == 303
    html = learner.get(url, headers=HTML).get_data(as_text=True)
    assert "Passed" in html and "Your training is done" in html
    assert world.learners[0].get(f"/api/assignments/{world.assignment_id}/training").get_json()["state"] == "passed"


def test_who_may_open_the_training_pages(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=2, training_samples=1)
    learner_page = f"/assignments/{world.assignment_id}/training"
    staff_page = f"/assignments/{world.assignment_id}/training/samples"
    learner, staff, mentor = (page_client(app, u.id) for u in (world.learners[0], world.staff, world.mentor))
    outsider = page_client(app, world.outsider.id)
    assert learner.get(learner_page, headers=HTML).status_code == 200
    assert learner.get(staff_page, headers=HTML).status_code == 404
    assert mentor.get(learner_page, headers=HTML).status_code == 403
    assert mentor.get(staff_page, headers=HTML).status_code == 403
    assert outsider.get(learner_page, headers=HTML).status_code == 404
    assert outsider.get(staff_page, headers=HTML).status_code == 404
    went = staff.get(learner_page, headers=HTML)
    assert went.status_code == 303 and went.headers["Location"].endswith(staff_page)
    assert staff.get(staff_page, headers=HTML).status_code == 200
    signed_out = app.test_client().get(learner_page, headers=HTML)
    assert signed_out.status_code in (302, 303, 401)


def test_staff_keep_training_samples_on_their_page(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=1, training_samples=1)
    staff = page_client(app, world.staff.id)
    url = f"/assignments/{world.assignment_id}/training/samples"
    html = staff.get(url, headers=HTML).get_data(as_text=True)
    assert "only 0 exist" in html and "separate set" in html
    fields = {"text": TRAINING_TEXT, "scores.scope": "2", "scores.risks": "3", "comments.scope": "Half there."}
    assert post_form(staff, url, url, "add-training-sample", fields).status_code == 303
    kept = staff.get(url, headers=HTML).get_data(as_text=True)
    assert "learners read it after grading" in kept and "Say why Risks earns these points" in kept
    fields["comments.risks"] = "Names two risks."
    assert post_form(staff, url, url, "add-training-sample", fields).status_code == 303
    (sample,) = world.staff.get(f"/api/assignments/{world.assignment_id}/training/samples").get_json()["samples"]
    assert sample["comments"] == {"scope": "Half there.", "risks": "Names two risks."}
    edit = {"text": "Changed text.", "scores.scope": "1", "scores.risks": "3"}
    assert post_form(staff, url, f"{url}/{sample['id']}", f"training-sample-{sample['id']}", edit).status_code == 303
    (sample,) = world.staff.get(f"/api/assignments/{world.assignment_id}/training/samples").get_json()["samples"]
    assert sample["text"] == "Changed text." and sample["scores"]["scope"] == 1
    removed = post_form(staff, url, f"{url}/{sample['id']}/remove", f"remove-training-sample-{sample['id']}", {})
    assert removed.status_code == 303
    assert world.staff.get(f"/api/assignments/{world.assignment_id}/training/samples").get_json()["samples"] == []


def test_the_review_section_sends_a_learner_to_training(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=3, training_samples=1)
    sample = {"text": TRAINING_TEXT, "scores": {"scope": 2, "risks": 2}, "comments": {"scope": "Half there.", "risks": "Two risks."}}
    training_id = world.staff.post(f"/api/assignments/{world.assignment_id}/training/samples", json=sample).get_json()["id"]
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    page = page_client(app, world.learners[0].id)
    url = f"/assignments/{world.assignment_id}"
    html = page.get(url, headers=HTML).get_data(as_text=True)
    assert "Start your training" in html and f'href="{url}/training"' in html and "Get something to review" not in html
    # A claim form sent anyway (an old tab) is refused with the sentence that names the training page.
    assert post_form(page, url, f"{url}/claim", "claim", {}).status_code == 303
    refused = page.get(url, headers=HTML).get_data(as_text=True)
    assert f"Grade the training samples first, at {url}/training: 0 of 1 done." in refused
    tried = world.learners[0].post(
        f"/api/assignments/{world.assignment_id}/training/tries", json={"sample_id": training_id, "scores": sample["scores"]}
    )
    assert tried.status_code == 201
    html = page.get(url, headers=HTML).get_data(as_text=True)
    assert "Start your training" not in html and "Get something to review" in html


def test_the_reviewer_view_marks_who_went_on_without_passing(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=3, training_samples=1)
    sample = {"text": TRAINING_TEXT, "scores": {"scope": 2, "risks": 2}, "comments": {"scope": "Half there.", "risks": "Two risks."}}
    training_id = world.staff.post(f"/api/assignments/{world.assignment_id}/training/samples", json=sample).get_json()["id"]
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    careless, careful = world.learners[0], world.learners[1]
    tries = f"/api/assignments/{world.assignment_id}/training/tries"
    for _ in range(3):
        assert careless.post(tries, json={"sample_id": training_id, "scores": {"scope": 4, "risks": 4}}).status_code == 201
    assert careful.post(tries, json={"sample_id": training_id, "scores": {"scope": 2, "risks": 3}}).get_json()["passed"] is True
    for learner in (careless, careful):
        claim = world.claim(learner)
        assert claim.status_code == 201, claim.get_json()
        assert world.review(learner, claim.get_json()["claim_id"]).status_code == 201
    html = page_client(app, world.staff.id).get(f"/assignments/{world.assignment_id}/reviewers", headers=HTML).get_data(as_text=True)
    sections = {name: html.split(f">{name} <", 1)[1].split("</section>", 1)[0] for name in ("Learner 0", "Learner 1")}
    assert "training not passed" in sections["Learner 0"] and "training not passed" not in sections["Learner 1"]
    staff_page = page_client(app, world.staff.id).get(f"/assignments/{world.assignment_id}/training/samples", headers=HTML)
    assert "1 learner went on without passing" in staff_page.get_data(as_text=True)
