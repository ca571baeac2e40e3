"""Containment scoring, template subtraction, common-fingerprint weighting, the index, spans and the sweep."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from detection.fingerprints import CODE
from detection.folder import similarity_dir
from detection.similarity import (
    CommonWeighting,
    InMemoryIndex,
    common_weights,
    compare,
    compare_all,
    find_candidates,
    greedy_string_tiling,
    prepare,
    template_hashes,
)

ROOT = Path(__file__).resolve().parents[3]

SOURCE = (
    "PageRank is a link analysis algorithm used by the Google search engine that assigns a numerical weighting "
    "to each element of a hyperlinked set of documents, such as the World Wide Web, with the purpose of measuring "
    "its relative importance within the set. The algorithm may be applied to any collection of entities with "
    "reciprocal quotations and references."
)
HONEST = (
    "Google ranks pages by counting the links pointing at them, and links from pages that are themselves "
    "popular count for more. Think of every link as a vote; votes from respected sites weigh more than votes "
    "from obscure ones, so the ranking reflects how the web as a whole regards each page."
)


def test_a_copied_part_inside_a_longer_answer_scores_high() -> None:
    copied = prepare("b", HONEST + " " + SOURCE.split(". ")[0] + ". " + HONEST)
    source = prepare("a", SOURCE.split(". ")[0] + ".")
    match = compare(source, copied)
    assert match.containment_a > 0.9
    assert match.score == max(match.containment_a, match.containment_b)
    assert match.containment_b < 0.5


def test_independent_answers_score_low_and_copies_high() -> None:
    source, honest = prepare("s", SOURCE), prepare("h", HONEST)
    light = prepare("l", SOURCE.replace("numerical", "numeric").replace("relative importance", "importance"))
    assert compare(honest, source).score < 0.1
    assert compare(light, source).score > 0.6


def test_spans_point_at_the_copied_text_in_both() -> None:
    sentence = SOURCE.split(". ")[0]
    a = prepare("a", "My own intro here. " + sentence + ". My own end.")
    b = prepare("b", sentence)
    match = compare(a, b)
    assert match.spans
    span = match.spans[0]
    assert a.text[span.a_start : span.a_end] == sentence
    assert b.text[span.b_start : span.b_end] == sentence


def test_template_matches_do_not_count() -> None:
    template = "Section one: describe the problem you solve. Section two: describe the users you serve and their needs."
    a = prepare("a", template + " We help runners log their training and see their progress week by week.")
    b = prepare("b", template + " Our app matches volunteers with local food banks that need help on weekends.")
    assert compare(a, b).score > 0.4
    assert compare(a, b, excluded=template_hashes([template])).score == 0.0


def test_common_fingerprints_are_down_weighted_yet_copies_remain_copies() -> None:
    weighting = CommonWeighting(share=0.25, floor=2)
    assert weighting.weight(2, 100) == 1.0
    assert weighting.weight(25, 100) == 1.0
    assert 0.0 <= weighting.weight(100, 100) < weighting.weight(50, 100) < 1.0
    # Many copies of one original in a small class: every k-gram equally common, so containment stays 1.
    copies = [prepare(f"c{i}", SOURCE) for i in range(8)]
    index = InMemoryIndex()
    for doc in copies:
        index.add(doc.id, doc.all_hashes)
    weights = common_weights(index, copies[0].all_hashes, weighting)
    assert weights and all(w < 1 for w in weights.values())
    assert compare(copies[0], copies[1], weights=weights).score == 1.0


def test_boilerplate_shared_by_everyone_counts_less() -> None:
    boilerplate = "In this essay I will answer the question that was asked in the assignment brief."
    docs = [
        prepare(f"d{i}", boilerplate + f" Topic {i}: " + text)
        for i, text in enumerate([HONEST, SOURCE] + [f"unique words {j} " * 2 + str(j) for j in range(10)])
    ]
    index = InMemoryIndex()
    for doc in docs:
        index.add(doc.id, doc.all_hashes)
    weights = common_weights(index, docs[0].all_hashes | docs[1].all_hashes, CommonWeighting(share=0.25, floor=2))
    assert compare(docs[0], docs[1], weights=weights).score < compare(docs[0], docs[1]).score


def test_index_add_remove_and_candidates() -> None:
    index = InMemoryIndex()
    source, copy, honest = prepare("s", SOURCE), prepare("c", "Intro. " + SOURCE), prepare("h", HONEST)
    for doc in (source, honest):
        index.add(doc.id, doc.hashes)
    assert index.document_count() == 2
    assert [c.doc_id for c in find_candidates(index, copy)] == ["s"]
    index.add("s", source.hashes)  # adding again replaces
    assert index.document_count() == 2
    index.remove("s")
    assert find_candidates(index, copy) == []
    assert index.document_frequency(source.hashes) == {}


def test_code_copies_survive_renaming_and_reformatting() -> None:
    original = """
    public class Reverse {
        public static void main(String[] args) {
            java.util.Scanner input = new java.util.Scanner(System.in);
            int number = input.nextInt();
            while (number != 0) {
                int digit = number % 10;
                System.out.print(digit);
                number = number / 10;
            }
        }
    }"""
    renamed = original.replace("number", "n").replace("digit", "d").replace("Reverse", "Main").replace("    ", "  ")
    different = """
    import java.util.*;
    class Other { public static void main(String[] a) { Scanner s = new Scanner(System.in);
      String text = s.next(); StringBuilder b = new StringBuilder(text); System.out.println(b.reverse()); } }"""
    doc = prepare("o", original, CODE, language="java")
    assert compare(doc, prepare("r", renamed, CODE, language="java")).score > 0.9
    assert compare(doc, prepare("d", different, CODE, language="java")).score < 0.5


def test_greedy_string_tiling_takes_longest_runs_first() -> None:
    a = ["x", "a", "b", "c", "d", "e", "f", "y", "g", "h", "i", "j"]
    b = ["g", "h", "i", "j", "q", "a", "b", "c", "d", "e", "f"]
    tiles = greedy_string_tiling(a, b, 3)
    assert sorted(tiles) == [(1, 5, 6), (8, 0, 4)]
    assert greedy_string_tiling(a, b, 7) == []


def test_sweep_pairs_by_score() -> None:
    pairs = compare_all([("a.txt", SOURCE), ("b.txt", "Note. " + SOURCE), ("c.txt", HONEST)])
    assert (pairs[0].a, pairs[0].b) == ("a.txt", "b.txt")
    assert pairs[0].match.score > 0.95
    assert all(p.match.score > 0 for p in pairs)


def test_similarity_dir_over_a_folder(tmp_path: Path) -> None:
    (tmp_path / "alice").mkdir()
    (tmp_path / "bob").mkdir()
    (tmp_path / "alice" / "essay.txt").write_text("My take. " + SOURCE, encoding="utf-8")
    (tmp_path / "bob" / "essay.md").write_text(SOURCE + " Done.", encoding="utf-8")
    (tmp_path / "carol.txt").write_text(HONEST, encoding="utf-8")
    (tmp_path / "x.py").write_text("def f(a):\n    return a + 1\n", encoding="utf-8")
    (tmp_path / "y.py").write_text("def g(b):\n    return b + 1\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    result = similarity_dir(tmp_path)
    json.dumps(result)
    by_pair = {(p["a"], p["b"]): p for p in result["pairs"]}
    top = by_pair[("alice", "bob")]  # a folder of files is one submission
    assert {"containment_a", "containment_b"} <= top.keys()
    assert top["score"] > 0.95 and top["spans"]
    assert ("x.py", "y.py") in by_pair and by_pair[("x.py", "y.py")]["score"] == 1.0
    assert all(".hidden.txt" not in (p["a"], p["b"]) for p in result["pairs"])
    assert all(0 < p["score"] <= 1 for p in result["pairs"])
    assert [p["score"] for p in result["pairs"]] == sorted((p["score"] for p in result["pairs"]), reverse=True)


def test_similarity_dir_prompt_matches_do_not_count(tmp_path: Path) -> None:
    prompt = tmp_path.parent / f"{tmp_path.name}-prompt.txt"
    prompt.write_text(SOURCE, encoding="utf-8")
    (tmp_path / "a.txt").write_text(SOURCE + " " + HONEST, encoding="utf-8")
    (tmp_path / "b.txt").write_text(SOURCE + " My own different words about search engines and ranking pages.", encoding="utf-8")
    without = similarity_dir(tmp_path)["pairs"]
    assert without and without[0]["score"] > 0.5
    assert similarity_dir(tmp_path, prompt)["pairs"] == []


def test_bench_quick_prints_the_keys() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "integrity.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert set(result["short_answers"]["recall_at_5pct_fpr"]) == {"cut", "light", "heavy"}
    assert 0 <= result["short_answers"]["pr_auc"] <= 1
    assert set(result["irplag"]) >= {"pr_auc", "precision_at_90pct_recall"}
    assert 0 <= result["soco_c"]["pr_auc"] <= 1
    assert {"mean", "min"} <= set(result["emse25"]) and all(
        0 <= v["pr_auc"] <= 1 for k, v in result["emse25"].items() if k not in ("mean", "min")
    )
    assert set(result["leave_one_out"]) >= {"irplag", "soco_c"}
    assert result["junk_gate_p95_ms"] > 0
    assert result["latency_in_memory"]
