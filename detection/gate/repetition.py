"""One passage repeated: too few different words or different word 3-grams."""

from __future__ import annotations

import zlib

from detection.gate.settings import GateSettings
from detection.gate.submission import Submission


def is_repetitive(submission: Submission, settings: GateSettings) -> bool:
    found, counts = submission.words, submission.counts
    n = len(found)
    if n < settings.repetition_min_words:
        return False
    if len(counts) < settings.min_distinct_words:
        return True
    needed = settings.min_distinct_ratio * (n - 2)  # different 3-grams
    if len(counts) > needed + 2:
        return False  # so many different words cannot fit in so few different 3-grams
    # The beginning of an honest text alone has enough different 3-grams, at a fraction of the cost of them all
    # (with a fifth more words than needed, for the few 3-grams an honest text repeats).
    head = found[: int(needed * 1.2) + 3]
    if len(set(zip(head, head[1:], head[2:], strict=False))) >= needed:
        return False
    if n > 400 and settings.min_distinct_ratio <= 0.3:
        joined = submission.joined.encode("utf-8")
        if len(joined) <= 32_000 and len(zlib.compress(joined, 1)) > 0.3 * len(joined):
            # Deflate (its window holds the whole text) finds every repeat of a few words; a long text it cannot
            # compress below 30% has too few repeated 3-grams to fail the test below, which costs more.
            return False
    trigrams = set(zip(found, found[1:], found[2:], strict=False))
    return len(trigrams) < needed
