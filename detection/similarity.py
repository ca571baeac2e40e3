"""Near-duplicate scoring: containment of fingerprints, template matches subtracted, common matches down-weighted.

A containment is the (weighted) share of one text's counted k-grams (for code: tokens covered by tiles, and notes)
that also occur in the other. The score of a prose pair is the larger of the two containments, so a copied part
inside a longer answer still scores high for the shorter text; the score of a code pair leans on their mean
(:class:`CodeScoring`), so a short program is not "contained" in a long one by chance, and both one-sided
containments are reported beside it.
K-grams that also occur in the prompt or template do not count at all. K-grams that occur in a large share of
the collection (boilerplate everybody writes) are down-weighted; because a containment is a ratio, a text whose
k-grams are all equally common keeps its score, so many copies of one original still show as copies.

Winnowed fingerprints go into an index to find candidates fast; candidates are then scored on all their k-grams
and, for source code, by greedy string tiling (Wise 1993, as JPlag does) over the normalised token streams, which
finds copies whose statements were reordered or padded more reliably than k-grams alone (bench/integrity.py).

The index is an interface (:class:`FingerprintIndex`): :class:`InMemoryIndex` serves tests, the batch sweep and
the benchmarks; a database- or Redis-backed one implements the same five methods.
"""

from __future__ import annotations

import heapq
import math
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from detection.fingerprints import (
    CODE,
    PROSE,
    Fingerprint,
    WinnowSettings,
    code_notes,
    kgram_hashes,
    settings_for,
    tokens_for,
    winnow,
)
from detection.text import Token

T = TypeVar("T")


@dataclass(frozen=True)
class Document:
    """A text prepared for comparison: its tokens, the hash of every k-gram, and its winnowed fingerprints."""

    id: str
    kind: str
    text: str
    tokens: list[Token]
    kgrams: list[int]
    settings: WinnowSettings
    notes: frozenset[int] = frozenset()  # code only: hashes of the words of its string literals and comments
    # What a comparison counts of this document against one template and one set of weights (counted()): the
    # same in every pair of a sweep, so worked out once per document, not once per pair.
    _counted: dict[str, tuple[frozenset[int], Weights | None, Any]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def fingerprints(self) -> list[Fingerprint]:
        """The winnowed k-grams (``fingerprints_of`` the tokens), selected when first asked for: a document that is
        only compared, as a candidate is, never needs them."""
        return _winnowed(self.tokens, self.kgrams, self.settings)

    @cached_property
    def hashes(self) -> frozenset[int]:
        """The distinct winnowed fingerprint hashes and notes: what goes into an index to find candidates."""
        return frozenset(f.hash for f in self.fingerprints) | self.notes

    @cached_property
    def all_hashes(self) -> frozenset[int]:
        """Every k-gram hash and note: what an index holds when it also serves the collection's frequencies."""
        return frozenset(self.kgrams) | self.notes

    @cached_property
    def token_values(self) -> list[str]:
        return [t.value for t in self.tokens]

    @cached_property
    def token_ids(self) -> np.ndarray:
        return _token_ids(self.token_values)

    def counted(
        self, name: str, excluded: frozenset[int], weights: Weights | None, compute: Callable[[Document, frozenset[int], Weights | None], T]
    ) -> T:
        """``compute(self, excluded, weights)``, kept for the last ``excluded`` and ``weights`` it was asked with
        (the very same objects: a sweep builds them once and compares every pair with them)."""
        held = self._counted.get(name)
        if held is not None and held[0] is excluded and held[1] is weights:
            return held[2]  # type: ignore[no-any-return]
        value = compute(self, excluded, weights)
        self._counted[name] = (excluded, weights, value)
        return value


def prepare(doc_id: str, text: str, kind: str = PROSE, *, language: str = "", settings: WinnowSettings | None = None) -> Document:
    """Tokenise and fingerprint a text once, for indexing and for any number of comparisons."""
    settings = settings or settings_for(kind)
    tokens = tokens_for(text, kind, language=language)
    return Document(
        id=doc_id,
        kind=kind,
        text=text,
        tokens=tokens,
        kgrams=kgram_hashes(tokens, settings.k),
        settings=settings,
        notes=code_notes(text, language=language) if kind == CODE else frozenset(),
    )


def _winnowed(tokens: Sequence[Token], kgrams: list[int], settings: WinnowSettings) -> list[Fingerprint]:
    """``fingerprints_of(tokens, settings)``, winnowed from the k-gram hashes already computed: hashing the k-grams
    again was a third of the cost of preparing a text."""
    last = len(tokens) - 1
    return [Fingerprint(kgrams[i], i, tokens[i].start, tokens[min(i + settings.k - 1, last)].end) for i in winnow(kgrams, settings.window)]


def template_hashes(texts: Iterable[str | None], kind: str = PROSE, *, language: str = "") -> frozenset[int]:
    """Every k-gram hash of the prompt and template texts: matches on these do not count as copying."""
    settings = settings_for(kind)
    found: set[int] = set()
    for text in texts:
        if text:
            found.update(kgram_hashes(tokens_for(text, kind, language=language), settings.k))
            if kind == CODE:
                found.update(code_notes(text, language=language))
    return frozenset(found)


@dataclass(frozen=True)
class CommonWeighting:
    """How much a k-gram found in ``df`` of the ``n`` documents of a collection counts.

    Up to ``share`` of the collection (and never below ``floor`` documents) a k-gram counts fully; above that its
    weight falls like its inverse document frequency, ``log((n + 1) / df) / log((n + 1) / limit)``, to nearly 0
    for a k-gram every document has. The cut-off is a share of the collection, not a count, so a cluster of
    copies in a large class is not mistaken for boilerplate; and since a containment is a ratio, a document
    whose k-grams are all equally common keeps its score.
    """

    share: float = 0.25
    floor: int = 5
    smooth: bool = False
    max_postings: int = 0
    power: float = 1.0

    def weight(self, df: int, n: int) -> float:
        if self.smooth:
            # Smooth IDF, ``(log(1 + n / df) / log(1 + n)) ** power``: 1 for a k-gram of one document, falling
            # steadily with every document that shares it (no flat region in which a common idiom counts fully);
            # a higher power makes what a large part of the collection shares count for less still.
            if n <= 1 or df <= 1:
                return 1.0
            return float((math.log1p(n / df) / math.log1p(n)) ** self.power)
        limit = max(float(self.floor), self.share * n)
        if df <= limit:
            return 1.0
        return max(math.log((n + 1) / df), 0.0) / math.log((n + 1) / limit)

    def candidate_limit(self, n: int) -> int:
        """Fingerprints held by more of the ``n`` documents than this are too common to look candidates up with:
        with ``max_postings``, an absolute count (never fewer than ``floor``), so a cluster of copies in a small
        collection is never dropped as common; otherwise the collection's common share."""
        if self.max_postings:
            return max(self.floor, self.max_postings)
        return int(max(self.floor, self.share * max(n, 1)))


# The code sweep's weighting of common k-grams: smooth IDF to the power 1.5 (chosen with CODE_SCORING, bench/integrity.py).
CODE_WEIGHTING = CommonWeighting(smooth=True, power=1.5)


@dataclass(frozen=True)
class CodeScoring:
    """How a pair of programs is scored (chosen on every code set together, bench/integrity.py).

    - ``tile``: the least number of normalised tokens a match must cover to count: shorter matches are chance
      between long programs.
    - ``seed`` and ``gap``: greedy string tiling finds tiles of at least ``seed`` tokens (0: ``tile``); tiles
      that follow each other in both programs with at most ``gap`` tokens between make one match, so a copy
      interrupted by inserted or rewritten code still counts (:func:`chained_tiles`).
    - ``note_weight``: each note (a string literal, a word of a literal or comment) counts as this many tokens in
      the same frequency-weighted total as the code's tokens.
    - ``max_share``: the pair's score is ``(1 - max_share) * mean + max_share * max`` of the two containments,
      so a short program is not "contained" in a long one by chance.
    """

    tile: int = 28
    note_weight: float = 1.0
    max_share: float = 0.0
    seed: int = 6
    gap: int = 8

    def score(self, containment_a: float, containment_b: float) -> float:
        mean = (containment_a + containment_b) / 2
        return (1 - self.max_share) * mean + self.max_share * max(containment_a, containment_b)

    def lengths(self, len_a: int, len_b: int) -> tuple[int, int]:
        """The minimum match and tile for two programs of these lengths: a program shorter than the minimum can
        still match as a whole."""
        tile = max(1, min(self.tile, len_a, len_b))
        return tile, max(1, min(self.seed or tile, tile))


CODE_SCORING = CodeScoring()


@dataclass(frozen=True)
class Span:
    """Matching character ranges, ``[a_start, a_end)`` in the first text and ``[b_start, b_end)`` in the second."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int

    def as_json(self) -> dict[str, list[int]]:
        return {"a": [self.a_start, self.a_end], "b": [self.b_start, self.b_end]}


@dataclass(frozen=True)
class Match:
    """The comparison of two documents: ``score`` is ``max(containment_a, containment_b)`` for prose and
    :meth:`CodeScoring.score` for code; ``containment_a`` is the share of ``a``'s counted k-grams found in ``b``."""

    score: float
    containment_a: float
    containment_b: float
    spans: list[Span] = field(default_factory=list)
    method: str = "kgrams"

    def as_json(self) -> dict[str, object]:
        return {
            "score": round(self.score, 4),
            "containment_a": round(self.containment_a, 4),
            "containment_b": round(self.containment_b, 4),
            "method": self.method,
            "spans": [s.as_json() for s in self.spans],
        }


Weights = Mapping[int, float]


def compare(
    a: Document,
    b: Document,
    *,
    excluded: frozenset[int] = frozenset(),
    weights: Weights | None = None,
    tiling: bool | None = None,
    scoring: CodeScoring | None = None,
) -> Match:
    """Score a pair. ``excluded``: template k-gram hashes; ``weights``: per-hash weights of common k-grams (missing
    hashes weigh 1). Prose: k-gram containment, scored by the larger containment. Code (``tiling``, the default
    for code): greedy string tiling, the notes folded into the same weighted totals, scored by ``scoring``."""
    if a.kind != b.kind:
        raise ValueError("compare prose with prose and code with code")
    if tiling is None:
        tiling = a.kind == CODE
    if a.kind != CODE or not tiling:
        return _compare_by_kgrams(a, b, excluded=excluded, weights=weights)
    scoring = scoring or CODE_SCORING
    return code_match(tiling_sums(a, b, scoring, excluded=excluded, weights=weights), scoring)


@dataclass(frozen=True)
class CodeSums:
    """The weighted sums a code pair's score is made of: tokens covered by tiles and in all, notes shared and in
    all, for each side; and the tiles as spans."""

    tokens_matched_a: float
    tokens_total_a: float
    tokens_matched_b: float
    tokens_total_b: float
    notes_matched_a: float
    notes_total_a: float
    notes_matched_b: float
    notes_total_b: float
    spans: list[Span]


def code_match(sums: CodeSums, scoring: CodeScoring) -> Match:
    """A code pair's containments, with each note counting ``note_weight`` tokens in the same weighted total:
    copies share the wording of messages and comments too, but two programs sharing "YES" and "NO" are not
    copies."""
    w = scoring.note_weight
    total_a = sums.tokens_total_a + w * sums.notes_total_a
    total_b = sums.tokens_total_b + w * sums.notes_total_b
    containment_a = (sums.tokens_matched_a + w * sums.notes_matched_a) / total_a if total_a > 0 else 0.0
    containment_b = (sums.tokens_matched_b + w * sums.notes_matched_b) / total_b if total_b > 0 else 0.0
    return Match(scoring.score(containment_a, containment_b), containment_a, containment_b, sums.spans, "tiling+notes")


def _weight(weights: Weights | None, h: int) -> float:
    return 1.0 if weights is None else weights.get(h, 1.0)


def _counted_kgrams(doc: Document, excluded: frozenset[int], weights: Weights | None) -> tuple[set[int], float, bool]:
    """The document's k-grams outside the template, their weighted total, and whether any of them is weighted."""
    kgrams = set(doc.kgrams) - excluded
    if not weights or weights.keys().isdisjoint(kgrams):
        # Every k-gram weighs 1 (the usual case): the sum is the count, exactly.
        return kgrams, float(len(kgrams)), False
    return kgrams, sum(_weight(weights, h) for h in kgrams), True


def _compare_by_kgrams(a: Document, b: Document, *, excluded: frozenset[int], weights: Weights | None) -> Match:
    set_a, total_a, weighted_a = a.counted("kgrams", excluded, weights, _counted_kgrams)
    set_b, total_b, weighted_b = b.counted("kgrams", excluded, weights, _counted_kgrams)
    if not set_a or not set_b:
        return Match(0.0, 0.0, 0.0)
    shared = set_a & set_b
    matched = sum(_weight(weights, h) for h in shared) if weighted_a and weighted_b else float(len(shared))
    containment_a = matched / total_a if total_a else 0.0
    containment_b = matched / total_b if total_b else 0.0
    return Match(max(containment_a, containment_b), containment_a, containment_b, _kgram_spans(a, b, shared))


def _kgram_spans(a: Document, b: Document, shared: set[int]) -> list[Span]:
    """Runs of consecutive shared k-grams, as character ranges in both texts."""
    if not shared:
        return []
    where_b: dict[int, list[int]] = defaultdict(list)
    for j, h in enumerate(b.kgrams):
        if h in shared:
            where_b[h].append(j)
    runs: list[tuple[int, int, int]] = []  # (start in a, start in b, k-grams)
    previous: tuple[int, int] | None = None
    for i, h in enumerate(a.kgrams):
        if h not in shared:
            previous = None
            continue
        candidates = where_b[h]
        if previous is not None and previous[1] + 1 in candidates and previous[0] + 1 == i:
            start_a, start_b, length = runs[-1]
            runs[-1] = (start_a, start_b, length + 1)
            previous = (i, previous[1] + 1)
        else:
            runs.append((i, candidates[0], 1))
            previous = (i, candidates[0])
    k = a.settings.k
    return _merge_spans([_token_span(a.tokens, b.tokens, i, j, min(n + k - 1, len(a.tokens) - i, len(b.tokens) - j)) for i, j, n in runs])


def _token_span(a: Sequence[Token], b: Sequence[Token], i: int, j: int, length: int) -> Span:
    return Span(a[i].start, a[i + length - 1].end, b[j].start, b[j + length - 1].end)


def _merge_spans(spans: list[Span]) -> list[Span]:
    """Overlapping evidence in ``a`` reported once; spans ordered by their place in ``a``."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.a_start, s.b_start)):
        last = merged[-1] if merged else None
        if last is not None and span.a_start <= last.a_end and span.b_start <= last.b_end and span.b_end >= last.b_start:
            merged[-1] = Span(last.a_start, max(last.a_end, span.a_end), min(last.b_start, span.b_start), max(last.b_end, span.b_end))
        else:
            merged.append(span)
    return merged


def _token_ids(values: Sequence[str]) -> np.ndarray:
    """The tokens as integers, the same integer for the same token value in every document of this process."""
    return np.fromiter((_VOCABULARY.setdefault(v, len(_VOCABULARY)) for v in values), dtype=np.uint64, count=len(values))


# Token value -> integer, shared by every document (code token values are few: keywords, operators, kinds).
_VOCABULARY: dict[str, int] = {}
_WINDOW_BASE = np.uint64(0x9E3779B97F4A7C15)
# The most matching windows a pair of programs is tiled from (about 50 MB of working arrays).
MAX_WINDOW_MATCHES = 1_000_000


def _window_hashes(ids: np.ndarray, m: int) -> np.ndarray:
    """A 64-bit polynomial hash of every run of ``m`` consecutive ids (wrapping arithmetic)."""
    count = len(ids) - m + 1
    out = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for t in range(m):
            out = out * _WINDOW_BASE + ids[t : t + count] + np.uint64(1)
    return out


def maximal_runs(ids_a: np.ndarray, ids_b: np.ndarray, min_length: int) -> list[tuple[int, int, int]]:
    """Every maximal common run of at least ``min_length`` tokens, ``(start in a, start in b, length)``: the
    diagonals of the equality matrix, found from the matching windows of ``min_length`` tokens (sorted and
    searched, so two programs sharing little cost little) rather than from the whole matrix."""
    m = min_length
    if m < 1 or len(ids_a) < m or len(ids_b) < m:
        return []
    hash_a = _window_hashes(ids_a, m)
    hash_b = _window_hashes(ids_b, m)
    order = np.argsort(hash_a, kind="stable")
    sorted_a = hash_a[order]
    left = np.searchsorted(sorted_a, hash_b, side="left")
    counts = np.searchsorted(sorted_a, hash_b, side="right") - left
    total = int(counts.sum())
    if total > MAX_WINDOW_MATCHES:
        # Highly repetitive programs (a statement repeated thousands of times) match every repetition with every
        # other: keep the least repeated windows, up to the bound, so time and memory stay bounded.
        by_count = np.argsort(counts, kind="stable")
        dropped = by_count[np.cumsum(counts[by_count]) > MAX_WINDOW_MATCHES]
        counts[dropped] = 0
        total = int(counts.sum())
    if total == 0:
        return []
    js = np.repeat(np.arange(len(hash_b)), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    is_ = order[np.repeat(left, counts) + offsets]
    diagonal = is_ - js
    by_diagonal = np.lexsort((is_, diagonal))
    is_, js, diagonal = is_[by_diagonal], js[by_diagonal], diagonal[by_diagonal]
    # A run of matching windows continues while the diagonal is the same and the window starts one later.
    starts = np.ones(total, dtype=bool)
    starts[1:] = (diagonal[1:] != diagonal[:-1]) | (is_[1:] != is_[:-1] + 1)
    first = np.flatnonzero(starts)
    last = np.append(first[1:], total) - 1
    runs = []
    for f, e in zip(first.tolist(), last.tolist(), strict=True):
        i, j = int(is_[f]), int(js[f])
        length = int(is_[e]) - i + m
        if np.array_equal(ids_a[i : i + length], ids_b[j : j + length]):  # a hash collision is not a match
            runs.append((i, j, length))
    return runs


def take_tiles(runs: Iterable[tuple[int, int, int]], len_a: int, len_b: int, min_length: int) -> list[tuple[int, int, int]]:
    """Greedy string tiling's selection (Wise, 1993): the longest runs first, none overlapping a tile already
    taken; a run that overlaps one is cut to its free parts, which are queued again if long enough."""
    queue = [(-n, i, j) for i, j, n in runs if n >= min_length]
    heapq.heapify(queue)
    # Byte flags: the checks and the cutting into free parts run in C (bytes, ints and split), not per token.
    taken_a = bytearray(len_a)
    taken_b = bytearray(len_b)
    tiles: list[tuple[int, int, int]] = []
    while queue:
        negative_length, i, j = heapq.heappop(queue)
        length = -negative_length
        part_a = taken_a[i : i + length]
        part_b = taken_b[j : j + length]
        if 1 not in part_a and 1 not in part_b:
            taken_a[i : i + length] = b"\x01" * length
            taken_b[j : j + length] = b"\x01" * length
            tiles.append((i, j, length))
            continue
        either = (int.from_bytes(part_a, "big") | int.from_bytes(part_b, "big")).to_bytes(length, "big")
        offset = 0
        for free in either.split(b"\x01"):
            if len(free) >= min_length:
                heapq.heappush(queue, (-len(free), i + offset, j + offset))
            offset += len(free) + 1
    return sorted(tiles)


def greedy_string_tiling(a: Sequence[str], b: Sequence[str], min_length: int) -> list[tuple[int, int, int]]:
    """Tiles ``(start in a, start in b, length)``: non-overlapping common runs of at least ``min_length`` tokens,
    longest first (Wise, 1993)."""
    if not a or not b:
        return []
    return take_tiles(maximal_runs(_token_ids(a), _token_ids(b), min_length), len(a), len(b), min_length)


def chained_tiles(tiles: Sequence[tuple[int, int, int]], min_total: int, gap: int) -> list[tuple[int, int, int]]:
    """The tiles that count: those in a chain of tiles, each following the one before in both programs with at
    most ``gap`` tokens between, whose lengths add up to at least ``min_total``. With ``gap`` 0 and tiles found
    at ``min_total``, every tile counts. Chaining finds a copy whose statements were interrupted by inserted code
    (the subsequence match merging of Sağlam et al., 2024) while a short tile on its own stays a chance match."""
    kept: list[tuple[int, int, int]] = []
    chain: list[tuple[int, int, int]] = []
    for tile in sorted(tiles):
        if chain:
            i, j, n = chain[-1]
            gap_a, gap_b = tile[0] - (i + n), tile[1] - (j + n)
            if not (0 <= gap_a <= gap and 0 <= gap_b <= gap):
                if sum(t[2] for t in chain) >= min_total:
                    kept.extend(chain)
                chain = []
        chain.append(tile)
    if chain and sum(t[2] for t in chain) >= min_total:
        kept.extend(chain)
    return kept


def tiling_sums(
    a: Document,
    b: Document,
    scoring: CodeScoring,
    *,
    excluded: frozenset[int],
    weights: Weights | None,
) -> CodeSums:
    """Greedy string tiling over the tokens (:func:`pair_tiles`); each token counts with the smallest weight of the
    k-grams covering it, tokens inside template k-grams do not count; and the notes' weighted sums."""
    return sums_of_tiles(a, b, pair_tiles(a, b, scoring), excluded=excluded, weights=weights)


def pair_tiles(
    a: Document, b: Document, scoring: CodeScoring, *, runs: Sequence[tuple[int, int, int]] | None = None
) -> list[tuple[int, int, int]]:
    """The tiles that count between two programs: found at ``scoring.seed`` tokens, kept when their chain reaches
    ``scoring.tile``. ``runs``: the pair's ``maximal_runs`` at a seed no longer than this one, when already found
    (a benchmark trying several scorings finds them once)."""
    tile, seed = scoring.lengths(len(a.tokens), len(b.tokens))
    if runs is None:
        runs = maximal_runs(a.token_ids, b.token_ids, seed) if a.tokens and b.tokens else []
    return chained_tiles(take_tiles(runs, len(a.tokens), len(b.tokens), seed), tile, scoring.gap)


def sums_of_tiles(
    a: Document, b: Document, tiles: Sequence[tuple[int, int, int]], *, excluded: frozenset[int], weights: Weights | None
) -> CodeSums:
    """The weighted sums of a pair's tokens covered by ``tiles`` and of its notes."""
    weight_a, total_a = a.counted("token_weights", excluded, weights, _token_weights)
    weight_b, total_b = b.counted("token_weights", excluded, weights, _token_weights)
    notes_a, notes_total_a = a.counted("notes", excluded, weights, _counted_notes)
    notes_b, notes_total_b = b.counted("notes", excluded, weights, _counted_notes)
    covered_a = np.zeros(len(a.tokens), dtype=bool)
    covered_b = np.zeros(len(b.tokens), dtype=bool)
    for i, j, n in tiles:
        covered_a[i : i + n] = True
        covered_b[j : j + n] = True
    shared = sum(_weight(weights, h) for h in notes_a & notes_b)
    return CodeSums(
        float(weight_a[covered_a].sum()),
        total_a,
        float(weight_b[covered_b].sum()),
        total_b,
        shared,
        notes_total_a,
        shared,
        notes_total_b,
        _merge_spans([_token_span(a.tokens, b.tokens, i, j, n) for i, j, n in tiles]),
    )


def _counted_notes(doc: Document, excluded: frozenset[int], weights: Weights | None) -> tuple[frozenset[int], float]:
    """The document's notes outside the template, and their weighted total."""
    notes = doc.notes - excluded
    return notes, sum(_weight(weights, h) for h in notes)


def _token_weights(doc: Document, excluded: frozenset[int], weights: Weights | None) -> tuple[np.ndarray, float]:
    """Per token, the smallest weight of the k-grams covering it (0 inside template text); and their sum."""
    out = _per_token_weights(doc, excluded, weights)
    return out, float(out.sum())


def _per_token_weights(doc: Document, excluded: frozenset[int], weights: Weights | None) -> np.ndarray:
    n = len(doc.tokens)
    if (not excluded and weights is None) or not doc.kgrams or not n:
        return np.ones(n)
    k = doc.settings.k
    get = (weights or {}).get
    per_kgram = np.fromiter((0.0 if h in excluded else get(h, 1.0) for h in doc.kgrams), dtype=float, count=len(doc.kgrams))
    # Token t is covered by the k-grams starting at t - k + 1 .. t: the minimum over a sliding window of k.
    padded = np.concatenate([np.ones(k - 1), per_kgram, np.ones(k - 1)])
    covering: np.ndarray = np.lib.stride_tricks.sliding_window_view(padded, k).min(axis=1)
    if len(covering) >= n:
        return covering[:n].copy()
    return np.concatenate([covering, np.ones(n - len(covering))])


class FingerprintIndex(ABC):
    """Which documents hold which fingerprints, and how many documents hold each: all the detector needs from
    storage. Document ids are opaque strings."""

    @abstractmethod
    def add(self, doc_id: str, hashes: Iterable[int]) -> None:
        """Index a document's distinct fingerprint hashes (adding a document again replaces it)."""

    @abstractmethod
    def remove(self, doc_id: str) -> None:
        """Forget a document (a cancelled or superseded submission)."""

    @abstractmethod
    def document_count(self) -> int:
        """How many documents are indexed."""

    @abstractmethod
    def document_frequency(self, hashes: Iterable[int]) -> dict[int, int]:
        """For each given hash held by at least one document, how many documents hold it."""

    @abstractmethod
    def postings(self, hashes: Iterable[int], *, max_documents: int | None = None) -> dict[int, list[str]]:
        """For each given hash, the ids of the documents holding it; hashes held by more than ``max_documents``
        documents are left out (too common to find candidates with)."""


class InMemoryIndex(FingerprintIndex):
    """A dictionary-backed index for tests, the batch sweep and benchmarks."""

    def __init__(self) -> None:
        self._postings: dict[int, set[str]] = defaultdict(set)
        self._documents: dict[str, frozenset[int]] = {}

    def add(self, doc_id: str, hashes: Iterable[int]) -> None:
        self.remove(doc_id)
        held = frozenset(hashes)
        self._documents[doc_id] = held
        for h in held:
            self._postings[h].add(doc_id)

    def remove(self, doc_id: str) -> None:
        for h in self._documents.pop(doc_id, frozenset()):
            holders = self._postings[h]
            holders.discard(doc_id)
            if not holders:
                del self._postings[h]

    def document_count(self) -> int:
        return len(self._documents)

    def document_frequency(self, hashes: Iterable[int]) -> dict[int, int]:
        return {h: len(self._postings[h]) for h in hashes if h in self._postings}

    def postings(self, hashes: Iterable[int], *, max_documents: int | None = None) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for h in hashes:
            holders = self._postings.get(h)
            if holders and (max_documents is None or len(holders) <= max_documents):
                found[h] = sorted(holders)
        return found


def common_weights(index: FingerprintIndex, hashes: Iterable[int], weighting: CommonWeighting | None = None) -> dict[int, float]:
    """Weights below 1 for the given hashes that are common in the indexed collection."""
    n = index.document_count()
    return weights_from_frequencies(index.document_frequency(hashes), n, weighting)


def weights_from_frequencies(frequencies: Mapping[int, int], n: int, weighting: CommonWeighting | None = None) -> dict[int, float]:
    """Weights below 1 for the hashes held by ``frequencies[h]`` of the ``n`` documents of a collection."""
    weighting = weighting or CommonWeighting()
    out: dict[int, float] = {}
    for h, df in frequencies.items():
        w = weighting.weight(df, n)
        if w < 1.0:
            out[h] = w
    return out


@dataclass(frozen=True)
class Candidate:
    doc_id: str
    shared: float  # weighted count of shared fingerprints


def find_candidates(
    index: FingerprintIndex,
    document: Document,
    *,
    excluded: frozenset[int] = frozenset(),
    weighting: CommonWeighting | None = None,
    min_shared: float = 1.0,
    limit: int = 50,
) -> list[Candidate]:
    """Indexed documents sharing fingerprints with ``document``, most shared first (the document itself skipped).

    Fingerprints held by more than the collection's common share are not used to look up candidates: a pair that
    shares only boilerplate scores low anyway, and their long posting lists are what makes lookups slow."""
    weighting = weighting or CommonWeighting()
    hashes = [h for h in document.hashes if h not in excluded]
    limit_df = weighting.candidate_limit(index.document_count())
    return rank_candidates(index.postings(hashes, max_documents=limit_df), document.id, min_shared=min_shared, limit=limit)


def rank_candidates(postings: Mapping[int, Iterable[str]], doc_id: str, *, min_shared: float = 1.0, limit: int = 50) -> list[Candidate]:
    """The documents of ``postings`` (a hash's holders, per hash) by the number of hashes they share, most first
    (ties in the order the postings list them), ``doc_id`` itself skipped."""
    shared: Counter[str] = Counter()
    for holders in postings.values():
        for holder in holders:
            if holder != doc_id:
                shared[holder] += 1
    return [Candidate(holder, count) for holder, count in shared.most_common(limit) if count >= min_shared]


@dataclass(frozen=True)
class PairResult:
    a: str
    b: str
    match: Match


# A batch sweep compares every pair of a collection up to this many documents (a cluster of copies or a pair
# sharing only common k-grams is never missed); larger ones look candidates up in an index first.
ALL_PAIRS_LIMIT = 600


def compare_all(
    paths_and_texts: Sequence[tuple[str, str]],
    prompt_text: str | None = None,
    *,
    kinds: Mapping[str, str] | None = None,
    languages: Mapping[str, str] | None = None,
    weighting: CommonWeighting | None = None,
    scoring: CodeScoring | None = None,
) -> list[PairResult]:
    """Every pair of texts with a score above 0, highest first. Texts are prose unless ``kinds`` maps their path to
    ``code``; only texts of the same kind are compared. ``prompt_text`` is template text whose matches do not count.
    Every pair of a collection of up to ``ALL_PAIRS_LIMIT`` texts is compared; beyond that, the candidates of
    each text from an index whose lookups skip only fingerprints held by more than an absolute count of texts.
    Code is weighted by ``CODE_WEIGHTING`` (smooth IDF, notes included) unless ``weighting`` is given;
    ``languages`` gives a text's language where its path's extension does not (a folder of files)."""
    kinds = kinds or {}
    languages = languages or {}
    documents = [prepare(path, text, kinds.get(path, PROSE), language=language_of(path, languages)) for path, text in paths_and_texts]
    results: list[PairResult] = []
    for kind in (PROSE, CODE):
        group = [d for d in documents if d.kind == kind]
        if len(group) < 2:
            continue
        kind_weighting = weighting or (CODE_WEIGHTING if kind == CODE else CommonWeighting())
        excluded = template_hashes([prompt_text], kind)
        weights = collection_weights(group, excluded, kind_weighting)
        for a, b in candidate_pairs(group, excluded):
            match = compare(a, b, excluded=excluded, weights=weights, scoring=scoring)
            if match.score > 0:
                results.append(PairResult(a.id, b.id, match))
    results.sort(key=lambda r: (-r.match.score, r.a, r.b))
    return results


def collection_weights(group: Sequence[Document], excluded: frozenset[int], weighting: CommonWeighting) -> dict[int, float]:
    """The weights of the k-grams (and notes) common in ``group``."""
    kgram_index = InMemoryIndex()
    for doc in group:
        kgram_index.add(doc.id, doc.all_hashes - excluded)
    return common_weights(kgram_index, set().union(*(d.all_hashes for d in group)), weighting)


def candidate_pairs(group: Sequence[Document], excluded: frozenset[int]) -> list[tuple[Document, Document]]:
    """The pairs of ``group`` to compare, each once with its ids in order: all of them in a collection of up to
    ``ALL_PAIRS_LIMIT``, else those sharing a fingerprint held by at most ``CANDIDATE_POSTINGS`` documents."""
    ordered = sorted(group, key=lambda d: d.id)
    if len(ordered) <= ALL_PAIRS_LIMIT:
        return [(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :]]
    index = InMemoryIndex()
    for doc in ordered:
        index.add(doc.id, doc.hashes - excluded)
    by_id = {d.id: d for d in ordered}
    weighting = CommonWeighting(max_postings=CANDIDATE_POSTINGS)
    seen: set[tuple[str, str]] = set()
    for doc in ordered:
        for candidate in find_candidates(index, doc, excluded=excluded, weighting=weighting, limit=len(ordered)):
            seen.add((min(doc.id, candidate.doc_id), max(doc.id, candidate.doc_id)))
    return [(by_id[a], by_id[b]) for a, b in sorted(seen)]


# Fingerprints held by more documents than this are not used to look up candidates (their postings are long and
# a pair sharing only them scores low anyway).
CANDIDATE_POSTINGS = 200


def language_of(path: str, languages: Mapping[str, str]) -> str:
    """The language a sweep reads a text in: as ``languages`` gives it, else its path's extension."""
    return languages.get(path) or _extension(path)


def _extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1] if "." in name else ""
