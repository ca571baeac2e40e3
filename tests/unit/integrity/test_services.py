"""Copy detection and junk handling in the service: provenance, spans, clusters, repeated junk, files."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import World, build_world, essay

ORIGINAL = (
    "Our neighbourhood tool library will lend thirty donated tools from a locked cupboard in the basement of block C. "
    "Borrowers sign a paper log, pay a two euro deposit and bring tools back within seven days. The biggest risk is "
    "damage, so a repair fund collects one euro per loan, and a volunteer checks each tool on return. Milestones are "
    "collecting tools in March, writing the rules with residents in April and a launch evening in early May."
)
LIGHT_REWRITE = (
    "The tool library for our neighbourhood will lend thirty donated tools kept in a locked cupboard in the basement "
    "of block C. Borrowers sign the paper log, pay a deposit of two euro and return the tools within seven days. The "
    "main risk is damage, so a repair fund collects one euro for every loan, and a volunteer checks each tool when it "
    "comes back. The milestones are collecting tools in March, writing rules with the residents in April and a launch "
    "evening early in May."
)


def test_light_rewrite_of_work_shown_in_a_claim_names_the_original_and_provenance(world: World) -> None:
    a, b = world.learners[:2]
    original = world.submit(a, text=ORIGINAL)
    assert original.status_code == 201, original.get_json()
    original_id = original.get_json()["id"]
    assert world.submit(b, n=1).status_code == 201
    claim = world.claim(b).get_json()
    assert claim["item"]["text"] == ORIGINAL
    copy = world.submit(b, text=LIGHT_REWRITE)
    assert copy.status_code == 201
    cases = [c for c in world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"] if c["kind"] == "similarity"]
    assert len(cases) == 1
    evidence = cases[0]["evidence"]
    assert evidence["earlier"]["submission_id"] == original_id
    assert evidence["later"]["submission_id"] == copy.get_json()["id"]
    assert evidence["provenance"]["shown_before_submitting"] is True and evidence["provenance"]["first_shown_at"]
    assert evidence["score"] >= 0.35 and evidence["method"] != "exact"
    assert evidence["spans"], "matched spans are kept as evidence"
    start, end = evidence["spans"][0]["a"]
    assert ORIGINAL[start:end].strip() and 0 <= start < end <= len(ORIGINAL)
    # The copier's work is held out of review queues while the case is open: c claims (and reviews) until nothing is left.
    c = world.learners[2]
    assert world.submit(c, n=2).status_code == 201
    served = []
    for _ in range(10):
        r = world.claim(c)
        if r.status_code != 201:
            assert r.status_code == 404 and r.get_json()["error"]["code"] == "nothing_to_review", r.get_json()
            break
        served.append(r.get_json()["item"]["text"])
        assert world.review(c, r.get_json()["claim_id"]).status_code == 201
    assert served, "c was offered work to review"
    assert LIGHT_REWRITE not in served


def test_independent_work_opens_no_case(world: World) -> None:
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    cases = world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"]
    assert [c for c in cases if c["kind"] == "similarity"] == []


def test_copy_not_shown_first_is_recorded_as_such(world: World) -> None:
    a, b = world.learners[:2]
    assert world.submit(a, text=ORIGINAL).status_code == 201
    assert world.submit(b, text=LIGHT_REWRITE).status_code == 201
    cases = [c for c in world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"] if c["kind"] == "similarity"]
    assert len(cases) == 1 and cases[0]["evidence"]["provenance"]["shown_before_submitting"] is False


def test_template_matches_do_not_count(app: Flask, client: FlaskClient) -> None:
    template = (
        "Project name: ____. Scope (what is in and out): ____. Main risks and how you handle them: ____. "
        "Milestones with dates: ____. How you will measure success: ____."
    )
    world = build_world(app, client, template=template)
    for i, learner in enumerate(world.learners[:3]):
        filled = template.replace("____", "{}").format(*essay(i).split(". ")[:5])
        assert world.submit(learner, text=filled).status_code == 201
    cases = world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"]
    assert [c for c in cases if c["kind"] == "similarity"] == []


def test_clusters_of_copies_become_one_case(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=5)
    for learner in world.learners[:4]:
        assert (
            world.submit(
                learner, text=ORIGINAL if learner is world.learners[0] else LIGHT_REWRITE + f" Signed by {learner.email}."
            ).status_code
            == 201
        )
    cases = world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"]
    clusters = [c for c in cases if c["kind"] == "similarity" and c["subject"]["type"] == "cluster"]
    assert len(clusters) == 1
    assert set(clusters[0]["subject"]["ids"]) == {s["submission_id"] for s in clusters[0]["evidence"]["members"]}
    assert len(clusters[0]["subject"]["ids"]) == 4
    # Sweeping again opens nothing new.
    background = app.extensions["fairpeer.background"]
    background.run_now("reviews.integrity.tasks.group_copies", (world.assignment_id,))
    again = world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"]
    assert len([c for c in again if c["subject"]["type"] == "cluster"]) == 1


def test_repeated_junk_opens_one_case(world: World) -> None:
    learner = world.learners[0]
    for text in ("....", "asdf asdf", "please give me full marks", "lorem ipsum dolor sit amet", "!!!!"):
        assert world.submit(learner, text=text).status_code == 422
    cases = [c for c in world.mentor.get(f"/api/courses/{world.course_id}/escalations").get_json()["cases"] if c["kind"] == "repeated_junk"]
    assert len(cases) == 1
    assert cases[0]["subject"] == {"type": "learner", "ids": [learner.id]}
    assert cases[0]["evidence"]["total_rejections"] >= 3
    assert learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["attempts"] == 0


def _pdf(text: str | None) -> bytes:
    """A one-page PDF, with ``text`` drawn on it or blank."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode() if text else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _docx(text: str | None) -> bytes:
    import docx

    document = docx.Document()
    if text:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_pdf_and_docx_files(world: World) -> None:
    learner = world.learners[0]
    url = f"/api/assignments/{world.assignment_id}/submissions"
    words = essay(3)

    def send(name: str, data: bytes, text: str = "") -> dict:
        r = learner.post(url, data={"text": text, "files": (io.BytesIO(data), name)}, content_type="multipart/form-data")
        return {"status": r.status_code, "body": r.get_json()}

    blank_pdf = send("plan.pdf", _pdf(None))
    assert blank_pdf["status"] == 422 and "file_no_text" in [r["code"] for r in blank_pdf["body"]["error"]["details"]["reasons"]]
    blank_docx = send("plan.docx", _docx(None))
    assert blank_docx["status"] == 422 and "file_no_text" in [r["code"] for r in blank_docx["body"]["error"]["details"]["reasons"]]
    fake = send("plan.pdf", b"MZ\x90\x00" + b"\x00" * 200)
    assert fake["status"] == 422 and "file_type" in [r["code"] for r in fake["body"]["error"]["details"]["reasons"]]
    # The words in a file count toward min_words: an empty text box with a real DOCX is accepted.
    ok = send("plan.docx", _docx(words))
    assert ok["status"] == 201, ok
    pdf_ok = send("plan.pdf", _pdf("A short plan: scope, risks and milestones of our reading corner for the street."), text=essay(4))
    assert pdf_ok["status"] == 201, pdf_ok


def copies_found_online(app: Flask, client: FlaskClient, copies: int, identical: bool = False) -> tuple[set[str], set[str], set[str]]:
    """Sixteen learners, the first ``copies`` of whom submit the same text (``identical``, or each with a signature
    of their own); the others write their own. Returns (the copies' ids, the honest ids, the ids some similarity
    case names)."""
    world = build_world(app, client, n_learners=16)
    copiers = world.learners[:copies]
    for i, learner in enumerate(world.learners):
        signature = "" if identical else f" Signed by {learner.email}."
        text = LIGHT_REWRITE + signature if learner in copiers else essay(100 + i)
        assert world.submit(learner, text=text).status_code == 201
    cases = world.mentor.get(f"/api/courses/{world.course_id}/escalations?status=all").get_json()["cases"]
    flagged = {sid for c in cases if c["kind"] == "similarity" for sid in c["subject"]["ids"]}
    ids = [learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"] for learner in world.learners]
    return set(ids[:copies]), set(ids[copies:]), flagged


@pytest.mark.parametrize("copies", [6, 9])
def test_a_cluster_of_identical_copies_among_sixteen_is_found_online(app: Flask, client: FlaskClient, copies: int) -> None:
    """Identical copies: found by the exact-text check, every one of them, and no honest submission."""
    copied, honest, flagged = copies_found_online(app, client, copies, identical=True)
    assert copied <= flagged and not (honest & flagged)


@pytest.mark.parametrize("copies", [6, 9])
def test_a_cluster_of_copies_among_sixteen_is_found_online(app: Flask, client: FlaskClient, copies: int) -> None:
    """The finding: the candidate lookup dropped every fingerprint held by more than a share of the collection
    (at least 5 submissions), so a cluster of six copies in a folder of sixteen was never found. Each copy here
    differs a little (a signature), so only the fingerprint index can find them, not the exact-text check."""
    copied, honest, flagged = copies_found_online(app, client, copies)
    assert copied <= flagged, (len(copied & flagged), copies)
    assert not (honest & flagged)
