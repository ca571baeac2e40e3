"""Would a MinHash LSH layer make the submit-time copy check's candidate lookup faster, without losing recall?

    python bench/integrity_lsh.py --json [--sizes 10000,100000] [--queries 200] [--quick]
        [--jaccard-thresholds 0.5,0.3,0.1] [--containment-thresholds 0.2,0.3]

The copy check first looks up candidates: the indexed submissions sharing winnowed fingerprints with the new one,
by an exact posting-list lookup (``find_candidates``; in production one SQL query), and then scores only those.
This bench asks whether an approximate lookup by MinHash LSH (the ``datasketch`` library) would be faster at
100,000 indexed submissions, and what it would miss. The detector must find a copied part inside a longer answer,
which is why production scores containment, not Jaccard resemblance: a 300-word answer holding a 150-word copy of a
300-word submission shares about half its fingerprints with it (Jaccard about 0.33), one holding a 60-word copy
about a fifth (Jaccard about 0.1).

The indexed collection is bench/integrity.py's: ``indexed_text(i)``, 300 words drawn by Zipf's law from a
20,000-word vocabulary (``zipf_vocabulary``, ``synthetic_text``). Each is prepared once with ``prepare()``; its
fingerprint hash set ``doc.hashes`` (what production indexes, about 118 hashes) goes into:

- ``exact``: an ``InMemoryIndex``, queried with ``find_candidates(index, doc, limit=10)`` as the check does;
- ``lsh_jaccard_T``: a ``MinHashLSH`` at Jaccard threshold ``T`` over a 128-permutation ``MinHash`` of the same
  hash set (the fingerprints already are uniform 64-bit BLAKE2b hashes, so the MinHash's hash function takes their
  low 32 bits instead of hashing them again with SHA-1; ``query_minhash_p50_ms`` is what computing the query's
  MinHash costs, included in the LSH lookup times);
- ``lsh_ensemble_containment_C``: a ``MinHashLSHEnsemble`` (Zhu et al., VLDB 2016) at containment threshold ``C``
  (containment of the query's set in an indexed one), default 16 partitions. With sets all of about one size
  (about 118 fingerprints), its coarse grid of size ratios makes it query every partition with 64 bands of 2
  rows at 0.2 and at 0.3 alike: the banding of ``MinHashLSH`` at 0.1, so the same candidates, 16 times over.

Queries are new 300-word texts: half carry a verbatim passage of 150 words from a random indexed submission,
a quarter one of 60 words, each put at a random place among the text's own words, and a quarter are honest.
Only the candidate lookup is timed (``prepare()`` of the query is not, for either method), with ``perf_counter``
and ``thread_time``; the methods are run one after the other on each query, in an order rotated from query to
query, in one process, so a busy machine slows them alike. The exact index grows with the collection; the LSH
indexes are built afresh at each size and dropped once timed, to bound memory: the Jaccard LSHs are timed together
with the exact lookup, then each ensemble alone with it, on the same queries (at 100,000 submissions an ensemble
holds 7 to 8 GB). An LSH index whose estimated memory would leave less than 4 GB available on the machine is not
built (``skipped``). The indexes are built with the cyclic garbage collector paused and then frozen
(``gc.freeze``), so a full collection over millions of index objects does not land in one method's timings.

Prints one JSON object as the last line of stdout (progress goes to stderr):
- ``settings``: words per text, copied passage lengths, MinHash permutations, the thresholds, the query mix.
- ``results``: per index size, ``prepare_seconds`` (``prepare()`` of the indexed texts, shared by all methods),
  ``minhash_seconds`` (their MinHashes, shared by the LSH methods), ``query_minhash_p50_ms``/``_p95_ms``,
  ``peak_rss_mb``, and ``methods``: per method ``p50_ms``, ``p95_ms``, ``p50_cpu_ms``, ``p95_cpu_ms`` of the lookup,
  ``p50_vs_exact``/``p95_vs_exact`` (ratio of its time to the exact lookup's: below 1 is faster),
  ``recall_150_words`` and ``recall_60_words`` (share of the copies whose source is among the candidates),
  ``mean_candidates`` (over all queries), ``mean_candidates_honest``, ``max_candidates``, ``build_seconds`` (the
  index structure alone, at this size; for the LSH methods the MinHashes come on top), ``memory_mb`` (how
  much the process grew while building it; approximate), and ``params`` (``MinHashLSH``: bands and rows; ensemble:
  the rows per band of its LSHs). An ensemble's ``measured_with_exact`` gives the exact lookup's p50 and p95 in
  its own interleaved run, which its ``*_vs_exact`` ratios are taken against. ``skipped``: the LSH indexes not
  built for want of memory, and why.
- ``quick``, ``seconds``.

``--quick`` indexes 500 submissions and runs 20 queries, for the smoke test.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH, MinHashLSHEnsemble

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from integrity import WORDS_PER_SUBMISSION, indexed_text, synthetic_text, zipf_vocabulary  # noqa: E402

from detection.similarity import Document, InMemoryIndex, find_candidates, prepare  # noqa: E402

NUM_PERM = 128
CANDIDATE_LIMIT = 10  # what the check asks find_candidates for (services.MAX_CANDIDATES)
LONG_COPY = 150
SHORT_COPY = 60
WARMUP_QUERIES = 5
DEFAULT_JACCARD = (0.5, 0.3, 0.1)
DEFAULT_CONTAINMENT = (0.2, 0.3)
ENSEMBLE_PARTITIONS = 16
MEMORY_RESERVE_MB = 4096  # left to the rest of the machine: an LSH index is not built if it would eat into this
# What one document's entry in one LSH bucket table costs with datasketch's in-memory storage (a bytes key, a set,
# the dictionary slots): measured at 310 to 330 bytes on CPython 3.11, for MinHashLSH and the ensemble alike.
BYTES_PER_BUCKET_ENTRY = 400
ALWAYS_BUILT_MB = 512  # an index estimated below this is built whatever the machine has (the smoke test's are)


def log(message: str) -> None:
    print(f"[integrity lsh bench] {message}", file=sys.stderr, flush=True)


def rss_mb() -> float | None:
    """The process's resident memory now (Linux), or None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # kilobytes on Linux


# ---------------------------------------------------------------- MinHashes of fingerprint sets


def _low_32_bits(fingerprint_hash: int) -> int:
    """The MinHash's hash function: the fingerprints are uniform 64-bit hashes already, so their low 32 bits are."""
    return fingerprint_hash & 0xFFFFFFFF


class Sketcher:
    """128-permutation MinHashes of fingerprint hash sets, all sharing one set of permutations."""

    def __init__(self, num_perm: int = NUM_PERM) -> None:
        self.template = MinHash(num_perm=num_perm, hashfunc=_low_32_bits)

    def sketch(self, hashes: Iterable[int]) -> MinHash:
        minhash = self.template.copy()
        minhash.update_batch(hashes)
        return minhash


# ---------------------------------------------------------------- the indexes compared


@dataclass
class Collection:
    """The indexed submissions so far: ids, fingerprint hash sets and their MinHashes."""

    ids: list[str] = field(default_factory=list)
    hash_sets: list[frozenset[int]] = field(default_factory=list)
    minhashes: list[MinHash] = field(default_factory=list)


class Method:
    """A candidate lookup: an index over the collection, and a lookup of a prepared query."""

    name: str
    build_seconds: float = 0.0
    memory_mb: float | None = None
    params: list[int] | None = None

    def build(self, collection: Collection, start: int) -> None:
        """Index ``collection`` (``start``: how many of it an incremental index holds already)."""
        raise NotImplementedError

    def release(self) -> None:
        """Drop the index (the LSH indexes are built afresh at each size, one kind at a time, to bound memory)."""

    def bands_per_document(self) -> int | None:
        """How many LSH buckets each indexed document goes into: what an LSH index's memory grows with."""
        return None

    def lookup(self, document: Document) -> list[str]:
        """The candidates' ids."""
        raise NotImplementedError


class ExactLookup(Method):
    """Production's lookup: winnowed-fingerprint posting lists, top ``CANDIDATE_LIMIT`` by shared fingerprints.
    It grows with the collection and is kept throughout, as the baseline every other method is timed against."""

    def __init__(self) -> None:
        self.name = "exact"
        self.index = InMemoryIndex()

    def build(self, collection: Collection, start: int) -> None:
        started = time.perf_counter()
        for doc_id, hashes in zip(collection.ids[start:], collection.hash_sets[start:], strict=True):
            self.index.add(doc_id, hashes)
        self.build_seconds += time.perf_counter() - started

    def lookup(self, document: Document) -> list[str]:
        return [c.doc_id for c in find_candidates(self.index, document, limit=CANDIDATE_LIMIT)]


class JaccardLsh(Method):
    """``MinHashLSH`` at a Jaccard threshold."""

    def __init__(self, threshold: float, sketcher: Sketcher) -> None:
        self.name = f"lsh_jaccard_{threshold:g}"
        self.threshold = threshold
        self.sketcher = sketcher
        self.lsh: MinHashLSH | None = None
        empty = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.params = [int(empty.b), int(empty.r)]

    def bands_per_document(self) -> int:
        return self.params[0] if self.params else 0

    def build(self, collection: Collection, start: int) -> None:
        started = time.perf_counter()
        lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM)
        with lsh.insertion_session() as session:
            for doc_id, minhash in zip(collection.ids, collection.minhashes, strict=True):
                session.insert(doc_id, minhash, check_duplication=False)
        self.lsh = lsh
        self.build_seconds = time.perf_counter() - started

    def release(self) -> None:
        self.lsh = None

    def lookup(self, document: Document) -> list[str]:
        assert self.lsh is not None
        return self.lsh.query(self.sketcher.sketch(document.hashes))


class ContainmentEnsemble(Method):
    """``MinHashLSHEnsemble`` at a containment threshold (it can only be built in one go)."""

    def __init__(self, threshold: float, sketcher: Sketcher) -> None:
        self.name = f"lsh_ensemble_containment_{threshold:g}"
        self.threshold = threshold
        self.sketcher = sketcher
        self.ensemble: MinHashLSHEnsemble | None = None
        self.params = self._rows(self._empty())  # the rows per band of its partitions' LSHs

    def _empty(self) -> MinHashLSHEnsemble:
        return MinHashLSHEnsemble(threshold=self.threshold, num_perm=NUM_PERM, num_part=ENSEMBLE_PARTITIONS)

    @staticmethod
    def _rows(ensemble: MinHashLSHEnsemble) -> list[int]:
        return sorted({int(r) for r in ensemble.indexes[0]})

    def bands_per_document(self) -> int:
        # Each document goes into one partition, and there into an LSH of NUM_PERM // r bands for every r.
        return sum(NUM_PERM // r for r in self.params or [])

    def build(self, collection: Collection, start: int) -> None:
        started = time.perf_counter()
        ensemble = self._empty()
        ensemble.index(list(zip(collection.ids, collection.minhashes, (len(h) for h in collection.hash_sets), strict=True)))
        self.ensemble = ensemble
        self.build_seconds = time.perf_counter() - started

    def release(self) -> None:
        self.ensemble = None

    def lookup(self, document: Document) -> list[str]:
        assert self.ensemble is not None
        hashes = document.hashes
        return list(self.ensemble.query(self.sketcher.sketch(hashes), len(hashes)))


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class Query:
    document: Document
    victim: str | None  # the id of the indexed submission a passage was copied from
    copied_words: int


def copied_words_for(q: int) -> int:
    """Half the queries carry a 150-word copy, a quarter a 60-word one, a quarter none."""
    return (0, LONG_COPY, SHORT_COPY, LONG_COPY)[q % 4]


def query_text(rng: random.Random, vocabulary: Sequence[str], cumulative: Sequence[float], victim: int | None, copied: int) -> str:
    """A new 300-word text; with a ``victim``, ``copied`` of its words are a verbatim passage of that indexed
    submission, put at a random place among the text's own words."""
    own = synthetic_text(rng, vocabulary, cumulative, WORDS_PER_SUBMISSION - copied).split()
    if victim is None:
        return " ".join(own)
    source = indexed_text(victim).split()
    start = rng.randrange(len(source) - copied + 1)
    at = rng.randrange(len(own) + 1)
    return " ".join(own[:at] + source[start : start + copied] + own[at:])


def make_queries(count: int, size: int, key: str) -> list[Query]:
    vocabulary, cumulative = zipf_vocabulary()
    rng = random.Random(f"lsh-queries:{key}:{size}")
    queries = []
    for q in range(count):
        copied = copied_words_for(q)
        victim = rng.randrange(size) if copied else None
        document = prepare("new", query_text(rng, vocabulary, cumulative, victim, copied))
        _ = document.fingerprints  # winnowed once here, outside the timings
        queries.append(Query(document, None if victim is None else doc_id(victim), copied))
    return queries


def doc_id(i: int) -> str:
    return f"s{i}"


# ---------------------------------------------------------------- measuring


@dataclass
class Record:
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    found: dict[int, list[bool]] = field(default_factory=lambda: {LONG_COPY: [], SHORT_COPY: []})
    candidates: list[int] = field(default_factory=list)
    honest_candidates: list[int] = field(default_factory=list)


def _ms(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 4)


def measure(methods: Sequence[Method], queries: Sequence[Query], warmup: Sequence[Query]) -> dict[str, Record]:
    """Each query through every method, in an order rotated from one query to the next."""
    records = {m.name: Record() for m in methods}
    for query in warmup:
        for method in methods:
            method.lookup(query.document)
    for q, query in enumerate(queries):
        turn = q % len(methods)
        for method in [*methods[turn:], *methods[:turn]]:
            started, started_cpu = time.perf_counter(), time.thread_time()
            found = method.lookup(query.document)
            wall, cpu = time.perf_counter() - started, time.thread_time() - started_cpu
            record = records[method.name]
            record.wall_ms.append(wall * 1000)
            record.cpu_ms.append(cpu * 1000)
            record.candidates.append(len(found))
            if query.victim is None:
                record.honest_candidates.append(len(found))
            else:
                record.found[query.copied_words].append(query.victim in found)
    return records


def query_minhash_ms(sketcher: Sketcher, queries: Sequence[Query]) -> list[float]:
    """What computing a query's MinHash costs (part of every LSH lookup)."""
    timings = []
    for query in queries:
        started = time.perf_counter()
        sketcher.sketch(query.document.hashes)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summarise(method: Method, record: Record, exact: Record) -> dict[str, object]:
    """The figures of one method; its times relative to those of the exact lookup interleaved with it."""

    def recall(words: int) -> float | None:
        hits = record.found[words]
        return round(sum(hits) / len(hits), 4) if hits else None

    def ratio(q: float) -> float:
        return round(float(np.percentile(record.wall_ms, q) / np.percentile(exact.wall_ms, q)), 3)

    return {
        "p50_ms": _ms(record.wall_ms, 50),
        "p95_ms": _ms(record.wall_ms, 95),
        "p50_cpu_ms": _ms(record.cpu_ms, 50),
        "p95_cpu_ms": _ms(record.cpu_ms, 95),
        "p50_vs_exact": ratio(50),
        "p95_vs_exact": ratio(95),
        f"recall_{LONG_COPY}_words": recall(LONG_COPY),
        f"recall_{SHORT_COPY}_words": recall(SHORT_COPY),
        "mean_candidates": round(float(np.mean(record.candidates)), 2),
        "mean_candidates_honest": round(float(np.mean(record.honest_candidates)), 2) if record.honest_candidates else None,
        "max_candidates": max(record.candidates),
        "build_seconds": round(method.build_seconds, 2),
        "memory_mb": None if method.memory_mb is None else round(method.memory_mb),
        "params": method.params,
    }


def build(method: Method, collection: Collection, start: int, size: int) -> None:
    """Build ``method``'s index (the collector paused) and note how much the process grew for it."""
    before = rss_mb()
    method.build(collection, start)
    after = rss_mb()
    method.memory_mb = None if before is None or after is None else max(after - before, 0.0)
    log(f"{size}: {method.name} built in {method.build_seconds:.1f}s (+{method.memory_mb or 0:.0f} MB, peak RSS {peak_rss_mb():.0f} MB)")


def release(methods: Iterable[Method]) -> None:
    """Drop the methods' indexes and reclaim their memory (some of datasketch's objects hold reference cycles)."""
    for method in methods:
        method.release()
    gc.collect()


def measured_run(methods: Sequence[Method], queries: Sequence[Query], warmup: Sequence[Query]) -> dict[str, Record]:
    """``measure`` with the freshly built indexes out of the collector's way."""
    gc.collect()
    gc.freeze()  # the indexes are long-lived: keep them out of the collector's full scans
    gc.enable()
    try:
        return measure(methods, queries, warmup)
    finally:
        gc.disable()
        gc.unfreeze()  # so that released indexes can be collected


def available_mb() -> float | None:
    """MemAvailable of the machine (Linux), or None."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def too_big(method: Method, size: int) -> str | None:
    """Why building ``method``'s index of ``size`` documents would eat into the memory the rest of the machine
    needs, or None. Its memory is estimated from its buckets per document (``BYTES_PER_BUCKET_ENTRY`` each)."""
    bands = method.bands_per_document()
    available = available_mb()
    if not bands or available is None:
        return None
    needed = bands * size * BYTES_PER_BUCKET_ENTRY / 2**20
    if needed > ALWAYS_BUILT_MB and needed > available - MEMORY_RESERVE_MB:
        return f"{method.name} at {size} would need about {needed:.0f} MB; {available:.0f} MB available, {MEMORY_RESERVE_MB} MB kept free"
    return None


def run(sizes: Sequence[int], queries: int, jaccard: Sequence[float], containment: Sequence[float], quick: bool) -> dict[str, object]:
    """Grow the collection to each size; at each, time the exact lookup interleaved with the Jaccard LSHs, then
    with each containment ensemble in turn (one ensemble in memory at a time: each holds several GB at 100,000)."""
    started_run = time.perf_counter()
    sketcher = Sketcher()
    exact = ExactLookup()
    jaccard_lshs: list[Method] = [JaccardLsh(t, sketcher) for t in jaccard]
    ensembles: list[Method] = [ContainmentEnsemble(c, sketcher) for c in containment]
    collection = Collection()
    prepare_seconds = minhash_seconds = 0.0
    results: dict[str, object] = {}
    gc.disable()
    try:
        for size in sorted(sizes):
            start = len(collection.ids)
            started = time.perf_counter()
            for i in range(start, size):
                collection.ids.append(doc_id(i))
                collection.hash_sets.append(prepare(doc_id(i), indexed_text(i)).hashes)
                if (i + 1) % 10_000 == 0:
                    log(f"prepared {i + 1} submissions ({time.perf_counter() - started:.0f}s)")
            prepare_seconds += time.perf_counter() - started
            started = time.perf_counter()
            collection.minhashes.extend(sketcher.sketch(hashes) for hashes in collection.hash_sets[start:])
            minhash_seconds += time.perf_counter() - started
            log(f"{size}: prepared in {prepare_seconds:.1f}s, MinHashes in {minhash_seconds:.1f}s")
            build(exact, collection, start, size)
            measured = make_queries(queries, size, "measured")
            warmup = make_queries(WARMUP_QUERIES, size, "warmup")
            summaries: dict[str, dict[str, object]] = {}
            skipped: dict[str, str] = {}
            # The Jaccard LSHs together with the exact lookup (whose figures are reported from this run), then each
            # ensemble alone with it.
            groups = [(jaccard_lshs, False), *(([e], True) for e in ensembles)]
            for group, own_run in groups:
                runnable = []
                for method in group:
                    reason = too_big(method, size)
                    if reason:
                        log(f"{size}: skipped: {reason}")
                        skipped[method.name] = reason
                    else:
                        build(method, collection, start, size)
                        runnable.append(method)
                if not runnable:
                    continue
                records = measured_run([exact, *runnable], measured, warmup)
                baseline = records[exact.name]
                summaries.setdefault(exact.name, summarise(exact, baseline, baseline))
                for method in runnable:
                    summaries[method.name] = summarise(method, records[method.name], baseline)
                    if own_run:
                        summaries[method.name]["measured_with_exact"] = {
                            "p50_ms": _ms(baseline.wall_ms, 50),
                            "p95_ms": _ms(baseline.wall_ms, 95),
                        }
                release(runnable)
            if exact.name not in summaries:  # no LSH index was measured: time the exact lookup alone
                alone = measured_run([exact], measured, warmup)[exact.name]
                summaries[exact.name] = summarise(exact, alone, alone)
            sketch_ms = query_minhash_ms(sketcher, measured)
            results[str(size)] = {
                "prepare_seconds": round(prepare_seconds, 1),
                "minhash_seconds": round(minhash_seconds, 2),
                "query_minhash_p50_ms": _ms(sketch_ms, 50),
                "query_minhash_p95_ms": _ms(sketch_ms, 95),
                "peak_rss_mb": peak_rss_mb(),
                "methods": summaries,
                "skipped": skipped,
            }
            log(f"{size}: {json.dumps(results[str(size)])}")
    finally:
        gc.enable()
    return {
        "settings": {
            "words_per_text": WORDS_PER_SUBMISSION,
            "copied_words": [LONG_COPY, SHORT_COPY],
            "num_perm": NUM_PERM,
            "minhash_hashfunc": "low 32 bits of each fingerprint hash",
            "exact_limit": CANDIDATE_LIMIT,
            "jaccard_thresholds": list(jaccard),
            "containment_thresholds": list(containment),
            "ensemble_partitions": ENSEMBLE_PARTITIONS,
            "queries": {
                "total": queries,
                f"copied_{LONG_COPY}": sum(copied_words_for(q) == LONG_COPY for q in range(queries)),
                f"copied_{SHORT_COPY}": sum(copied_words_for(q) == SHORT_COPY for q in range(queries)),
                "honest": sum(copied_words_for(q) == 0 for q in range(queries)),
            },
        },
        "results": results,
        "quick": quick,
        "seconds": round(time.perf_counter() - started_run, 1),
    }


def _numbers(kind: type, value: str) -> list:
    try:
        numbers = sorted({kind(part) for part in value.split(",") if part.strip()})
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return numbers


def _sizes(value: str) -> list[int]:
    sizes = _numbers(int, value)
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("give positive index sizes, e.g. 10000,100000")
    return sizes


def _thresholds(value: str) -> list[float]:
    thresholds = _numbers(float, value)
    if any(not 0.0 < t <= 1.0 for t in thresholds):
        raise argparse.ArgumentTypeError("thresholds are in (0, 1], e.g. 0.5,0.3")
    return sorted(thresholds, reverse=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the JSON object as the last line of stdout")
    parser.add_argument("--sizes", type=_sizes, default=None, help="index sizes, comma-separated (default: 10000,100000; --quick: 500)")
    parser.add_argument("--queries", type=int, default=None, help="queries per size (default: 200; --quick: 20)")
    parser.add_argument("--jaccard-thresholds", type=_thresholds, default=list(DEFAULT_JACCARD), help="MinHashLSH thresholds")
    parser.add_argument(
        "--containment-thresholds", type=_thresholds, default=list(DEFAULT_CONTAINMENT), help="MinHashLSHEnsemble thresholds (empty: none)"
    )
    parser.add_argument("--quick", action="store_true", help="500 submissions and 20 queries, for the smoke test")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([500] if args.quick else [10_000, 100_000])
    queries = args.queries or (20 if args.quick else 200)
    if queries < 4:
        parser.error("--queries must be at least 4 (the query mix repeats every 4)")
    result = run(sizes, queries, args.jaccard_thresholds, args.containment_thresholds, args.quick)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
