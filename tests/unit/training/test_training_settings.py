"""The training settings in the staff's assignment editor: shown, saved, and refused in words."""

from __future__ import annotations

from reviews.courses.models import Assignment
from reviews.kernel.db import db
from tests.conftest import World
from tests.unit.courses.test_course_pages import Browser, editor_form


def test_the_editor_sets_training(world: World) -> None:
    browser = Browser(world, world.staff.id)
    edit = f"/assignments/{world.assignment_id}/edit"
    page = browser.text(edit)
    assert "Training samples each learner grades first" in page and 'name="training_tolerance"' in page
    keys = {"rubric.criteria.0.key": "scope", "rubric.criteria.1.key": "risks"}
    saved = browser.post_and_follow(edit, editor_form(training_samples="2", training_tolerance="0.5", **keys), edit)
    assert "The assignment is saved." in saved
    with world.app.app_context():
        assignment = db.session.get_one(Assignment, world.assignment_id)
        assert (assignment.training_samples, assignment.training_tolerance) == (2, 0.5)
    assert 'value="2"' in browser.text(edit) and 'value="0.5"' in browser.text(edit)
    # Empty tolerance: back to the default (10% of a criterion's points, at least 1).
    browser.post_and_follow(edit, editor_form(training_samples="2", training_tolerance="", **keys), edit)
    with world.app.app_context():
        assert db.session.get_one(Assignment, world.assignment_id).training_tolerance is None
    refused = browser.post_and_follow(edit, editor_form(training_samples="30", **keys), edit)
    assert "The assignment is saved." not in refused
    assert 'id="assignment-training-samples-error">Must be greater than or equal to 0 and less than or equal to 20.' in refused
    with world.app.app_context():
        assert db.session.get_one(Assignment, world.assignment_id).training_samples == 2
    # A form without the training fields (an older tab) leaves them as they are.
    browser.post_and_follow(edit, editor_form(**keys), edit)
    with world.app.app_context():
        assert db.session.get_one(Assignment, world.assignment_id).training_samples == 2
