"""The junk gate: decides in the submit request whether a text is real work, and says why not."""

from __future__ import annotations

from dataclasses import dataclass

from reviews.integrity.text import words


@dataclass(frozen=True)
class Rejection:
    code: str
    message: str


def check_text(
    text: str,
    *,
    min_words: int,
    prompt: str | None = None,
    template: str | None = None,
    rubric_text: str | None = None,
) -> list[Rejection]:
    """Reasons to reject ``text`` (empty list: accept). Text extracted from files is included by the caller."""
    found = words(text)
    if not found:
        return [Rejection("empty", "Your submission has no words in it. Write your answer, then submit again.")]
    if len(found) < min_words:
        return [
            Rejection(
                "too_short",
                f"Your submission has {len(found)} words; this assignment needs at least {min_words}. "
                "Complete your answer, then submit again.",
            )
        ]
    return []
