"""The text as the rules see it: normalised, split into words and counted once for all of them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from detection.gate.settings import GateSettings
from detection.text import normalise

# The ASCII whitespace characters (what str.split() splits on besides non-ASCII ones), and a table making them
# spaces and every other byte an x.
_ASCII_WHITESPACE = bytes(code for code in range(128) if chr(code).isspace())
_SPACE_SHAPE = bytes(ord(" ") if code in _ASCII_WHITESPACE else ord("x") for code in range(256))
_LONG_RUN = 32  # characters without whitespace from which a run may be encoded data


@dataclass
class Submission:
    """A text normalised, split into words and counted once for all the rules (each rule used to redo that)."""

    normal: str
    words: list[str]
    counts: Counter[str]
    non_ascii: frozenset[str]  # the distinct non-ASCII characters of ``normal``
    plain_words: bool  # the words are the runs of letters and digits of ``folded`` (see text.NormalisedText)
    non_space: int  # characters other than whitespace, as in ``"".join(normal.split())``
    binary_digits: int  # zeros and ones
    may_have_long_runs: bool  # False: no run of ``_LONG_RUN`` characters goes without whitespace

    @classmethod
    def of(cls, text: str) -> Submission:
        normalised = normalise(text)
        normal = normalised.text
        # Counting bytes of UTF-8 (where an ASCII character keeps its one byte) runs faster than characters of a str.
        utf8 = normal.encode("utf-8", "surrogatepass")
        ascii_spaces = len(utf8) - len(utf8.translate(None, _ASCII_WHITESPACE))  # faster than counting each
        spaces = ascii_spaces + sum(normal.count(ch) for ch in normalised.non_ascii if ch.isspace())
        return cls(
            normal=normal,
            words=normalised.words,
            counts=Counter(normalised.words),
            non_ascii=normalised.non_ascii,
            plain_words=normalised.plain_words,
            non_space=len(normal) - spaces,
            binary_digits=utf8.count(b"0") + utf8.count(b"1"),
            # A character takes at least one byte: with no such run of bytes, there is no such run of characters.
            may_have_long_runs=b"x" * _LONG_RUN in utf8.translate(_SPACE_SHAPE),
        )

    def long_runs(self) -> list[str]:
        """The runs of at least ``_LONG_RUN`` characters without whitespace."""
        if not self.may_have_long_runs:
            return []
        return [chunk for chunk in self.normal.split() if len(chunk) >= _LONG_RUN]

    @cached_property
    def folded(self) -> str:
        return self.normal.casefold()

    @cached_property
    def folded_non_ascii(self) -> frozenset[str]:
        """The non-ASCII characters of :attr:`folded` (casefolding goes character by character)."""
        return frozenset(ch for source in self.non_ascii for ch in source.casefold() if not ch.isascii())

    @cached_property
    def joined(self) -> str:
        return " ".join(self.words)

    @cached_property
    def spaced_words(self) -> str:
        """The words with a space between them and at each end, to search for whole words and runs of them."""
        return f" {self.joined} "


def mostly(removed: int, total: int, enough: int, settings: GateSettings) -> bool:
    """A part of ``removed`` words out of ``total`` is disqualifying: most of the text, with too little left."""
    return removed > 0 and removed >= settings.mostly_share * total and total - removed < enough


def count_of(counts: Counter[str], vocabulary: frozenset[str]) -> int:
    """How many of the counted words are in ``vocabulary`` (looking up the vocabulary's words, not the text's)."""
    return sum(map(counts.__getitem__, counts.keys() & vocabulary))


def count_non_space(text: str) -> int:
    return len("".join(text.split()))
