"""Text normalisation and word counting shared by the junk gate and the similarity detector.

Every count starts from the same text: Unicode NFKC (so full-width letters, ligatures and compatibility forms
count as the letters they show) with invisible characters removed (format characters such as zero-width spaces
and joiners, bidi controls, soft hyphens, and the blank "filler" letters some scripts have), because otherwise a
string of zero-width spaces looks like text and a zero-width space inside a word splits it in two.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

# Scripts written without spaces between words: each character counts as a word (docs/api.md).
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
)
# Kept apart: a character class reaching past U+FFFF makes the `re` module test ranges one by one, several times
# slower on every character of every text.
_NO_SPACE_ASTRAL = "\U00020000-\U0003134f"  # CJK extensions B-G

# Characters that render as nothing but are not format characters.
_BLANK_LETTERS = "\u115f\u1160\u3164\uffa0\u2800"


def _scan_marks() -> str:
    """Character-class body of the combining marks of the Basic Multilingual Plane (`re` has no \\p{M})."""
    return _as_class([code for code in range(0x300, 0x10000) if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me")])


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


_MARK_CLASS = _scan_marks()
# A word: a letter or digit followed by letters, digits and combining marks (so Devanagari vowel signs stay in
# their word); in a script written without spaces, one letter with its marks.
_WORD = re.compile(
    f"(?:[{_NO_SPACE_RANGES}]|[{_NO_SPACE_ASTRAL}])[{_MARK_CLASS}]*"
    f"|(?![{_NO_SPACE_ASTRAL}])[^\\W_{_NO_SPACE_RANGES}](?:(?![{_NO_SPACE_ASTRAL}])[^\\W_{_NO_SPACE_RANGES}]|[{_MARK_CLASS}])*"
)
_NO_SPACE = re.compile(f"[{_NO_SPACE_RANGES}]|[{_NO_SPACE_ASTRAL}]")
# Most texts have neither combining marks nor spaceless scripts: plain runs of letters and digits are their
# words, found several times faster than with the full pattern.
_SIMPLE_WORD = re.compile(r"[^\W_]+")
# ASCII letters and digits casefolded, everything else a space: an ASCII text's words are then its split().
_ASCII_WORD_CHARS = str.maketrans({chr(code): chr(code).lower() if chr(code).isalnum() else " " for code in range(128)})
# The same on UTF-8 bytes, for any text: ASCII characters other than letters and digits become spaces, the bytes
# of other characters stay as they are.
_ASCII_SEPARATORS = bytes(code if code >= 128 or chr(code).isalnum() else 32 for code in range(256))
# Above this many distinct characters to replace by spaces (one pass over the text apiece), the regular
# expression costs less.
_MAX_REPLACED = 32
# Below this many characters, a set of a text's characters costs less than numpy's setup.
_SMALL_TEXT = 256


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """A text normalised and split into words once, with what rules judging it need besides.

    - ``text``: as :func:`strip_invisible` gives it.
    - ``words``: as :func:`words` gives them.
    - ``non_ascii``: the distinct non-ASCII characters of ``text`` (rules decide from these which scans to skip).
    - ``plain_words``: the words are exactly the runs of letters and digits of ``text.casefold()`` (the text has
      no combining marks and no script written without spaces).
    """

    text: str
    words: list[str]
    non_ascii: frozenset[str]
    plain_words: bool


def normalise(text: str) -> NormalisedText:
    """Normalise ``text`` (:func:`strip_invisible`) and find its words (:func:`words`) in one go."""
    normal, non_ascii = _normalise(text)
    folded_above_latin = {ch for source in non_ascii for ch in source.casefold() if ord(ch) > 0x2FF}
    # Marks and spaceless scripts all lie above U+02FF (and casefolding is character by character).
    if any(unicodedata.category(ch)[0] == "M" or _NO_SPACE.match(ch) for ch in folded_above_latin):
        return NormalisedText(normal, _WORD.findall(normal.casefold()), non_ascii, False)
    return NormalisedText(normal, _plain_words(normal, non_ascii), non_ascii, True)


def _plain_words(normal: str, non_ascii: frozenset[str]) -> list[str]:
    """The runs of letters and digits of ``normal.casefold()``, found by C loops (str and bytes methods) when a
    few passes can put a space for every other character: ``split()`` then gives them."""
    if len(non_ascii) <= _MAX_REPLACED and all(map(_is_separator, non_ascii)):
        # The non-ASCII characters all separate words, and so do spaces in their place: the text becomes ASCII,
        # which one translate casefolds and rids of punctuation.
        for ch in non_ascii:
            normal = normal.replace(ch, " ")
        return normal.translate(_ASCII_WORD_CHARS).split()
    folded = normal.casefold()
    separators = {ch for source in non_ascii for ch in source.casefold() if not ch.isascii() and not ch.isalnum()}
    if len(separators) > _MAX_REPLACED:
        return _SIMPLE_WORD.findall(folded)
    spaced = folded.encode("utf-8", "surrogatepass").translate(_ASCII_SEPARATORS).decode("utf-8", "surrogatepass")
    for ch in separators:
        spaced = spaced.replace(ch, " ")
    return spaced.split()


def _is_separator(ch: str) -> bool:
    """Neither the character nor its casefolded form has a letter or digit (U+0345 folds to a Greek letter)."""
    folded = ch.casefold()
    return not ch.isalnum() and bool(folded) and not any(part.isalnum() for part in folded)


def _normalise(text: str) -> tuple[str, frozenset[str]]:
    """:func:`strip_invisible` with the distinct non-ASCII characters of its result."""
    if text.isascii():
        return text, frozenset()  # ASCII is already NFKC and has no format characters (control characters are not words).
    normal = unicodedata.normalize("NFKC", text)
    non_ascii = _non_ascii_in(normal)
    invisible = _invisible_among(non_ascii)
    if invisible:
        return normal.translate(dict.fromkeys(map(ord, invisible))), non_ascii - invisible
    return normal, non_ascii


def _non_ascii_in(text: str) -> frozenset[str]:
    """The distinct non-ASCII characters of a text, sorted out by numpy from its code points when it is long (a set
    of a long text outside Latin-1 costs far more: one new string per character)."""
    if text.isascii():
        return frozenset()
    if len(text) < _SMALL_TEXT:
        return frozenset(ch for ch in set(text) if not ch.isascii())
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return frozenset(map(chr, np.unique(codes[codes > 127]).tolist()))


def _invisible_among(chars: frozenset[str]) -> set[str]:
    """The invisible ones of a text's distinct characters (judged once per character: fast on long texts)."""
    return {ch for ch in chars if ch in _BLANK_LETTERS or unicodedata.category(ch) == "Cf"}


def strip_invisible(text: str) -> str:
    """NFKC-normalise and drop invisible characters (zero-width spaces and joiners, bidi marks, blank fillers)."""
    return _normalise(text)[0]


def words(text: str) -> list[str]:
    """Words are runs of letters or digits (casefolded); in scripts written without spaces each character is a word."""
    return normalise(text).words


def normalised_hash(text: str) -> str:
    """A stable hash of the text's words: equal for texts that differ only in case, spacing and punctuation."""
    return words_hash(words(text))


def words_hash(found: list[str]) -> str:
    """:func:`normalised_hash` of a text whose :func:`words` are ``found`` (for a caller that has them already)."""
    return hashlib.sha256(" ".join(found).encode("utf-8")).hexdigest()


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
    if unicodedata.is_normalized("NFKC", text) and not _invisible_among(_non_ascii_in(text)):
        return text, list(range(len(text) + 1))
    out: list[str] = []
    offsets: list[int] = []
    # Normalise a base character together with its combining marks, so that composition still happens.
    for cluster in re.finditer(f".[{_MARK_CLASS}]*", text, re.DOTALL):
        piece = unicodedata.normalize("NFKC", cluster.group())
        piece = "".join(ch for ch in piece if ch not in _BLANK_LETTERS and unicodedata.category(ch) != "Cf")
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
