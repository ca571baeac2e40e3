"""Pleas to the graders ("please give me full marks") instead of an answer."""

from __future__ import annotations

import re

from detection.gate.settings import GateSettings
from detection.gate.submission import Submission, mostly
from detection.text import words

_SENTENCE_ENDS = ".!?。！？\n"
# Ways of asking, in a few languages (casefolded). A sentence that asks *and* mentions grading is a plea.
_ASKING_KEYS = (
    "please",
    "pls",
    "plz",
    "plse",
    "kindly",
    "beg",
    "mercy",
    "dear grader",
    "dear reviewer",
    "dear marker",
    "dear teacher",
    "dear sir",
    "dear madam",
    "dear evaluator",
    "dear peer",
    "give me",
    "i need",
    "i deserve",
    "i hope",
    "hope you",
    "let me pass",
    "pass me",
    "por favor",
    "bitte",
    "s'il te pla",
    "s'il vous pla",
    "svp",
    "per favore",
    "пожалуйста",
    "прошу",
    "lütfen",
    "tolong",
    "请",
    "拜托",
    "お願い",
    "ください",
)
_GRADING = re.compile(
    r"(?:\b(?:grade|grades|grading|mark|marks|score|scores|points?|pass|passing|full|max(?:imum)?|100|10/10|5/5"
    r"|a\+|stars?|certificate|credit|rating|rate)\b|%|nota|punkte|note|балл\w*|оцен\w*|满分|分数|点数|満点)",
    re.IGNORECASE,
)

_SENTENCE_END = re.compile(f"[{re.escape(_SENTENCE_ENDS)}]")
# What a key needs the text to have: the non-ASCII characters of the non-ASCII keys, the words of the others.
_KEY_CHARACTERS = {key: frozenset(ch for ch in key if not ch.isascii()) for key in _ASKING_KEYS if not key.isascii()}
_KEY_WORDS = {key: tuple(re.findall(r"[^\W_]+", key)) for key in _ASKING_KEYS if key.isascii()}


def is_pleading(submission: Submission, enough: int, settings: GateSettings) -> bool:
    # Each search is a pass over the whole text: only search for the keys that may be in it.
    keys = [key for key in _ASKING_KEYS if _may_contain(submission, key)]
    if not keys:
        return False
    folded = submission.folded
    sentences: set[tuple[int, int]] = set()
    for key in keys:
        position = folded.find(key)
        while position >= 0:
            # Whole words only for alphabetic keys ("beg" is not in "begin").
            before = folded[position - 1] if position else " "
            after_index = position + len(key)
            after = folded[after_index] if after_index < len(folded) else " "
            if not key.isascii() or (not before.isalnum() and not after.isalnum()):
                sentences.add(_sentence_around(folded, position))
            position = folded.find(key, after_index)
    plea_words = 0
    for start, end in sentences:
        sentence = folded[start:end]
        if _GRADING.search(sentence):
            plea_words += len(words(sentence))
    return mostly(plea_words, len(submission.words), enough, settings)


def _may_contain(submission: Submission, key: str) -> bool:
    """False when ``key`` surely does not occur in the folded text (as a whole word, for an ASCII key)."""
    if not key.isascii():
        return _KEY_CHARACTERS[key] <= submission.folded_non_ascii
    if not submission.plain_words:
        return True  # words may hold combining marks: only a search can tell
    # When words are the runs of letters and digits, the runs of a key found as a whole word are words of the text,
    # one after the other: check the words themselves (a look-up each) before their sequence (a pass).
    key_words = _KEY_WORDS[key]
    return all(word in submission.counts for word in key_words) and f" {' '.join(key_words)} " in submission.spaced_words


def _sentence_around(text: str, position: int) -> tuple[int, int]:
    """The sentence holding ``position``: from just after the last end mark before it to the first one at or after it."""
    end = _SENTENCE_END.search(text, position)
    # Looking back for each mark in a growing window: a mark the text lacks would otherwise cost a pass over it.
    span = 256
    while True:
        low = max(0, position - span)
        start = max(text.rfind(mark, low, position) for mark in _SENTENCE_ENDS)
        if start >= 0 or low == 0:
            return start + 1, end.start() if end else len(text)
        span *= 4
