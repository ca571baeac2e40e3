"""What the gate answers (a reason to reject, with a code and a sentence for the learner) and its thresholds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RejectionReason:
    code: str
    message: str


@dataclass(frozen=True)
class GateSettings:
    """Thresholds of the junk gate (per-assignment settings; the defaults suit open-ended written work).

    - ``mostly_share``: a prompt copy, plea, placeholder or blob must be at least this share of the words before
      it can cause a rejection (and what remains must also be short, see the module docstring).
    - ``min_remaining_words``: what remains must reach at least this many words (or ``min_words`` if larger).
    - ``min_distinct_ratio``: below this share of distinct word 3-grams, a text of at least
      ``repetition_min_words`` words is one passage repeated.
    - ``min_distinct_words``: a text of at least ``repetition_min_words`` words needs at least this many
      different words.
    - ``gibberish_share``: the share of implausible words (keyboard runs, vowel-less strings, letter soup)
      from which a text written in the Latin or Cyrillic alphabet is gibberish.
    - ``blob_share``: the share of non-space characters in encoded data (base64, hex, data URLs) from which a
      text is an encoded blob.
    - ``quote_ngram``: words per n-gram when matching the text against the prompt, template and rubric.
    - ``numbers_min_words``, ``numbers_min_letter_words``: a text of at least that many words, fewer than
      ``numbers_min_letter_words`` of which hold a letter, is only numbers (and punctuation).
    """

    mostly_share: float = 0.5
    min_remaining_words: int = 10
    min_distinct_ratio: float = 0.3
    min_distinct_words: int = 4
    repetition_min_words: int = 12
    gibberish_share: float = 0.5
    blob_share: float = 0.5
    quote_ngram: int = 3
    numbers_min_words: int = 10
    numbers_min_letter_words: int = 3


DEFAULT_SETTINGS = GateSettings()
