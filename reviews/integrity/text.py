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
_ABOVE_LATIN = re.compile("[^\x00-\u02ff]")


def _needs_full_pattern(text: str) -> bool:
    if text.isascii():
        return False
    # Marks and spaceless scripts all lie above U+02FF; collecting just those characters is fast.
    return any(unicodedata.category(ch)[0] == "M" or _NO_SPACE.match(ch) for ch in set(_ABOVE_LATIN.findall(text)))


def _invisible_in(text: str) -> set[str]:
    """The distinct invisible characters of a text (judged once per distinct character: fast on long texts)."""
    return {ch for ch in set(text) if ord(ch) > 127 and (ch in _BLANK_LETTERS or unicodedata.category(ch) == "Cf")}


def strip_invisible(text: str) -> str:
    """NFKC-normalise and drop invisible characters (zero-width spaces and joiners, bidi marks, blank fillers)."""
    if text.isascii():
        return text  # ASCII is already NFKC and has no format characters (control characters are not words).
    normal = unicodedata.normalize("NFKC", text)
    invisible = _invisible_in(normal)
    return normal.translate(dict.fromkeys(map(ord, invisible))) if invisible else normal


def words(text: str) -> list[str]:
    """Words are runs of letters or digits (casefolded); in scripts written without spaces each character is a word."""
    return words_of_normalised(strip_invisible(text))


def words_of_normalised(normal: str) -> list[str]:
    """:func:`words` of a text :func:`strip_invisible` has already normalised (saves normalising twice)."""
    folded = normal.casefold()
    if not _needs_full_pattern(folded):
        return _SIMPLE_WORD.findall(folded)
    return _WORD.findall(folded)


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
    if unicodedata.is_normalized("NFKC", text) and not _invisible_in(text):
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
