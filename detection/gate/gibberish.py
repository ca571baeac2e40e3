"""Keyboard mash and letter soup in the Latin and Cyrillic alphabets."""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from operator import itemgetter

from detection.gate.settings import GateSettings
from detection.gate.submission import Submission

_KEYBOARD_ROWS = (
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",  # German, Central European
    "yxcvbnm",
    "azertyuiop",  # French, Belgian
    "qsdfghjklm",
    "wxcvbn",
    "йцукенгшщзхъ",  # Russian
    "фывапролджэ",
    "ячсмитьбю",
)


def _adjacent_pairs() -> frozenset[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for row in _KEYBOARD_ROWS:
        for left, right in pairwise(row):
            pairs.add((left, right))
            pairs.add((right, left))
    # Keys above and below each other on QWERTY (mashing with the whole hand).
    for upper, lower in (("qwertyuiop", "asdfghjkl"), ("asdfghjkl", "zxcvbnm")):
        for i, ch in enumerate(lower):
            for j in (i, i + 1):
                if j < len(upper):
                    pairs.add((ch, upper[j]))
                    pairs.add((upper[j], ch))
    return frozenset(pairs)


_ADJACENT = _adjacent_pairs()
_VOWELS = frozenset("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœаеёиоуыэюяіїє")
# The letters of the Latin and Cyrillic words judged (a set: testing a word's letters against it is fast).
_ALPHABET = frozenset(
    "abcdefghijklmnopqrstuvwxyz" + "".join(map(chr, range(ord("à"), ord("ÿ") + 1))) + "œ" + "абвгдежзийклмнопрстуфхцчшщъыьэюяёіїє"
)
# Several single letters separated only by spaces ("a s d f g h"): spelled-out letter soup.
_SPACED_LETTERS = re.compile(r"(?:(?<![^\W\d_])[^\W\d_] +){5,}[^\W\d_](?![^\W\d_])")


def is_gibberish(submission: Submission, settings: GateSettings) -> bool:
    """Keyboard mash and letter soup, judged only for the Latin and Cyrillic alphabets, word by distinct word,
    on signs no language's real words show in bulk: runs of neighbouring keys, long strings with no vowel,
    five or more consonants in a row, a short chunk typed again and again inside one word."""
    found, counts = submission.words, submission.counts
    letters = submission.non_space
    # Single letters are at most all the words: only count them when that could be the share needed.
    if letters and len(found) >= settings.gibberish_share * letters:
        single = sum(c for w, c in counts.items() if len(w) == 1)
        if single >= settings.gibberish_share * letters:
            # Only then can spelled-out letters ("a s d f") be most of the text: worth the slower pattern.
            spaced = sum(len(m.group()) for m in _SPACED_LETTERS.finditer(submission.folded))
            if spaced - spaced // 2 >= settings.gibberish_share * letters:
                return True
    if len(found) > _GIBBERISH_SAMPLE:
        # Mash is uniform: an evenly spread sample of the words judges a long text as well as all of them.
        counts = Counter(found[:: len(found) // _GIBBERISH_SAMPLE + 1])
    # Only Latin and Cyrillic words count (none of them is in a script written without spaces).
    alphabetic = {w: c for w, c in counts.items() if _ALPHABET.issuperset(w)}
    alphabetic_words = sum(alphabetic.values())
    if alphabetic_words < max(3, settings.gibberish_share * sum(counts.values())):
        return False
    needed = settings.gibberish_share * alphabetic_words
    implausible = 0
    unjudged = alphabetic_words
    # The most frequent words first: they settle the question soonest either way.
    for word, count in sorted(alphabetic.items(), key=itemgetter(1), reverse=True):
        unjudged -= count
        if _implausible(word):
            implausible += count
            if implausible >= needed:
                return True
        elif implausible + unjudged < needed:
            return False
    return implausible >= needed


_GIBBERISH_SAMPLE = 250
_CONSONANT_RUN = re.compile(r"[^aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœаеёиоуыэюяіїєьъ]{5,}")
_REPEATED_CHUNK = re.compile(r"(.{2,4})\1{1,}")


def _implausible(word: str) -> bool:
    if len(word) < 4:
        return False
    if _VOWELS.isdisjoint(word):
        return True
    if _CONSONANT_RUN.search(word):
        return True
    if len(word) >= 6 and _REPEATED_CHUNK.fullmatch(word):
        return True
    adjacent = sum(1 for pair in pairwise(word) if pair in _ADJACENT or pair[0] == pair[1])
    # Whole words typed along neighbouring keys: a few real short words do that ("were", "look"), so it takes
    # most of a text's words to call the text gibberish.
    return adjacent >= (0.8 if len(word) >= 5 else 1.0) * (len(word) - 1)
