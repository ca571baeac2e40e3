"""Text normalisation and word counting shared by the junk gate and the similarity detector.

Every count starts from the same text: Unicode NFKC (so full-width letters, ligatures and compatibility forms
count as the letters they show) with invisible characters removed (format characters such as zero-width spaces
and joiners, bidi controls, soft hyphens, and the blank "filler" letters some scripts have), because otherwise a
string of zero-width spaces looks like text and a zero-width space inside a word splits it in two.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from dataclasses import dataclass

# Scripts written without spaces between words: each character counts as a word (API.md).
_NO_SPACE_RANGES = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B-G
)

# Characters that render as nothing but are not format characters.
_BLANK_LETTERS = "\u115f\u1160\u3164\uffa0\u2800"


def _scan_unicode() -> tuple[str, str]:
    """Character-class bodies for invisible characters and combining marks (the `re` module has no \\p{...})."""
    invisible: list[int] = []
    marks: list[int] = []
    for start, stop in ((0, 0x20000), (0x30000, 0x31350), (0xE0000, 0xE1000)):
        for code in range(start, min(stop, sys.maxunicode + 1)):
            category = unicodedata.category(chr(code))
            if category == "Cf":
                invisible.append(code)
            elif category in ("Mn", "Mc", "Me"):
                marks.append(code)
    return _as_class(invisible + [ord(c) for c in _BLANK_LETTERS]), _as_class(marks)


def _as_class(codes: list[int]) -> str:
    """Compress sorted code points into `re` character-class ranges."""
    parts: list[str] = []
    codes = sorted(codes)
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        first, last = chr(codes[i]), chr(codes[j])
        parts.append(re.escape(first) if i == j else f"{re.escape(first)}-{re.escape(last)}")
        i = j + 1
    return "".join(parts)


_INVISIBLE_CLASS, _MARK_CLASS = _scan_unicode()
_INVISIBLE = re.compile(f"[{_INVISIBLE_CLASS}]+")
# A word: a letter or digit followed by letters, digits and combining marks (so Devanagari vowel signs stay in
# their word); in a script written without spaces, one letter with its marks.
_WORD = re.compile(f"[{_NO_SPACE_RANGES}][{_MARK_CLASS}]*|[^\\W_{_NO_SPACE_RANGES}](?:[^\\W_{_NO_SPACE_RANGES}]|[{_MARK_CLASS}])*")
_NO_SPACE = re.compile(f"[{_NO_SPACE_RANGES}]")


def strip_invisible(text: str) -> str:
    """NFKC-normalise and drop invisible characters (zero-width spaces and joiners, bidi marks, blank fillers)."""
    if text.isascii():
        return text  # ASCII is already NFKC and has no format characters (control characters are not words).
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def words(text: str) -> list[str]:
    """Words are runs of letters or digits (casefolded); in scripts written without spaces each character is a word."""
    return _WORD.findall(strip_invisible(text).casefold())


def is_no_space_word(word: str) -> bool:
    """Whether this word is a single character of a script written without spaces."""
    return bool(_NO_SPACE.match(word))


def normalised_hash(text: str) -> str:
    """A stable hash of the text's words: equal for texts that differ only in case, spacing and punctuation."""
    return hashlib.sha256(" ".join(words(text)).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a text: its normalised form and the character range it came from in the original text."""

    value: str
    start: int
    end: int


def normalise_with_offsets(text: str) -> tuple[str, list[int]]:
    """The text as :func:`strip_invisible` gives it, with, for each of its characters, the index of the character of
    ``text`` it came from (plus one final entry equal to ``len(text)``), so matches found in the normalised text
    can be shown in the text the learner wrote."""
    if text.isascii():
        return text, list(range(len(text) + 1))
    if unicodedata.is_normalized("NFKC", text) and not _INVISIBLE.search(text):
        return text, list(range(len(text) + 1))
    out: list[str] = []
    offsets: list[int] = []
    # Normalise a base character together with its combining marks, so that composition still happens.
    for cluster in re.finditer(f".[{_MARK_CLASS}]*", text, re.DOTALL):
        piece = _INVISIBLE.sub("", unicodedata.normalize("NFKC", cluster.group()))
        out.append(piece)
        offsets.extend([cluster.start()] * len(piece))
    offsets.append(len(text))
    return "".join(out), offsets


def word_tokens(text: str) -> list[Token]:
    """The words of :func:`words`, each with its character range in ``text`` (the original, not the normalised)."""
    normal, offsets = normalise_with_offsets(text)
    tokens: list[Token] = []
    for match in _WORD.finditer(normal):
        start, end = match.span()
        tokens.append(Token(match.group().casefold(), offsets[start], _end_offset(offsets, end, text)))
    return tokens


def _end_offset(offsets: list[int], end: int, text: str) -> int:
    """The original index just past the normalised character ``end - 1``."""
    last = offsets[end - 1]
    following = offsets[end]
    return following if following > last else last + 1 if last < len(text) else len(text)
