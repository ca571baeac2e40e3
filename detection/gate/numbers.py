"""Numbers with no words: a count ("1 2 3 ... 44"), digits and punctuation, a column of figures without a sentence.

A word is a run of letters or digits (detection/text.py). A text of at least ``numbers_min_words`` words of which
fewer than ``numbers_min_letter_words`` hold a letter says nothing in words. A table of results is honest work as
soon as a few words around it explain it, however many figures it holds; and a one- or two-number answer (to a
question whose minimum allows it, "6 x 7 = 42") is left to the length rule.
"""

from __future__ import annotations

from detection.gate.settings import GateSettings
from detection.gate.submission import Submission


def is_numbers_only(submission: Submission, settings: GateSettings) -> bool:
    found = submission.words
    if len(found) < settings.numbers_min_words:
        return False
    with_letters = 0
    for word in found:
        if not word.isdigit():
            with_letters += any(ch.isalpha() for ch in word)
            if with_letters >= settings.numbers_min_letter_words:
                return False
    return True
