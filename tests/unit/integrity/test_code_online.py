"""Programs submitted as source files are checked online as `fairpeer similarity` checks them (issue 14): the
same tokens, the same smooth IDF over the assignment's programs, the same score; clusters of copies are found."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from detection.folder import similarity_dir
from reviews.integrity.services import Work, work_of
from reviews.settings import DEFAULTS
from tests.conftest import ASSIGNMENT, World, build_world
from tests.unit.detection.test_code_copies import LOOP, RECURSIVE, RENAMED, STREAMS, SWITCH

THRESHOLD = float(DEFAULTS["SIMILARITY_THRESHOLD"])
HONEST = {"loop": LOOP, "streams": STREAMS, "switch": SWITCH, "recursive": RECURSIVE}


def send_program(world: World, learner: Any, source: str, name: str = "Vowels.java", text: str = "") -> str:
    r = learner.post(
        f"/api/assignments/{world.assignment_id}/submissions",
        data={"text": text, "files": (io.BytesIO(source.encode("utf-8")), name)},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    return str(r.get_json()["id"])


def similarity_cases(world: World) -> list[dict[str, Any]]:
    cases = world.mentor.get(f"/api/courses/{world.course_id}/escalations?status=all").get_json()["cases"]
    return [c for c in cases if c["kind"] == "similarity"]


def test_a_program_is_its_source_files_in_name_order_and_anything_else_is_prose() -> None:
    assert work_of("See the files.", [("b.c", "int b;"), ("a.h", "int a;")]) == Work("int a;\nint b;", "code", "h")
    assert work_of("My plan.", [("plan.docx", "Scope and risks."), ("tool.py", "x = 1")]) == Work("My plan.\nScope and risks.\nx = 1")
    assert work_of("My plan.", []) == Work("My plan.")


def test_a_renamed_program_is_found_online_and_scored_as_the_sweep_scores_it(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    world = build_world(app, client, n_learners=5)
    ids = {name: send_program(world, learner, source) for learner, (name, source) in zip(world.learners, HONEST.items(), strict=False)}
    assert similarity_cases(world) == [], "independent solutions sharing a header comment and messages are not copies"
    ids["renamed"] = send_program(world, world.learners[4], RENAMED, name="Counter.java", text="My solution is attached.")
    cases = [c for c in similarity_cases(world) if c["subject"]["type"] == "submission"]
    assert len(cases) == 1, [(c["subject"], c["evidence"].get("score")) for c in similarity_cases(world)]
    evidence = cases[0]["evidence"]
    assert evidence["earlier"]["submission_id"] == ids["loop"] and evidence["later"]["submission_id"] == ids["renamed"]
    assert evidence["method"] == "tiling+notes"
    # The batch sweep of the same five programs (with the assignment's prompt as template) gives the same figures:
    # folder names sort as the submissions came, so "a" is the earlier work in both.
    names = {}
    for n, (name, source) in enumerate([*HONEST.items(), ("renamed", RENAMED)]):
        names[ids[name]] = f"{n}-{name}"
        (tmp_path / names[ids[name]]).mkdir()
        (tmp_path / names[ids[name]] / "Vowels.java").write_text(source, encoding="utf-8")
    prompt = tmp_path / "prompt.txt"
    prompt.write_text(str(ASSIGNMENT["prompt"]), encoding="utf-8")
    swept = {(p["a"], p["b"]): p for p in similarity_dir(tmp_path, prompt)["pairs"]}
    pair = swept[("0-loop", "4-renamed")]
    assert pair["score"] >= THRESHOLD
    assert evidence["score"] == pytest.approx(pair["score"], abs=1e-4)
    assert evidence["containment_earlier"] == pytest.approx(pair["containment_a"], abs=1e-4)
    assert evidence["containment_later"] == pytest.approx(pair["containment_b"], abs=1e-4)
    # Every other earlier program the copy matched, with the sweep's score for that pair (and no pair of the honest
    # programs was ever flagged: they came first and no case was opened).
    also = {names[m["submission_id"]]: m["score"] for m in evidence["also_matched"]}
    expected = {a: p["score"] for (a, b), p in swept.items() if b == "4-renamed" and a != "0-loop" and p["score"] >= THRESHOLD}
    assert also == pytest.approx(expected, abs=1e-4)
    # The matched spans point into the program the later learner sent (the text box is not part of it).
    start, end = evidence["spans"][0]["b"]
    assert 0 <= start < end <= len(RENAMED) and RENAMED[start:end].strip()


@pytest.mark.parametrize("edited", [False, True])
def test_a_cluster_of_copied_programs_is_found_online_and_grouped(app: Flask, client: FlaskClient, edited: bool) -> None:
    """Six learners hand in LOOP (identical, or each with its own comment and names), three write their own: the
    copies are one cluster, and no honest program is named by any case."""
    world = build_world(app, client, n_learners=9)
    copied, honest = set(), set()
    for i, learner in enumerate(world.learners[:6]):
        source = LOOP
        if edited:
            source = LOOP.replace("count", f"count{i}").replace("class Vowels", f"class Vowels{i}") + f"// by {learner.email}\n"
        copied.add(send_program(world, learner, source))
    for learner, source in zip(world.learners[6:], (STREAMS, SWITCH, RECURSIVE), strict=True):
        honest.add(send_program(world, learner, source))
    cases = similarity_cases(world)
    flagged = {sid for c in cases for sid in c["subject"]["ids"]}
    assert copied <= flagged and not (honest & flagged)
    clusters = [c for c in cases if c["subject"]["type"] == "cluster"]
    assert len(clusters) == 1 and set(clusters[0]["subject"]["ids"]) == copied
    if not edited:
        assert {c["evidence"]["method"] for c in cases if c["subject"]["type"] == "submission"} == {"exact"}
