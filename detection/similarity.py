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

    def weight(self, df: int, n: int) -> float:
        if self.smooth:
            # Smooth IDF, ``log(1 + n / df) / log(1 + n)``: 1 for a k-gram of one document, falling steadily
            # with every document that shares it (no flat region in which a common idiom counts fully).
            if n <= 1 or df <= 1:
                return 1.0
            return math.log1p(n / df) / math.log1p(n)
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


# The code sweep's weighting of common k-grams: smooth IDF.
CODE_WEIGHTING = CommonWeighting(smooth=True)


@dataclass(frozen=True)
class CodeScoring:
    """How a pair of programs is scored (chosen on every code set together, bench/integrity.py).

    - ``tile``: the minimum tile of greedy string tiling, in normalised tokens: shorter tiles are chance matches
      between long programs.
    - ``note_weight``: each note (a string literal, a word of a literal or comment) counts as this many tokens in
      the same frequency-weighted total as the code's tokens.
    - ``max_share``: the pair's score is ``(1 - max_share) * mean + max_share * max`` of the two containments,
      so a short program is not "contained" in a long one by chance.
    """

    tile: int = 12
    note_weight: float = 1.0
    max_share: float = 0.25

    def score(self, containment_a: float, containment_b: float) -> float:
        mean = (containment_a + containment_b) / 2
        return (1 - self.max_share) * mean + self.max_share * max(containment_a, containment_b)


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
    return code_match(tiling_sums(a, b, scoring.tile, excluded=excluded, weights=weights), scoring)


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


def greedy_string_tiling(a: Sequence[str], b: Sequence[str], min_length: int) -> list[tuple[int, int, int]]:
    """Tiles ``(start in a, start in b, length)``: non-overlapping common runs of at least ``min_length`` tokens,
    longest first (Wise, 1993). Runs are found on the diagonals of the equality matrix with numpy, then taken
    greedily; a run that overlaps a tile already taken is cut to its free parts and queued again."""
    if not a or not b:
        return []
    vocabulary: dict[str, int] = {}
    ids_a = np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for t in a), dtype=np.int64, count=len(a))
    ids_b = np.fromiter((vocabulary.get(t, -1) for t in b), dtype=np.int64, count=len(b))
    equal = ids_a[:, None] == ids_b[None, :]
    run = np.zeros(equal.shape, dtype=np.int32)
    run[0] = equal[0]
    run[:, 0] = equal[:, 0]
    for i in range(1, len(a)):
        run[i, 1:] = (run[i - 1, :-1] + 1) * equal[i, 1:]
    # A run ends where the next diagonal cell does not continue it.
    continues = np.zeros(equal.shape, dtype=bool)
    continues[:-1, :-1] = equal[1:, 1:]
    ends_i, ends_j = np.nonzero((run >= min_length) & ~continues)
    queue = [(-int(run[i, j]), int(i - run[i, j] + 1), int(j - run[i, j] + 1)) for i, j in zip(ends_i, ends_j, strict=True)]
    heapq.heapify(queue)
    taken_a = np.zeros(len(a), dtype=bool)
    taken_b = np.zeros(len(b), dtype=bool)
    tiles: list[tuple[int, int, int]] = []
    while queue:
        negative_length, i, j = heapq.heappop(queue)
        length = -negative_length
        free = ~taken_a[i : i + length] & ~taken_b[j : j + length]
        if free.all():
            taken_a[i : i + length] = True
            taken_b[j : j + length] = True
            tiles.append((i, j, length))
            continue
        # Requeue the free stretches that are still long enough.
        start = None
        for offset, ok in enumerate([*free, False]):
            if ok and start is None:
                start = offset
            elif not ok and start is not None:
                if offset - start >= min_length:
                    heapq.heappush(queue, (-(offset - start), i + start, j + start))
                start = None
    return sorted(tiles)


def tiling_sums(a: Document, b: Document, tile: int, *, excluded: frozenset[int], weights: Weights | None) -> CodeSums:
    """Greedy string tiling over the tokens with minimum tile ``tile``; each token counts with the smallest weight
    of the k-grams covering it, tokens inside template k-grams do not count; and the notes' weighted sums."""
    weight_a, total_a = a.counted("token_weights", excluded, weights, _token_weights)
    weight_b, total_b = b.counted("token_weights", excluded, weights, _token_weights)
    notes_a, notes_total_a = a.counted("notes", excluded, weights, _counted_notes)
    notes_b, notes_total_b = b.counted("notes", excluded, weights, _counted_notes)
    # A program shorter than the minimum tile can still match as a whole.
    tile = max(1, min(tile, len(a.tokens), len(b.tokens)))
    tiles = greedy_string_tiling(a.token_values, b.token_values, tile) if a.tokens and b.tokens else []
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
    out = np.ones(len(doc.tokens))
    if not excluded and weights is None:
        return out
    k = doc.settings.k
    for position, h in enumerate(doc.kgrams):
        w = 0.0 if h in excluded else _weight(weights, h)
        if w < 1.0:
            stop = min(position + k, len(out))
            np.minimum(out[position:stop], w, out=out[position:stop])
    return out


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
    documents = [
        prepare(path, text, kinds.get(path, PROSE), language=languages.get(path) or _extension(path)) for path, text in paths_and_texts
    ]
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


def _extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1] if "." in name else ""
