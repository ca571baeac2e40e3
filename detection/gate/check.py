"""The gate itself: every rule in turn, each reason with the sentence the learner reads."""

from __future__ import annotations

from detection.gate.encoded import encoded_blob
from detection.gate.gibberish import is_gibberish
from detection.gate.numbers import is_numbers_only
from detection.gate.placeholder import is_placeholder
from detection.gate.pleading import is_pleading
from detection.gate.prompt_copy import mostly_copied, source_words
from detection.gate.repetition import is_repetitive
from detection.gate.settings import DEFAULT_SETTINGS, GateSettings, RejectionReason
from detection.gate.submission import Submission


def check_text(
    text: str | Submission,
    *,
    min_words: int,
    prompt: str | None = None,
    template: str | None = None,
    rubric_text: str | None = None,
    settings: GateSettings | None = None,
) -> list[RejectionReason]:
    """Reasons to reject ``text`` (empty list: accept). Text extracted from files is included by the caller, who
    may pass it as ``Submission.of(text)`` to use its words too (a long text is then normalised only once)."""
    settings = settings or DEFAULT_SETTINGS
    submission = text if isinstance(text, Submission) else Submission.of(text)
    found = submission.words
    if not found:
        return [
            RejectionReason(
                "empty",
                "Your submission has no words in it (only spaces, punctuation, symbols or emoji). Write your answer, then submit again.",
            )
        ]
    reasons: list[RejectionReason] = []
    if len(found) < min_words:
        reasons.append(
            RejectionReason(
                "too_short",
                f"Your submission has {len(found)} word{'s' if len(found) != 1 else ''}; this assignment needs at least {min_words}. "
                "Complete your answer, then submit again.",
            )
        )
    enough = max(min_words, settings.min_remaining_words)

    blob = encoded_blob(submission, settings)
    if blob:
        reasons.append(
            RejectionReason(
                "encoded_blob",
                "Most of your submission is encoded data (such as base64 or hexadecimal), not readable text. "
                "Paste your answer as plain text, or attach the file itself.",
            )
        )
        return reasons  # the other rules have nothing to say about encoded data

    if is_numbers_only(submission, settings):
        reasons.append(
            RejectionReason(
                "numbers_only",
                "Your submission is only numbers and punctuation, with no words. "
                "Write your answer in words (explain any figures or table you include), then submit again.",
            )
        )
        return reasons  # the other rules judge words, and there are none

    if is_repetitive(submission, settings):
        reasons.append(
            RejectionReason(
                "repetitive",
                "Your submission repeats the same words or sentences over and over. "
                "Write out your full answer in your own words, then submit again.",
            )
        )
    if is_placeholder(submission, enough, settings):
        reasons.append(
            RejectionReason(
                "placeholder",
                'Your submission is placeholder text (such as "lorem ipsum" or "test test"). '
                "Replace it with your actual answer, then submit again.",
            )
        )
    elif is_gibberish(submission, settings):
        reasons.append(
            RejectionReason(
                "gibberish",
                "Your submission looks like random letters or keyboard mashing rather than words. "
                "Write your answer in words, then submit again.",
            )
        )
    sources = tuple(s for s in (prompt, template, rubric_text) if s and s.strip())
    if sources and mostly_copied(submission, source_words(sources, settings.quote_ngram), enough, settings):
        reasons.append(
            RejectionReason(
                "prompt_copy",
                "Your submission is mostly a copy of the assignment's prompt, template or rubric. "
                "Keep any quotation short and add your own answer, then submit again.",
            )
        )
    if is_pleading(submission, enough, settings):
        reasons.append(
            RejectionReason(
                "pleading",
                "Your submission mostly asks the graders for a score instead of answering the assignment. "
                "Reviewers can only grade your work: write your answer, then submit again.",
            )
        )
    return reasons
