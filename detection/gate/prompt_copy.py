"""A submission that is mostly the assignment's prompt, template or rubric."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from detection.gate.settings import GateSettings
from detection.gate.submission import Submission, count_of, mostly
from detection.text import words


@dataclass(frozen=True)
class _SourceWords:
    """What the text is matched against, from the prompt, template and rubric together."""

    known: frozenset[str]  # all their words
    grams: frozenset[tuple[str, ...]]  # their n-grams
    gram_words: frozenset[str]  # the words of their n-grams


@lru_cache(maxsize=256)
def source_words(sources: tuple[str, ...], n: int) -> _SourceWords:
    """Cached: every submission to an assignment is matched against the same prompt, template and rubric."""
    lists = [words(source) for source in sources]
    grams = frozenset(gram for source in lists for gram in zip(*(source[j:] for j in range(n)), strict=False))
    return _SourceWords(
        known=frozenset(w for source in lists for w in source),
        grams=grams,
        gram_words=frozenset(w for gram in grams for w in gram),
    )


def mostly_copied(submission: Submission, sources: _SourceWords, enough: int, settings: GateSettings) -> bool:
    """Words of the text covered by n-grams that also occur in the prompt, template or rubric."""
    found = submission.words
    n = settings.quote_ngram
    if len(found) < n:
        return mostly(sum(1 for w in found if w in sources.known), len(found), enough, settings)
    if not sources.grams:
        return False
    # Only words of the sources' n-grams can be covered: when even all of those are not enough, stop here.
    if not mostly(count_of(submission.counts, sources.gram_words), len(found), enough, settings):
        return False
    covered = bytearray(len(found))
    for i, gram in enumerate(zip(*(found[j:] for j in range(n)), strict=False)):
        if gram in sources.grams:
            covered[i : i + n] = b"\x01" * n
    return mostly(sum(covered), len(found), enough, settings)
