"""Text shortened for a summary: whitespace folded, cut on a word boundary with an ellipsis."""

from __future__ import annotations

# What a record page and a credential show of an assignment's prompt or a course's account of what was learned.
SUMMARY_CHARS = 300


def shortened(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
