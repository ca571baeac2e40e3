"""Containment scoring, template subtraction, common-fingerprint weighting, the index, spans and the sweep."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

from detection.fingerprints import CODE
from detection.folder import similarity_dir
from detection.similarity import (
    CodeScoring,
    CommonWeighting,
    InMemoryIndex,
    chained_tiles,
    common_weights,
    compare,
    compare_all,
    find_candidates,
    greedy_string_tiling,
    maximal_runs,
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


def _brute_force_runs(a: list[int], b: list[int], m: int) -> list[tuple[int, int, int]]:
    runs = []
    for i in range(len(a)):
        for j in range(len(b)):
            if a[i] == b[j] and (i == 0 or j == 0 or a[i - 1] != b[j - 1]):
                n = 0
                while i + n < len(a) and j + n < len(b) and a[i + n] == b[j + n]:
                    n += 1
                if n >= m:
                    runs.append((i, j, n))
    return sorted(runs)


def test_maximal_runs_are_every_diagonal_run_of_the_equality_matrix() -> None:
    rng = random.Random(7)
    for _ in range(200):
        alphabet = rng.randint(1, 4)  # small alphabets: many overlapping and repeated runs
        a = [rng.randrange(alphabet) for _ in range(rng.randint(0, 40))]
        b = [rng.randrange(alphabet) for _ in range(rng.randint(0, 40))]
        m = rng.randint(1, 6)
        found = maximal_runs(np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64), m)
        assert sorted(found) == _brute_force_runs(a, b, m), (a, b, m)


def test_chained_tiles_bridge_inserted_code_but_leave_chance_matches_out() -> None:
    # A copy with one inserted token after every 7 of the original's: no common run reaches 12 tokens.
    original = [f"t{i % 23}" for i in range(84)]
    copy: list[str] = []
    for start in range(0, 84, 7):
        copy += [*original[start : start + 7], "inserted"]
    assert greedy_string_tiling(original, copy, 12) == []
    tiles = greedy_string_tiling(original, copy, 6)
    assert sum(n for _, _, n in chained_tiles(tiles, 12, gap=0)) == 0
    assert sum(n for _, _, n in chained_tiles(tiles, 12, gap=2)) == 84
    # Two 7-token matches far apart are two chance matches, not a chain.
    far = [*original[:7], *(["x"] * 40), *original[7:14]]
    assert chained_tiles(greedy_string_tiling(original, far, 6), 12, gap=8) == []


def test_a_copy_interrupted_by_inserted_statements_counts_when_tiles_chain() -> None:
    original = """
    class Grid { int walk(int[][] g, int r, int c) { int total = 0; for (int i = 0; i < r; i++) {
      for (int j = 0; j < c; j++) { if (g[i][j] > 0) { total += g[i][j]; } else { total -= 1; } } }
      while (total > 100) { total = total / 2; } return total; } }"""
    padded = """
    class Grid { int walk(int[][] g, int r, int c) { int total = 0; int unused = 0; for (int i = 0; i < r; i++) {
      unused++; for (int j = 0; j < c; j++) { unused++; if (g[i][j] > 0) { unused++; total += g[i][j]; } else {
      unused++; total -= 1; } } } unused++; while (total > 100) { unused++; total = total / 2; } return total; } }"""
    a = prepare("a", original, CODE, language="java")
    b = prepare("b", padded, CODE, language="java")
    plain = compare(a, b, scoring=CodeScoring(tile=16, gap=0))
    chained = compare(a, b, scoring=CodeScoring(tile=16, seed=6, gap=8))
    assert chained.containment_a > 0.9
    assert chained.containment_a > plain.containment_a + 0.2


def test_a_higher_idf_power_counts_what_much_of_the_collection_shares_for_less() -> None:
    plain, steep = CommonWeighting(smooth=True), CommonWeighting(smooth=True, power=3.0)
    assert plain.weight(1, 50) == steep.weight(1, 50) == 1.0
    assert steep.weight(25, 50) < plain.weight(25, 50) ** 2
    assert steep.weight(5, 50) > steep.weight(25, 50) > steep.weight(50, 50)


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


def test_the_contract_states_the_shipped_code_scoring() -> None:
    """docs/api.md tells users how a program pair is scored: it must say what the code does."""
    from detection.similarity import CODE_SCORING, CODE_WEIGHTING

    contract = " ".join((ROOT / "docs" / "api.md").read_text(encoding="utf-8").split())
    assert CODE_SCORING.max_share == 0.0 and "for source code, their mean" in contract
    assert f"(log(1 + n/df) / log(1 + n))^{CODE_WEIGHTING.power:g}" in contract
    assert f"runs of at least {CODE_SCORING.seed} tokens" in contract
    assert f"at most {CODE_SCORING.gap} tokens between" in contract
    assert f"covers at least {CODE_SCORING.tile} tokens" in contract


def test_the_bench_grid_scores_pairs_as_the_sweep_does() -> None:
    """The parameters are chosen on the grid's scores: at the shipped point they must be the CLI sweep's, file
    languages included (C read as C, with its #include lines dropped, not as Java)."""
    sys.path.insert(0, str(ROOT))
    from bench.integrity import Collection, grid_scores, shipped_point
    from detection.folder import sweep

    body = 'int main() { int n = 0; for (int i = 0; i < 10; i++) { n += i * i; } printf("%d\\n", n); return n; }'
    texts = [
        ("a.c", "#include <stdio.h>\n#include <stdlib.h>\n" + body),
        ("b.c", "#include <stdio.h>\n#include <stdlib.h>\n" + body.replace("n", "total")),
        ("c.c", '#include <stdio.h>\n#include <stdlib.h>\nint main() { puts("hello"); return 0; }'),
        ("d.java", "class D { public static void main(String[] a) { int s = 0; while (s < 5) { s++; } } }"),
        ("e.java", "class E { public static void main(String[] a) { int t = 0; while (t < 5) { t++; } } }"),
    ]
    kinds = {name: CODE for name, _ in texts}
    collection = Collection("mixed", texts, kinds, {}, positive=lambda a, b: {a, b} in ({"a.c", "b.c"}, {"d.java", "e.java"}))
    labels, scores = grid_scores([collection], [shipped_point()])
    reported = {(p["a"], p["b"]): p["score"] for p in sweep(texts, kinds, {})}
    names = sorted(name for name, _ in texts)
    expected = [reported.get((a, b), 0.0) for i, a in enumerate(names) for b in names[i + 1 :]]
    assert labels.sum() == 2 and expected[0] > 0.5
    assert np.allclose(scores[shipped_point()], expected, atol=1e-5)


def test_tiling_two_long_repetitive_programs_stays_bounded() -> None:
    """A program of one statement repeated 10,000 times against another: every window matches every other
    (10^9 pairs); the tiling keeps the least repeated windows up to a bound (dropping the repetitions' matches)
    and still finds the code they share that is not repeated."""
    import resource

    from detection.similarity import MAX_WINDOW_MATCHES

    filler = "x = x + 1;\n" * 10_000
    body = "int solve(int n) { int s = 0; for (int i = 0; i < n; i++) { if (i % 3 == 0) { s += i; } } return s; }\n"
    a = prepare("a", "class A {\n" + body + "void f() {\n" + filler + "}\n}", CODE, language="java")
    b = prepare("b", "class B {\n" + body + "void g() {\n" + filler + "}\n}", CODE, language="java")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    runs = maximal_runs(a.token_ids, b.token_ids, 6)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert len(runs) <= MAX_WINDOW_MATCHES
    assert grown_mb < 400, grown_mb
    assert (0, 0, 59) in runs  # the class header and solve(), up to the first repeated statement
    assert compare(a, b).spans[0].as_json() == {"a": [0, 132], "b": [0, 132]}
