"""The one gate for short texts people write to each other: an appeal's or a response's message, a review's comment.

It refuses what says nothing: a blank text, one of only dots or punctuation, filler ("good", "ok", "asdf"), one
word repeated, keyboard mash, and a text with too few real words. It reuses the submission gate's normalisation
(so invisible characters and odd spacing count as nothing) and its filler and gibberish rules, on a scale that
suits a few sentences rather than an essay.

A review's comments go through the same gate (``check_review_comments``): a comment given must not be junk, a
criterion scored at 0 or at its lowest level descriptor needs a comment of real words saying why, and so does the
overall comment when the assignment asks for one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


# What a message of an appeal, a response or a contest should say, in the gate's sentences.
APPEAL_ASK = "what is wrong and why"
APPEAL_SPECIFIC = "Name what is wrong, for example which criterion or comment, and why."


def check_short_text(
    text: str | None,
    what: str = "message",
    rules: ShortTextRules = DEFAULT_RULES,
    *,
    ask: str = APPEAL_ASK,
    specific: str = APPEAL_SPECIFIC,
) -> list[RejectionReason]:
    """Reasons to refuse a short text (empty list: accept), each with a sentence saying what to write instead.
    ``what`` names the text in those sentences ("message", "comment"); ``ask`` says what it should say ("what is
    wrong and why") and ``specific`` how to say something specific instead of filler."""
    gated = GatedText.of(text or "")
    if not gated.normal.strip():
        return [RejectionReason("blank", f"Your {what} is empty. Say in a sentence or two {ask}.")]
    found = gated.words
    if not found:
        return [
            RejectionReason(
                "punctuation_only",
                f"Your {what} is only dots, punctuation or symbols. Write in words {ask}.",
            )
        ]
    if len(gated.counts) == 1 and len(found) > 1:
        return [
            RejectionReason(
                "repeated_word",
                f"Your {what} repeats one word. Write in sentences {ask}.",
            )
        ]
    real = [w for w in found if w not in _EMPTY_WORDS and not w.isdigit()]
    if not real or (len(found) <= rules.min_words * 2 and len(real) < rules.min_real_words and len(real) * 2 < len(found)):
        return [
            RejectionReason(
                "filler",
                f'Your {what} says nothing specific ("good", "ok", "unfair" alone do not help). {specific}',
            )
        ]
    if is_gibberish(gated, DEFAULT_SETTINGS):
        return [RejectionReason("gibberish", f"Your {what} looks like random typing. Write in words {ask}.")]
    if len(found) < rules.min_words or len(real) < rules.min_real_words or len(gated.counts) < rules.min_distinct:
        return [
            RejectionReason(
                "too_few_words",
                f"Your {what} is too short to act on: write at least {rules.min_words} words that say {ask}.",
            )
        ]
    return []


# --- review comments ------------------------------------------------------------------------------------------

# An optional comment is refused only when it looks like one and says nothing; a short remark ("Clear.") is fine
# where nothing asks for an explanation, and an empty one is no comment at all.
_JUNK = frozenset({"punctuation_only", "repeated_word", "filler", "gibberish"})
REVIEW_ASK = "what the work does or misses, and why"
REVIEW_SPECIFIC = "Name what the work does or misses, for example which part of it, and why."
LOW_SCORE_ASK = "what the work misses and why it gets so few points"
LOW_SCORE_SPECIFIC = "Name what the work misses, for example which part of it, and why that costs the points."


@dataclass(frozen=True)
class ReviewRefusal:
    """Why a review's comment is refused: ``code`` (one of check_short_text's, or ``score_unexplained`` /
    ``overall_required`` for a comment that is needed and missing), the sentence saying what to write, and the
    review's field it concerns (``comments.<criterion key>`` or ``overall_comment``)."""

    code: str
    message: str
    field: str


def needs_explaining(criterion: Mapping[str, Any], points: float) -> bool:
    """A criterion scored at 0, or at (or under) its lowest level descriptor, needs a comment saying why."""
    levels = [level["points"] for level in criterion.get("levels") or [] if isinstance(level, Mapping) and "points" in level]
    return points <= 0 or (bool(levels) and points <= min(levels))


def _points(points: float) -> str:
    return f"{points:g} point{'' if points == 1 else 's'}"


def _lowest_words(criterion: Mapping[str, Any], points: float) -> str:
    levels = {level["points"]: level.get("description", "") for level in criterion.get("levels") or [] if isinstance(level, Mapping)}
    if levels.get(points):
        return f", its lowest level (\u201c{levels[points]}\u201d)"
    return ""


def check_review_comments(
    criteria: Sequence[Mapping[str, Any]],
    scores: Mapping[str, float],
    comments: Mapping[str, str],
    overall_comment: str | None,
    *,
    require_overall: bool = False,
) -> list[ReviewRefusal]:
    """Reasons to refuse a review's comments (empty list: accept), in the rubric's order, the overall comment last.

    A criterion that ``needs_explaining`` takes its comment through the whole gate; any other comment given is
    refused only when it is junk (dots, one word repeated, filler, random typing). The overall comment is held to
    the whole gate when ``require_overall`` (the assignment's ``require_overall_comment``), else like an optional one.
    """
    refusals: list[ReviewRefusal] = []
    for criterion in criteria:
        key, title = criterion["key"], criterion["title"]
        text, field = comments.get(key) or "", f"comments.{key}"
        points = scores.get(key)
        what = f"comment on {title}"
        if points is not None and needs_explaining(criterion, points):
            found = check_short_text(text, what, ask=LOW_SCORE_ASK, specific=LOW_SCORE_SPECIFIC)
            if found and found[0].code == "blank":
                message = (
                    f"You gave {title} {_points(points)}{_lowest_words(criterion, points)}: say in a sentence or two why, "
                    "so that the author knows what to change."
                )
                refusals.append(ReviewRefusal("score_unexplained", message, field))
            elif found:
                low = f"A score of {points:g} on {title} needs a reason in words."
                refusals.append(ReviewRefusal(found[0].code, f"{found[0].message} {low}", field))
        elif text.strip():
            refusals.extend(
                ReviewRefusal(r.code, r.message, field)
                for r in check_short_text(text, what, ask=REVIEW_ASK, specific=REVIEW_SPECIFIC)
                if r.code in _JUNK
            )
    what = "overall comment"
    if require_overall:
        found = check_short_text(overall_comment, what, ask=REVIEW_ASK, specific=REVIEW_SPECIFIC)
        if found and found[0].code == "blank":
            message = (
                "This assignment asks for an overall comment: say in a few sentences what the work does well and what it should change."
            )
            refusals.append(ReviewRefusal("overall_required", message, "overall_comment"))
        elif found:
            refusals.append(ReviewRefusal(found[0].code, found[0].message, "overall_comment"))
    elif (overall_comment or "").strip():
        refusals.extend(
            ReviewRefusal(r.code, r.message, "overall_comment")
            for r in check_short_text(overall_comment, what, ask=REVIEW_ASK, specific=REVIEW_SPECIFIC)
            if r.code in _JUNK
        )
    return refusals
