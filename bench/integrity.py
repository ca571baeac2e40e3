"""Integrity benchmark: how well copies are told from honest work, and how fast the junk gate is.

    python bench/integrity.py --json [--data DIR] [--quick]

Prints one JSON object as the last line of stdout:
- ``short_answers``: the Clough and Stevenson (2011) corpus, each answer paired with its task's source text;
  PR-AUC (average precision) of "copied" (cut, light, heavy) against ``non``, and the recall of each copy
  category at the threshold that lets through at most 5% of the ``non`` answers as false positives.
- ``irplag``: IR-Plag (Karnalim et al.), each Java file paired with its case's original; PR-AUC pooled over all
  pairs, and precision at 90% recall.
- ``junk_gate_p95_ms``: the junk gate on a 5,000-word text.
- ``latency_in_memory``: the submit-time check (fingerprint, candidates from the index, scoring) of one new
  300-word submission against an in-memory index of synthetic Zipf-distributed submissions.

Each pair is scored as in production: the pair's texts are compared with the fingerprints common to their
collection (a short-answer task's answers, an IR-Plag case's files) down-weighted.
``--quick`` runs a small subset for the test suite's smoke test.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reviews.integrity.files import decode_text  # noqa: E402
from reviews.integrity.fingerprints import CODE, PROSE  # noqa: E402
from reviews.integrity.gate import check_text  # noqa: E402
from reviews.integrity.similarity import (  # noqa: E402
    CommonWeighting,
    InMemoryIndex,
    common_weights,
    compare,
    find_candidates,
    prepare,
)

DEFAULT_DATA = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Pair:
    group: str  # the collection the pair belongs to (a task, a case)
    category: str  # the data set's label: non/cut/light/heavy, or non-plagiarized/L1..L6
    positive: bool
    suspect: str  # path of the file under test, relative to the data folder
    suspect_text: str
    source_text: str


def read_text(path: Path) -> str:
    return decode_text(path.read_bytes()) or ""


def load_short_answers(data: Path) -> list[Pair]:
    folder = data / "plagiarism-short-answers"
    with open(folder / "file_information.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sources = {row["Task"]: read_text(folder / row["File"]) for row in rows if row["Category"] == "orig"}
    return [
        Pair(
            group=row["Task"],
            category=row["Category"],
            positive=row["Category"] != "non",
            suspect=f"plagiarism-short-answers/{row['File']}",
            suspect_text=read_text(folder / row["File"]),
            source_text=sources[row["Task"]],
        )
        for row in rows
        if row["Category"] != "orig"
    ]


def load_irplag(data: Path) -> list[Pair]:
    folder = data / "plagiarism-java-irplag"
    pairs: list[Pair] = []
    for case in sorted(p for p in folder.iterdir() if p.is_dir()):
        originals = sorted((case / "original").glob("*.java"))
        source = "\n".join(read_text(p) for p in originals)
        for path in sorted(case.rglob("*.java")):
            relative = path.relative_to(case)
            if relative.parts[0] == "original":
                continue
            positive = relative.parts[0] == "plagiarized"
            category = relative.parts[1] if positive else "non-plagiarized"
            pairs.append(Pair(case.name, category, positive, str(path.relative_to(data)), read_text(path), source))
    return pairs


def score_pairs(pairs: Sequence[Pair], kind: str, weighting: CommonWeighting | None = None) -> np.ndarray:
    """Each pair's score, with k-grams common to its group's collection (sources and suspects) down-weighted."""
    scores = np.zeros(len(pairs))
    groups: dict[str, list[int]] = {}
    for i, pair in enumerate(pairs):
        groups.setdefault(pair.group, []).append(i)
    for members in groups.values():
        source = prepare("source", pairs[members[0]].source_text, kind, language="java" if kind == CODE else "")
        suspects = [prepare(pairs[i].suspect, pairs[i].suspect_text, kind, language="java" if kind == CODE else "") for i in members]
        collection = InMemoryIndex()
        for doc in [source, *suspects]:
            collection.add(doc.id, doc.all_hashes)
        for i, doc in zip(members, suspects, strict=True):
            weights = common_weights(collection, doc.all_hashes | source.all_hashes, weighting)
            scores[i] = compare(doc, source, weights=weights).score
    return scores


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the precision-recall curve as average precision, tied scores taken together (no credit for
    the order within a tie)."""
    order = np.argsort(-scores, kind="stable")
    scores, labels = scores[order], labels[order].astype(bool)
    positives = labels.sum()
    if positives == 0:
        return 0.0
    ap = 0.0
    tp = fp = 0
    recall_before = 0.0
    for value in np.unique(scores)[::-1]:
        tied = scores == value
        tp += int(labels[tied].sum())
        fp += int((~labels[tied]).sum())
        recall = tp / positives
        ap += (recall - recall_before) * (tp / (tp + fp))
        recall_before = recall
    return float(ap)


def precision_at_recall(scores: np.ndarray, labels: np.ndarray, target: float) -> float:
    """The best precision among thresholds whose recall reaches ``target``."""
    labels = labels.astype(bool)
    best = 0.0
    for threshold in np.unique(scores):
        flagged = scores >= threshold
        tp = int((flagged & labels).sum())
        if tp / labels.sum() >= target:
            best = max(best, tp / int(flagged.sum()))
    return float(best)


def threshold_at_fpr(scores: np.ndarray, negatives: np.ndarray, fpr: float) -> float:
    """The lowest threshold (flag when score >= threshold) that flags at most ``fpr`` of the negatives."""
    allowed = int(np.floor(fpr * negatives.sum() + 1e-9))
    negative_scores = np.sort(scores[negatives])[::-1]
    if allowed >= len(negative_scores):
        return float(scores.min())
    # Strictly above the (allowed+1)-th highest negative score.
    return float(np.nextafter(negative_scores[allowed], np.inf))


def short_answers_report(pairs: Sequence[Pair]) -> dict[str, object]:
    scores = score_pairs(pairs, PROSE)
    labels = np.array([p.positive for p in pairs])
    categories = np.array([p.category for p in pairs])
    threshold = threshold_at_fpr(scores, categories == "non", 0.05)
    recall = {
        c: float(np.mean(scores[categories == c] >= threshold)) if np.any(categories == c) else None for c in ("cut", "light", "heavy")
    }
    return {
        "pairs": len(pairs),
        "pr_auc": round(average_precision(scores, labels), 4),
        "recall_at_5pct_fpr": {k: (round(v, 4) if v is not None else None) for k, v in recall.items()},
        "threshold_at_5pct_fpr": round(threshold, 4),
    }


def irplag_report(pairs: Sequence[Pair]) -> dict[str, object]:
    scores = score_pairs(pairs, CODE)
    labels = np.array([p.positive for p in pairs])
    per_case = {}
    for case in sorted({p.group for p in pairs}):
        members = np.array([p.group == case for p in pairs])
        if labels[members].any() and not labels[members].all():
            per_case[case] = round(average_precision(scores[members], labels[members]), 4)
    categories = np.array([p.category for p in pairs])
    return {
        "pairs": len(pairs),
        "pr_auc": round(average_precision(scores, labels), 4),
        "precision_at_90pct_recall": round(precision_at_recall(scores, labels, 0.9), 4),
        "pr_auc_per_case": per_case,
        "mean_score": {c: round(float(scores[categories == c].mean()), 4) for c in sorted(set(categories.tolist()))},
    }


def synthetic_text(rng: random.Random, vocabulary: Sequence[str], cumulative: Sequence[float], n_words: int) -> str:
    return " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=n_words))


def zipf_vocabulary(size: int = 20_000, exponent: float = 1.0) -> tuple[list[str], list[float]]:
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = sorted({"".join(rng.choices(letters, k=rng.randint(3, 10))) for _ in range(size * 2)})[:size]
    rng.shuffle(vocabulary)
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return vocabulary, list(np.cumsum(weights))


def junk_gate_latency(texts: Sequence[str], runs: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """p95 milliseconds of the junk gate on an honest 5,000-word text made of real answers, with a prompt,
    template and rubric of about 150 words each, so every rule runs in full."""
    pieces: list[str] = []
    count = 0
    for text in texts:
        for paragraph in text.split("\n"):
            pieces.append(paragraph)
            count += len(paragraph.split())
            if count >= 5000:
                break
        if count >= 5000:
            break
    text = "\n".join(pieces)
    prompt = " ".join(texts[0].split()[:150])
    template = " ".join(texts[1].split()[:150])
    rubric = " ".join(texts[2].split()[:150])
    if check_text(text, min_words=50, prompt=prompt, template=template, rubric_text=rubric):
        raise AssertionError("the benchmark's honest text was rejected")
    timings = []
    for _ in range(runs):
        started = clock()
        check_text(text, min_words=50, prompt=prompt, template=template, rubric_text=rubric)
        timings.append((clock() - started) * 1000)
    return float(np.percentile(timings, 95))


def in_memory_latency(sizes: Sequence[int], queries: int) -> dict[str, dict[str, float]]:
    """The submit-time check of a new 300-word submission against an in-memory index (not production storage)."""
    vocabulary, cumulative = zipf_vocabulary()
    rng = random.Random(3)
    out: dict[str, dict[str, float]] = {}
    index = InMemoryIndex()
    documents: dict[str, object] = {}
    indexed = 0
    for size in sorted(sizes):
        while indexed < size:
            doc = prepare(f"s{indexed}", synthetic_text(rng, vocabulary, cumulative, 300))
            index.add(doc.id, doc.hashes)
            documents[doc.id] = doc
            indexed += 1
        timings = []
        for q in range(queries):
            text = synthetic_text(rng, vocabulary, cumulative, 300)
            if q % 2:  # half the queries carry a copied passage, so scoring runs on a real candidate
                victim = documents[f"s{rng.randrange(size)}"]
                text = text[:900] + " " + victim.text[:900]  # type: ignore[attr-defined]
            started = time.perf_counter()
            doc = prepare("new", text)
            weights = {h: w for h, w in common_weights(index, doc.hashes).items()}
            for candidate in find_candidates(index, doc, min_shared=2, limit=5):
                compare(doc, documents[candidate.doc_id], weights=weights)  # type: ignore[arg-type]
            timings.append((time.perf_counter() - started) * 1000)
        out[str(size)] = {"p50_ms": round(float(np.percentile(timings, 50)), 3), "p95_ms": round(float(np.percentile(timings, 95)), 3)}
    return out


def run(data: Path, quick: bool) -> dict[str, object]:
    short = load_short_answers(data)
    irplag = load_irplag(data)
    # All the answers, each once: about 20,000 words of real prose for the gate's timing.
    answers = [p.suspect_text for p in short]
    if quick:
        short = [p for p in short if p.group in ("a", "b")]
        irplag = [p for p in irplag if p.group in ("case-01", "case-05")]
    started = time.perf_counter()
    result: dict[str, object] = {
        "short_answers": short_answers_report(short),
        "irplag": irplag_report(irplag),
        "junk_gate_p95_ms": round(junk_gate_latency(answers, 20 if quick else 200), 3),
        # CPU time of this thread only: what the gate costs when the machine is shared and the wall clock is not.
        "junk_gate_p95_cpu_ms": round(junk_gate_latency(answers, 20 if quick else 200, time.thread_time), 3),
        "latency_in_memory": in_memory_latency([200] if quick else [10_000, 100_000], 10 if quick else 100),
        "quick": quick,
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the JSON object (the only output)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding the data sets (default: ../shared/data)")
    parser.add_argument("--quick", action="store_true", help="a small subset, for the smoke test")
    args = parser.parse_args(argv)
    result = run(args.data, args.quick)
    print(json.dumps(result, sort_keys=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
