"""The one gate for short texts people write to each other: an appeal's or a response's message, a review's comment.

It refuses what says nothing: a blank text, one of only dots or punctuation, filler ("good", "ok", "asdf"), one
word repeated, keyboard mash, and a text with too few real words. It reuses the submission gate's normalisation
(so invisible characters and odd spacing count as nothing) and its filler and gibberish rules, on a scale that
suits a few sentences rather than an essay.
"""

from __future__ import annotations

from dataclasses import dataclass

from detection.gate.gibberish import is_gibberish
from detection.gate.placeholder import _FILLER
from detection.gate.settings import DEFAULT_SETTINGS, RejectionReason
from detection.gate.submission import Submission as GatedText

# Words that carry no content on their own in a short message: verdicts of one word, fillers and small words.
_EMPTY_TEXT = """
good bad ok okay k fine nice great cool yes no yep nope sure meh lol lmao hmm hm um uh wow thanks thx ty please
pls plz whatever idk nothing none nah agree disagree unfair fair wrong right correct incorrect same this that it
job work done well man bro dude lot lots stuff thing things all
is was be a an the i me my you your we our to of and or but so not very really just too
"""
_EMPTY_WORDS = _FILLER | frozenset(_EMPTY_TEXT.split())


@dataclass(frozen=True)
class ShortTextRules:
    """``min_words``: words a message needs; ``min_real_words``: of them, words that say something (not filler
    nor small words); ``min_distinct``: different words a message needs."""

    min_words: int = 3
    min_real_words: int = 2
    min_distinct: int = 3


DEFAULT_RULES = ShortTextRules()


def check_short_text(text: str | None, what: str = "message", rules: ShortTextRules = DEFAULT_RULES) -> list[RejectionReason]:
    """Reasons to refuse a short text (empty list: accept), each with a sentence saying what to write instead.
    ``what`` names the text in those sentences ("message", "comment")."""
    gated = GatedText.of(text or "")
    if not gated.normal.strip():
        return [RejectionReason("blank", f"Your {what} is empty. Say in a sentence or two what is wrong and why.")]
    found = gated.words
    if not found:
        return [
            RejectionReason(
                "punctuation_only",
                f"Your {what} is only dots, punctuation or symbols. Write in words what is wrong and why.",
            )
        ]
    if len(gated.counts) == 1 and len(found) > 1:
        return [
            RejectionReason(
                "repeated_word",
                f"Your {what} repeats one word. Write in sentences what is wrong and why.",
            )
        ]
    real = [w for w in found if w not in _EMPTY_WORDS and not w.isdigit()]
    if not real or (len(found) <= rules.min_words * 2 and len(real) < rules.min_real_words and len(real) * 2 < len(found)):
        return [
            RejectionReason(
                "filler",
                f'Your {what} says nothing specific ("good", "ok", "unfair" alone do not help). '
                "Name what is wrong, for example which criterion or comment, and why.",
            )
        ]
    if is_gibberish(gated, DEFAULT_SETTINGS):
        return [RejectionReason("gibberish", f"Your {what} looks like random typing. Write in words what is wrong and why.")]
    if len(found) < rules.min_words or len(real) < rules.min_real_words or len(gated.counts) < rules.min_distinct:
        return [
            RejectionReason(
                "too_few_words",
                f"Your {what} is too short to act on: write at least {rules.min_words} words that say what is wrong and why.",
            )
        ]
    return []
