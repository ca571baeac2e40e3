"""Integrity benchmark: how well copies are told from honest work, and how fast the junk gate and the copy check are.

    DATABASE_URL=postgresql://.../an_empty_database python bench/integrity.py --json [--data DIR] [--quick]
        [--sizes 10000,100000] [--database-url URL] [--workers N] [--latency-only]

Prints one JSON object as the last line of stdout (progress goes to stderr):
- ``short_answers``: the Clough and Stevenson (2011) corpus, each answer paired with its task's source text;
  PR-AUC (average precision) of "copied" (cut, light, heavy) against ``non``, and the recall of each copy
  category at the threshold that lets through at most 5% of the ``non`` answers as false positives.
- ``irplag``: IR-Plag (Karnalim et al.), each Java file paired with its case's original; PR-AUC pooled over all
  pairs, and precision at 90% recall.
- ``irplag_sweep``, ``soco_c``, ``emse25`` (per collection, ``mean``, ``min``): PR-AUC of the code sets, each
  collection swept as ``fairpeer similarity`` sweeps a folder. IR-Plag: each case folder, its (original, file) pairs
  ranked; SOCO-C: the 79 programs, the judged pairs positive; emse25: one collection per variant kind (``human/``
  plus that folder), every pair ranked, positive when the two share the README's ``<id>`` (a variant and its
  original, or two variants of one original). ``leave_one_out``: each set scored with the tile and note weight
  that do best on the others; ``joint_best``: the point best on all together, with each set's figure there.
- ``junk_gate_p95_ms``: the junk gate on a 5,000-word text (``junk_gate_p95_cpu_ms``: its CPU time).
- ``latency``: per index size (``--sizes``, default 10,000 and 100,000), the submit-time check of one new
  300-word submission in the storage production uses: ``reviews.integrity.services.check_submission`` itself, on
  PostgreSQL, against an index of that many synthetic submissions of 300 words drawn by Zipf's law from a
  20,000-word vocabulary. ``p50_ms`` and ``p95_ms`` over 200 checks (``p95_cpu_ms``: this process's CPU time),
  each in its own transaction, rolled back so the index keeps its size; every other new submission carries a
  150-word passage copied from a random indexed one. ``copied_recall`` is the share of those whose check opened a
  case naming the copied submission (the bench fails unless it is 1.0: a broken check is not measured as a fast
  one), ``honest_flagged`` the others that opened one. The figures are taken with the tables and indexes the check
  reads in memory (a server's steady state: ``warm_seconds`` is the time to read them);
  ``unwarmed_p50_ms``/``unwarmed_p95_ms`` are 200 more checks taken before, as the bulk load left the caches.
  ``latency_ratio_p95``: p95 at the largest size over p95 at the smallest.
- ``index_rate_per_s``: submissions indexed per second as the worker does it, ``check_submission`` and a commit
  per submission, over 500 new submissions (half of them copies) at the largest index size (``index_rate``: the
  details).
- ``load_seconds``: time to grow the index to each size. The database gets one course and assignment, a learner
  per submission, real ``submissions`` rows marked as checked and their fingerprints exactly as
  ``check_submission`` stores them (``prepare``, minus the assignment's template hashes, as signed 64-bit
  integers), computed once in ``--workers`` processes and written by COPY; for a load that at least doubles the
  index, the postings table's keys are rebuilt afterwards with the definitions the migrations gave them; then
  VACUUM ANALYZE, as autovacuum would.

``latency`` needs PostgreSQL: give an empty database of the bench's own with ``--database-url`` (default:
``DATABASE_URL``). The bench migrates it to head, refuses it if any table holds a row, and empties every table
again when it is done; it never creates or drops a database. Without one, ``latency`` and ``index_rate_per_s`` are
null, with a ``latency_note``, and ``latency_in_memory`` gives the same check against an in-memory index (not
production storage; it is also given with ``--quick``).

Each pair is scored as in production: the pair's texts are compared with the fingerprints common to their
collection (a short-answer task's answers, an IR-Plag case's files) down-weighted.
``--quick`` runs a small subset for the test suite's smoke tests (index sizes 200 and 1,000, 20 checks each);
``--latency-only`` skips the accuracy figures and the junk gate.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import json
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from sqlalchemy import literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from detection.files import decode_text  # noqa: E402
from detection.fingerprints import CODE, PROSE  # noqa: E402
from detection.folder import read_submissions, sweep  # noqa: E402
from detection.gate import check_text  # noqa: E402
from detection.similarity import (  # noqa: E402
    CODE_SCORING,
    CODE_WEIGHTING,
    CodeScoring,
    CommonWeighting,
    InMemoryIndex,
    candidate_pairs,
    code_match,
    collection_weights,
    common_weights,
    compare,
    find_candidates,
    language_of,
    maximal_runs,
    pair_tiles,
    prepare,
    sums_of_tiles,
)
from detection.text import normalised_hash  # noqa: E402
from reviews.integrity.index import to_signed  # noqa: E402
from reviews.integrity.services import _excluded, check_submission, scope_of  # noqa: E402
from reviews.kernel.db import make_engine, normalise_url, utcnow  # noqa: E402
from reviews.kernel.migrate import upgrade  # noqa: E402
from reviews.models import Assignment, Case, Course, Submission, User, metadata  # noqa: E402
from reviews.submissions.models import ACTIVE, LEARNER_WORK  # noqa: E402

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


# ---------------------------------------------------------------- code sets, swept as `fairpeer similarity` does


@dataclass
class Collection:
    """A code collection as ``fairpeer similarity`` reads it, and which of its pairs are labelled."""

    name: str
    texts: list[tuple[str, str]]
    kinds: dict[str, str]
    languages: dict[str, str]
    positive: Callable[[str, str], bool]
    scored: Callable[[str, str], bool] = lambda a, b: True  # which pairs the set's figure ranks


def _submissions(folder: Path, prefix: str = "") -> tuple[list[tuple[str, str]], dict[str, str], dict[str, str]]:
    texts, kinds, languages = read_submissions(folder)
    return (
        [(prefix + name, text) for name, text in texts],
        {prefix + k: v for k, v in kinds.items()},
        {prefix + k: v for k, v in languages.items()},
    )


def irplag_collections(data: Path, cases: Sequence[str] | None = None) -> list[Collection]:
    """Each IR-Plag case folder swept whole; its figure ranks the (original, file) pairs."""
    out = []
    for case in sorted(p for p in (data / "plagiarism-java-irplag").iterdir() if p.is_dir()):
        if cases is not None and case.name not in cases:
            continue
        texts, kinds, languages = _submissions(case)
        out.append(
            Collection(
                case.name,
                texts,
                kinds,
                languages,
                positive=lambda a, b: "plagiarized/" in (a + b) and "non-plagiarized/" not in (a + b),
                scored=lambda a, b: (a == "original") != (b == "original"),
            )
        )
    return out


def soco_collection(data: Path) -> Collection:
    folder = data / "plagiarism-c-soco"
    judged = set()
    for line in (folder / "SOCO14-c.qrel").read_text(encoding="utf-8").split("\n"):
        parts = line.split()
        if len(parts) >= 2:
            judged.add(frozenset(parts[:2]))
    texts, kinds, languages = _submissions(folder / "c")
    return Collection("soco_c", texts, kinds, languages, positive=lambda a, b: frozenset((a, b)) in judged)


def _emse_owner(name: str) -> str:
    leaf = name.rsplit("/", 1)[-1]
    return leaf.split("-", 1)[1] if leaf.startswith(("plag-", "gpt")) and "-" in leaf else leaf


def emse25_collections(data: Path) -> list[Collection]:
    """One collection per variant kind of each problem (its README): ``human/`` plus that variant folder."""
    out = []
    for problem in sorted(p for p in (data / "plagiarism-emse25").iterdir() if p.is_dir()):
        human = _submissions(problem / "human", "human/")
        for variant in ("insert", "refactor", "gptobf"):
            if not (problem / variant).is_dir():
                continue
            extra = _submissions(problem / variant, variant + "/")
            out.append(
                Collection(
                    f"{problem.name}/{variant}",
                    human[0] + extra[0],
                    {**human[1], **extra[1]},
                    {**human[2], **extra[2]},
                    # The README's label: positive when the two share an <id> (one a variant of the other, or two
                    # variants of the one original: both are copies of it, so of each other); negative otherwise.
                    positive=lambda a, b: _emse_owner(a) == _emse_owner(b),
                )
            )
    return out


def sweep_pr_auc(collections: Sequence[Collection], scoring: CodeScoring | None = None) -> float:
    """PR-AUC pooled over the collections' scored pairs, each pair scored by the CLI's sweep (a pair it does
    not report scores 0)."""
    scores, labels = [], []
    for c in collections:
        reported = {(p["a"], p["b"]): p["score"] for p in sweep(c.texts, c.kinds, c.languages, scoring=scoring)}
        names = sorted(name for name, _ in c.texts)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if c.scored(a, b):
                    scores.append(reported.get((a, b), 0.0))
                    labels.append(c.positive(a, b))
    return average_precision(np.array(scores), np.array(labels))


# The grid every code parameter is chosen on, across all the code sets together (and, for ``leave_one_out``, on
# all but one). Structure: (minimum match, tile seed, gap between chained tiles); the weighting's IDF power; the
# notes' weight; the max's share of the score.
GRID_STRUCTURES = ((12, 12, 0), (16, 16, 0), (16, 6, 8), (20, 6, 8), (24, 6, 8), (28, 6, 8), (28, 6, 12), (32, 6, 8), (36, 6, 8))
GRID_POWERS = (1.0, 1.5, 2.0, 2.5, 3.0)
GRID_NOTE_WEIGHTS = (0.5, 1.0, 2.0)
GRID_MAX_SHARES = (0.0, 0.25)

GridPoint = tuple[int, int, int, float, float, float]  # tile, seed, gap, power, note_weight, max_share


def shipped_point() -> GridPoint:
    s = CODE_SCORING
    return (s.tile, s.seed or s.tile, s.gap, CODE_WEIGHTING.power, s.note_weight, s.max_share)


def set_grid(collections: Sequence[Collection], points: Sequence[GridPoint]) -> dict[GridPoint, float]:
    """PR-AUC of a set (its collections' scored pairs pooled) at every grid point."""
    labels, scores = grid_scores(collections, points)
    return {point: average_precision(values, labels) for point, values in scores.items()}


def grid_scores(collections: Sequence[Collection], points: Sequence[GridPoint]) -> tuple[np.ndarray, dict[GridPoint, np.ndarray]]:
    """The labels of a set's scored pairs and their scores at every grid point, with the very functions
    ``compare_all`` runs (same documents, languages, pairs, weighting and tiling). The maximal runs of each pair
    are found once at the smallest seed; the tiles once per structure; the weighted sums once per structure and
    power."""
    none: frozenset[int] = frozenset()  # one object: documents keep what they counted for the last one they saw
    prepared = []
    for c in collections:
        docs = [prepare(name, text, c.kinds[name], language=language_of(name, c.languages)) for name, text in c.texts]
        pairs = [(a, b, c.positive(a.id, b.id)) for a, b in candidate_pairs(docs, none) if c.scored(a.id, b.id)]
        prepared.append((docs, pairs))
    labels = np.array([positive for _, pairs in prepared for _, _, positive in pairs])
    min_seed = min(p[1] for p in points)
    runs = [[maximal_runs(a.token_ids, b.token_ids, min_seed) for a, b, _ in pairs] for _, pairs in prepared]
    out: dict[GridPoint, np.ndarray] = {}
    for structure in sorted({p[:3] for p in points}):
        tile, seed, gap = structure
        scoring = CodeScoring(tile=tile, seed=seed, gap=gap)
        tiles = [
            [
                pair_tiles(a, b, scoring, runs=pair_runs)  # take_tiles keeps the runs of at least ``seed``
                for (a, b, _), pair_runs in zip(pairs, set_runs, strict=True)
            ]
            for (_, pairs), set_runs in zip(prepared, runs, strict=True)
        ]
        for power in sorted({p[3] for p in points if p[:3] == structure}):
            weighting = replace(CODE_WEIGHTING, power=power)
            sums = []
            for (docs, pairs), set_tiles in zip(prepared, tiles, strict=True):
                weights = collection_weights(docs, none, weighting)
                sums.extend(sums_of_tiles(a, b, t, excluded=none, weights=weights) for (a, b, _), t in zip(pairs, set_tiles, strict=True))
            for point in points:
                if point[:4] == (*structure, power):
                    scored = CodeScoring(tile=tile, seed=seed, gap=gap, note_weight=point[4], max_share=point[5])
                    out[point] = np.array([code_match(x, scored).score for x in sums])
    return labels, out


def grid_points() -> list[GridPoint]:
    points = {
        (tile, seed, gap, power, note_weight, max_share)
        for tile, seed, gap in GRID_STRUCTURES
        for power in GRID_POWERS
        for note_weight in GRID_NOTE_WEIGHTS
        for max_share in GRID_MAX_SHARES
    }
    return sorted(points | {shipped_point()})


def _set_grid_job(job: tuple[str, Path, bool]) -> tuple[str, dict[GridPoint, float]]:
    """One set's grid, in a worker process (collections hold functions, so each worker reads its own)."""
    name, data, quick = job
    return name, set_grid(code_sets(data, quick)[name], grid_points())


def code_sets(data: Path, quick: bool) -> dict[str, list[Collection]]:
    """The code sets, by name: IR-Plag (each case folder a collection), SOCO-C, each emse25 collection."""
    sets: dict[str, list[Collection]] = {
        "irplag": irplag_collections(data, ["case-01"] if quick else None),
        "soco_c": [soco_collection(data)],
    }
    emse = emse25_collections(data)
    if quick:
        emse = [c for c in emse if c.name == "Progpedia19/insert"]
    for c in emse:
        sets[f"emse25/{c.name}"] = [c]
    return sets


def code_sets_report(data: Path, quick: bool, workers: int = 2) -> dict[str, Any]:
    """``irplag_sweep``, ``soco_c``, ``emse25`` with the shipped parameters (through the CLI's sweep);
    ``joint_best``: the grid point with the best mean PR-AUC over the data sets (:func:`_objective`);
    ``leave_one_out``: each set scored with the point that is best on the other data sets."""
    sets = code_sets(data, quick)
    shipped = {name: round(sweep_pr_auc(cols), 4) for name, cols in sets.items()}
    report: dict[str, Any] = {
        "irplag_sweep": {"pr_auc": shipped["irplag"]},
        "soco_c": {"pr_auc": shipped["soco_c"]},
        "emse25": {name.split("/", 1)[1]: {"pr_auc": v} for name, v in shipped.items() if name.startswith("emse25/")},
        "code_scoring": {
            "tile": CODE_SCORING.tile,
            "seed": CODE_SCORING.seed or CODE_SCORING.tile,
            "gap": CODE_SCORING.gap,
            "idf_power": CODE_WEIGHTING.power,
            "note_weight": CODE_SCORING.note_weight,
            "max_share": CODE_SCORING.max_share,
        },
    }
    emse_values = [v for name, v in shipped.items() if name.startswith("emse25/")]
    report["emse25"]["mean"] = round(float(np.mean(emse_values)), 4)
    report["emse25"]["min"] = round(float(np.min(emse_values)), 4)
    if quick:  # no grid: each set's figure with the shipped parameters stands for its leave-one-out one
        grid = {shipped_point(): dict(shipped)}
    else:
        grid = {}
        # The largest sets first, so the two processes finish together.
        by_size = sorted(sets, key=lambda name: -sum(len(c.texts) ** 2 for c in sets[name]))
        jobs = [(name, data, quick) for name in by_size]
        with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
            for name, values in pool.map(_set_grid_job, jobs):
                for point, value in values.items():
                    grid.setdefault(point, {})[name] = value
    loo: dict[str, float] = {}
    groups = _selection_groups(list(sets))
    for group, members in groups.items():
        best = max(grid, key=lambda point: _objective(grid[point], groups, leave_out=group))
        for name in members:
            loo[name] = round(grid[best][name], 4)
    joint = max(grid, key=lambda point: _objective(grid[point], groups))
    report["leave_one_out"] = loo
    report["joint_best"] = {
        "tile": joint[0],
        "seed": joint[1],
        "gap": joint[2],
        "idf_power": joint[3],
        "note_weight": joint[4],
        "max_share": joint[5],
        **{k: round(v, 4) for k, v in grid[joint].items()},
    }
    report["shipped_in_grid"] = {k: round(v, 4) for k, v in grid.get(shipped_point(), {}).items()}
    return report


def _selection_groups(names: Sequence[str]) -> dict[str, list[str]]:
    """The data sets a parameter choice is judged on and left out by: IR-Plag, SOCO-C, and each emse25 problem
    (its collections are one problem's submissions, so leaving one of them out would still tune on the others)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        key = "emse25/" + name.split("/")[1] if name.startswith("emse25/") else name
        groups.setdefault(key, []).append(name)
    return groups


def _objective(values: Mapping[str, float], groups: Mapping[str, list[str]], leave_out: str | None = None) -> float:
    """The mean PR-AUC over the data sets (each emse25 problem counting as one, the mean of its collections),
    ``leave_out`` left out."""
    return float(np.mean([np.mean([values[n] for n in members]) for group, members in groups.items() if group != leave_out]))


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
            weights = dict(common_weights(index, doc.hashes))
            for candidate in find_candidates(index, doc, min_shared=2, limit=5):
                compare(doc, documents[candidate.doc_id], weights=weights)  # type: ignore[arg-type]
            timings.append((time.perf_counter() - started) * 1000)
        out[str(size)] = {"p50_ms": round(float(np.percentile(timings, 50)), 3), "p95_ms": round(float(np.percentile(timings, 95)), 3)}
    return out


# ---------------------------------------------------------------- the submit-time check in production storage

# The assignment every synthetic submission answers: its prompt, template and rubric are the template text whose
# k-grams are excluded from the index and from scoring, as for any real assignment.
BENCH_PROMPT = "Write about three hundred words in your own words on the topic of the week, and cite what you read."
BENCH_TEMPLATE = "Topic: ____. What I read: ____. What I think and why: ____."
BENCH_RUBRIC = {
    "criteria": [
        {"key": "argument", "title": "Argument", "description": "Is the position clear and supported?", "max_points": 4},
        {"key": "sources", "title": "Sources", "description": "Are the readings used and cited?", "max_points": 4},
    ]
}
WORDS_PER_SUBMISSION = 300
COPIED_WORDS = 150
LOAD_CHUNK = 1000  # submissions per bulk-load task

_corpus: tuple[list[str], list[float]] | None = None


def _vocabulary() -> tuple[list[str], list[float]]:
    global _corpus
    if _corpus is None:
        _corpus = zipf_vocabulary()
    return _corpus


def bench_id(kind: str, i: int) -> str:
    """A deterministic id shaped like the service's (22 URL-safe characters from 128 bits)."""
    digest = hashlib.blake2b(f"fairpeer-bench:{kind}:{i}".encode(), digest_size=16).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def indexed_text(i: int) -> str:
    """The i-th indexed submission: 300 words drawn by Zipf's law, recomputed from ``i`` (so nothing is kept)."""
    vocabulary, cumulative = _vocabulary()
    return synthetic_text(random.Random(f"indexed:{i}"), vocabulary, cumulative, WORDS_PER_SUBMISSION)


def new_text(key: str, victim: int | None) -> str:
    """A new 300-word submission; with a ``victim``, its second half is a 150-word passage copied from it."""
    vocabulary, cumulative = _vocabulary()
    rng = random.Random(f"new:{key}")
    if victim is None:
        return synthetic_text(rng, vocabulary, cumulative, WORDS_PER_SUBMISSION)
    own = synthetic_text(rng, vocabulary, cumulative, WORDS_PER_SUBMISSION - COPIED_WORDS)
    source = indexed_text(victim).split()
    start = rng.randrange(len(source) - COPIED_WORDS + 1)
    return own + " " + " ".join(source[start : start + COPIED_WORDS])


def _copy_field(value: str) -> str:
    """A value in COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@dataclass(frozen=True)
class LoadTask:
    start: int
    end: int
    scope: str
    assignment_id: str
    excluded: frozenset[int]
    first_created: datetime  # naive UTC, as stored


def load_rows(task: LoadTask) -> tuple[str, str, str, str]:
    """COPY text for indexed submissions ``start..end``: users, submissions, fingerprint_documents, fingerprints.

    The fingerprints are exactly what :func:`check_submission` stores: the winnowed hashes of ``prepare`` minus the
    assignment's template hashes, as signed 64-bit integers."""
    users, submissions, documents, fingerprints = [], [], [], []
    for i in range(task.start, task.end):
        submission_id, author_id = bench_id("submission", i), bench_id("learner", i)
        text = indexed_text(i)
        created = (task.first_created + timedelta(milliseconds=i)).isoformat(sep=" ")
        hashes = sorted({to_signed(h) for h in prepare(submission_id, text, PROSE).hashes - task.excluded})
        users.append(f"{author_id}\t{created}\tlearner-{i}@bench.invalid\tLearner {i}\tf\n")
        submissions.append(
            "\t".join(
                (
                    submission_id,
                    created,
                    task.assignment_id,
                    author_id,
                    LEARNER_WORK,
                    "1",
                    ACTIVE,
                    _copy_field(text),
                    normalised_hash(text),
                    "0",
                    "0",
                    "\\N",
                    created,
                    "\\N",
                )
            )
            + "\n"
        )
        documents.append(f"{task.scope}\t{submission_id}\t{len(hashes)}\n")
        fingerprints.extend(f"{task.scope}\t{h}\t{submission_id}\n" for h in hashes)
    return "".join(users), "".join(submissions), "".join(documents), "".join(fingerprints)


COPY_USERS = "COPY users (id, created_at, email, name, is_admin) FROM STDIN"
COPY_SUBMISSIONS = (
    "COPY submissions (id, created_at, assignment_id, author_id, kind, attempt, status, text, content_hash, review_load, "
    "reviews_done, reviews_target, similarity_checked_at, cancelled_reason) FROM STDIN"
)
COPY_DOCUMENTS = "COPY fingerprint_documents (scope, submission_id, fingerprints) FROM STDIN"
COPY_FINGERPRINTS = "COPY fingerprints (scope, hash, submission_id) FROM STDIN"


def _psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ProductionBench:
    """A PostgreSQL database migrated to head, holding one course with one assignment, filled with synthetic
    indexed submissions by bulk COPY, and checked through :func:`check_submission` itself."""

    def __init__(self, url: str, workers: int, log: Callable[[str], None]) -> None:
        self.url, self.workers, self.log = url, workers, log
        self.engine = make_engine(url)
        self.sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.indexed = 0
        self.query_users: list[str] = []

    # -- setup and teardown

    def migrate(self) -> None:
        """Migrate the database to head, and make sure it holds nothing: the bench empties it when it is done."""
        upgrade(normalise_url(self.url))
        with self.sessions() as session:
            for table in metadata.sorted_tables:
                if session.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
                    raise SystemExit(
                        f"{make_url(self.url).database}: the database already holds {table.name}; the integrity bench fills an "
                        "empty database of its own (create one, pass it with --database-url, drop it afterwards)."
                    )

    def setup(self, query_users: int) -> None:
        """The course, its assignment, and the learners whose new submissions are checked."""
        with self.sessions() as session:
            course = Course(title="Integrity bench", slug="integrity-bench")
            session.add(course)
            session.flush()
            assignment = Assignment(
                course_id=course.id, title="Essay", prompt=BENCH_PROMPT, template=BENCH_TEMPLATE, rubric=BENCH_RUBRIC, min_words=50
            )
            session.add(assignment)
            session.flush()
            self.query_users = [bench_id("query-learner", j) for j in range(query_users)]
            session.add_all(
                User(id=uid, email=f"query-{j}@bench.invalid", name=f"Query learner {j}") for j, uid in enumerate(self.query_users)
            )
            session.commit()
            self.assignment_id, self.course_id = assignment.id, course.id
            self.scope = scope_of(assignment)
            self.excluded = _excluded(assignment)
        # Indexed work is older than anything checked by the bench.
        self.first_created = (utcnow() - timedelta(days=30)).replace(tzinfo=None)

    def clean(self) -> None:
        """Empty the database again: every table of the schema was empty when the bench started."""
        self.engine.dispose()
        with psycopg.connect(_psycopg_url(self.url), autocommit=True) as conn:
            conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(t.name) for t in metadata.sorted_tables)))

    # -- the bulk load

    def grow_to(self, size: int) -> float:
        """Load indexed submissions up to ``size`` (COPY, fingerprints computed once in ``workers`` processes), then
        VACUUM ANALYZE as autovacuum would. Returns the seconds it took."""
        if size <= self.indexed:
            return 0.0
        started = time.perf_counter()
        tasks = [
            LoadTask(start, min(start + LOAD_CHUNK, size), self.scope, self.assignment_id, self.excluded, self.first_created)
            for start in range(self.indexed, size, LOAD_CHUNK)
        ]
        with psycopg.connect(_psycopg_url(self.url)) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            # The postings table's indexes and foreign key are rebuilt after the load, with the very definitions the
            # migrations gave them (one sort instead of millions of random inserts and foreign-key lookups).
            dropped = self._drop_fingerprint_constraints(conn) if size >= 2 * self.indexed else []
            conn.commit()
            try:
                with ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                    for done, (users, submissions, documents, fingerprints) in enumerate(pool.map(load_rows, tasks), 1):
                        with conn.cursor() as cur:
                            for statement, data in (
                                (COPY_USERS, users),
                                (COPY_SUBMISSIONS, submissions),
                                (COPY_DOCUMENTS, documents),
                                (COPY_FINGERPRINTS, fingerprints),
                            ):
                                with cur.copy(statement) as copy:
                                    copy.write(data)
                        conn.commit()
                        if done % 10 == 0:
                            self.log(f"loaded {tasks[done - 1].end} submissions ({time.perf_counter() - started:.0f}s)")
            finally:
                conn.rollback()
                for statement in dropped:
                    self.log(statement.split(" (")[0])
                    conn.execute(statement)
                conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM (ANALYZE) users, submissions, fingerprint_documents, fingerprints")
        self.indexed = size
        seconds = time.perf_counter() - started
        self.log(f"index holds {size} submissions ({seconds:.0f}s)")
        return seconds

    @staticmethod
    def _drop_fingerprint_constraints(conn: psycopg.Connection[Any]) -> list[str]:
        """Drop the fingerprints table's indexes and constraints; return the statements that restore them."""
        constraints = conn.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'fingerprints'::regclass ORDER BY contype DESC"
        ).fetchall()  # p(rimary) before f(oreign)
        indexes = conn.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = 'fingerprints'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)"
        ).fetchall()
        restore = [f'ALTER TABLE fingerprints ADD CONSTRAINT "{name}" {definition}' for name, _, definition in constraints]
        restore += [definition for _, definition in indexes]
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for name, _, _ in reversed(constraints):
            conn.execute(f'ALTER TABLE fingerprints DROP CONSTRAINT "{name}"')
        return restore

    # -- the checks

    def _new_submission(self, session: Session, key: str, author_id: str, victim: int | None) -> str:
        text = new_text(key, victim)
        submission = Submission(
            assignment_id=self.assignment_id,
            author_id=author_id,
            kind=LEARNER_WORK,
            attempt=1,
            status=ACTIVE,
            text=text,
            content_hash=normalised_hash(text),
            created_at=utcnow(),
        )
        session.add(submission)
        session.flush()
        submission_id = submission.id
        session.expunge_all()  # the check loads it from the database, as a worker does
        return submission_id

    def warm(self) -> float:
        """Read what the check reads (the postings' primary key, the documents' key, the submissions) into memory,
        as a server keeps its working set; returns the seconds it took. Some machines drop file pages soon after
        they are written (this one's virtual machine reclaims idle page cache), so a bulk load leaves them cold."""
        started = time.perf_counter()
        with psycopg.connect(_psycopg_url(self.url), autocommit=True) as conn:
            conn.execute("SET enable_seqscan = off")
            conn.execute("SET enable_bitmapscan = off")
            # hash >= the smallest BIGINT: only the primary key serves it, read whole by an index-only scan.
            conn.execute("SELECT count(*) FROM fingerprints WHERE scope = %s AND hash >= %s", (self.scope, -(1 << 63)))
            conn.execute("SELECT count(*) FROM fingerprint_documents WHERE scope = %s", (self.scope,))
            conn.execute("SELECT count(*) FROM submissions WHERE id >= ''")
            conn.execute("SET enable_seqscan = on")
            conn.execute("SELECT sum(length(text)) FROM submissions")
        return time.perf_counter() - started

    def _checks(self, queries: int, key: str, warmup: int) -> tuple[list[float], list[float], int, int, int]:
        """``check_submission`` of ``queries`` new submissions, each in its own transaction rolled back afterwards
        (the index keeps its size); every other one carries a 150-word passage copied from an indexed one.
        Returns wall and CPU milliseconds, and how many copies were found, of how many, and honest ones flagged."""
        rng = random.Random(f"queries:{key}:{self.indexed}")
        timings, cpu, found, copied, honest_flagged = [], [], 0, 0, 0
        for q in range(warmup + queries):
            victim = rng.randrange(self.indexed) if q % 2 else None
            with self.sessions() as session:
                submission_id = self._new_submission(
                    session, f"{key}:{self.indexed}:{q}", self.query_users[q % len(self.query_users)], victim
                )
                started, started_cpu = time.perf_counter(), time.thread_time()
                opened = check_submission(session, submission_id)
                session.flush()  # what the worker's commit writes
                elapsed, elapsed_cpu = time.perf_counter() - started, time.thread_time() - started_cpu
                if victim is not None and opened:
                    # The case names the copied submission.
                    earlier = session.scalars(select(Case.subject_ids).where(Case.submission_id == submission_id)).all()
                    opened = int(any(ids[0] == bench_id("submission", victim) for ids in earlier))
                session.rollback()
            if q < warmup:
                continue
            timings.append(elapsed * 1000)
            cpu.append(elapsed_cpu * 1000)
            if victim is not None:
                copied += 1
                found += opened > 0
            else:
                honest_flagged += opened > 0
        return timings, cpu, found, copied, honest_flagged

    def latency(self, queries: int) -> dict[str, float | int | None]:
        """p50 and p95 of the check with the working set in memory (after :meth:`warm`), and before, as the bulk
        load left it (``unwarmed_*``); the recall of the copies over both."""
        cold, _, cold_found, cold_copied, cold_flagged = self._checks(queries, "unwarmed", warmup=2)
        warm_seconds = self.warm()
        timings, cpu, found, copied, honest_flagged = self._checks(queries, "warm", warmup=5)
        found, copied, honest_flagged = found + cold_found, copied + cold_copied, honest_flagged + cold_flagged

        def ms(values: list[float], q: int) -> float:
            return round(float(np.percentile(values, q)), 3)

        return {
            "p50_ms": ms(timings, 50),
            "p95_ms": ms(timings, 95),
            "p95_cpu_ms": ms(cpu, 95),
            "unwarmed_p50_ms": ms(cold, 50),
            "unwarmed_p95_ms": ms(cold, 95),
            "warm_seconds": round(warm_seconds, 1),
            "checks": 2 * queries,
            "copied": copied,
            "copied_recall": round(found / copied, 4) if copied else None,
            "honest_flagged": honest_flagged,
        }

    def index_rate(self, count: int) -> dict[str, float | int]:
        """Submissions indexed per second as the worker does it: ``check_submission`` and a commit, one
        transaction per submission (half of them copies, which open a case)."""
        rng = random.Random(f"index-rate:{self.indexed}")
        ids = []
        with self.sessions() as session:
            authors = [
                User(id=bench_id("rate-learner", j), email=f"rate-{j}@bench.invalid", name=f"Rate learner {j}") for j in range(count)
            ]
            session.add_all(authors)
            session.flush()
            for j, author in enumerate(authors):
                ids.append(self._new_submission(session, f"rate:{j}", author.id, rng.randrange(self.indexed) if j % 2 else None))
            session.commit()
        opened = 0
        started = time.perf_counter()
        for submission_id in ids:
            with self.sessions() as session:
                opened += check_submission(session, submission_id) > 0
                session.commit()
        seconds = time.perf_counter() - started
        self.indexed += count
        return {"submissions": count, "seconds": round(seconds, 2), "cases_opened": opened}


def production_latency(url: str, sizes: Sequence[int], queries: int, index_runs: int, workers: int) -> dict[str, object]:
    """The ``latency`` and ``index_rate_per_s`` figures, in PostgreSQL."""

    def log(message: str) -> None:
        print(f"[integrity bench] {message}", file=sys.stderr, flush=True)

    bench = ProductionBench(url, workers, log)
    bench.migrate()
    with psycopg.connect(_psycopg_url(url)) as conn:
        server_version = conn.execute("SHOW server_version").fetchone()[0].split()[0]  # type: ignore[index]
    try:
        bench.setup(query_users=queries + 10)
        latency: dict[str, object] = {}
        load: dict[str, float] = {}
        for size in sorted(sizes):
            load[str(size)] = round(bench.grow_to(size), 1)
            latency[str(size)] = bench.latency(queries)
            log(f"{size}: {latency[str(size)]}")
        rate = bench.index_rate(index_runs)
        log(f"index rate: {rate}")
    finally:
        bench.clean()
    ordered = sorted(sizes)
    p95 = [latency[str(s)]["p95_ms"] for s in ordered]  # type: ignore[index]
    return {
        "latency": latency,
        "latency_ratio_p95": round(p95[-1] / p95[0], 3) if len(p95) > 1 and p95[0] else None,
        "index_rate_per_s": round(rate["submissions"] / rate["seconds"], 1) if rate["seconds"] else None,
        "index_rate": {**rate, "index_size": ordered[-1]},
        "load_seconds": load,
        "latency_storage": f"PostgreSQL {server_version}",
    }


def is_postgres(url: str | None) -> bool:
    return bool(url) and make_url(url).get_backend_name() == "postgresql"  # type: ignore[arg-type]


def run(
    data: Path,
    quick: bool,
    *,
    sizes: Sequence[int] | None = None,
    database_url: str | None = None,
    workers: int = 2,
    accuracy: bool = True,
) -> dict[str, object]:
    started = time.perf_counter()
    result: dict[str, object] = {}
    if accuracy:
        short = load_short_answers(data)
        irplag = load_irplag(data)
        # All the answers, each once: about 20,000 words of real prose for the gate's timing.
        answers = [p.suspect_text for p in short]
        if quick:
            short = [p for p in short if p.group in ("a", "b")]
            irplag = [p for p in irplag if p.group in ("case-01", "case-05")]
        result.update(
            {
                "short_answers": short_answers_report(short),
                "irplag": irplag_report(irplag),
                **code_sets_report(data, quick, workers),
                "junk_gate_p95_ms": round(junk_gate_latency(answers, 20 if quick else 200), 3),
                # CPU time of this thread only: what the gate costs when the machine is shared and the wall clock is not.
                "junk_gate_p95_cpu_ms": round(junk_gate_latency(answers, 20 if quick else 200, time.thread_time), 3),
            }
        )
    sizes = list(sizes or ([200, 1000] if quick else [10_000, 100_000]))
    if is_postgres(database_url):
        assert database_url is not None
        result.update(production_latency(database_url, sizes, 20 if quick else 200, 50 if quick else 500, workers))
    else:
        result.update(
            {
                "latency": None,
                "latency_note": "latency and index_rate_per_s are measured in the storage production uses: give a PostgreSQL "
                "database with --database-url or DATABASE_URL. latency_in_memory is an in-memory index, not production storage.",
                "index_rate_per_s": None,
            }
        )
    if quick or not is_postgres(database_url):
        result["latency_in_memory"] = in_memory_latency(sizes[:1] if quick else sizes, 10 if quick else 100)
    result["quick"] = quick
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def copies_missed(result: dict[str, object]) -> list[str]:
    """The index sizes at which a copied passage went unflagged: the check would then be measured broken."""
    latency = result.get("latency") or {}
    return [size for size, figures in latency.items() if figures["copied_recall"] != 1.0]  # type: ignore[union-attr,index]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the JSON object (the only output)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding the data sets (default: ../shared/data)")
    parser.add_argument("--quick", action="store_true", help="a small subset, for the smoke test")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="an empty PostgreSQL database of the bench's own for latency (default: $DATABASE_URL)",
    )
    parser.add_argument(
        "--sizes", type=_sizes, default=None, help="index sizes, comma-separated (default: 10000,100000; --quick: 200,1000)"
    )
    parser.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes computing fingerprints for the bulk load"
    )
    parser.add_argument("--latency-only", action="store_true", help="skip the accuracy figures and the junk gate")
    args = parser.parse_args(argv)
    result = run(
        args.data,
        args.quick,
        sizes=args.sizes,
        database_url=args.database_url,
        workers=max(1, args.workers),
        accuracy=not args.latency_only,
    )
    print(json.dumps(result, sort_keys=False))
    missed = copies_missed(result)
    if missed:
        print(f"copied passages went unflagged at index sizes {', '.join(missed)}: the check is broken", file=sys.stderr)
        return 1
    return 0


def _sizes(value: str) -> list[int]:
    sizes = sorted({int(part) for part in value.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("give positive index sizes, e.g. 10000,100000")
    return sizes


if __name__ == "__main__":
    raise SystemExit(main())
