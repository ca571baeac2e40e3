"""The review gate over a review's comments: one short-text gate, held fully where a comment is needed (a score
at 0 or at the lowest level, a required overall comment) and against junk everywhere else."""

from __future__ import annotations

from typing import Any

import pytest

from reviews.integrity.short_text import check_review_comments, check_short_text, needs_explaining

CRITERIA: list[dict[str, Any]] = [
    {"key": "scope", "title": "Scope", "max_points": 4},
    {
        "key": "risks",
        "title": "Risks",
        "max_points": 4,
        "levels": [{"points": 4, "description": "Every risk met"}, {"points": 1, "description": "Names no risk"}],
    },
]
FINE = {"scope": 3, "risks": 3}
REASON = "The plan never says which tasks are in or out of scope."


def codes(scores: dict[str, float], comments: dict[str, str], overall: str = "", *, required: bool = False) -> list[tuple[str, str]]:
    return [(r.code, r.field) for r in check_review_comments(CRITERIA, scores, comments, overall, require_overall=required)]


def test_a_review_with_ordinary_scores_needs_no_comment() -> None:
    assert codes(FINE, {}) == []
    assert codes(FINE, {"scope": "Clear.", "risks": "Two risks, one met."}, "Solid work.") == []


@pytest.mark.parametrize(
    ("criterion", "points"),
    [("scope", 0), ("risks", 0), ("risks", 1), ("risks", 0.5)],
)
def test_a_lowest_score_without_a_comment_is_unexplained(criterion: str, points: float) -> None:
    scores = {**FINE, criterion: points}
    assert codes(scores, {}) == [("score_unexplained", f"comments.{criterion}")]
    assert codes(scores, {criterion: REASON}) == []


def test_just_above_the_lowest_level_needs_nothing() -> None:
    assert not needs_explaining(CRITERIA[1], 2)
    assert needs_explaining(CRITERIA[1], 1) and needs_explaining(CRITERIA[0], 0) and not needs_explaining(CRITERIA[0], 1)


def test_the_unexplained_sentence_names_the_criterion_points_and_level() -> None:
    (refusal,) = check_review_comments(CRITERIA, {**FINE, "risks": 1}, {}, "")
    assert refusal.message.startswith("You gave Risks 1 point, its lowest level (\u201cNames no risk\u201d)")
    assert refusal.message.endswith(".")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("...", "punctuation_only"),
        ("bad bad bad", "repeated_word"),
        ("bad", "filler"),
        ("asdfgh jklqwe rtyuio zxcvbn", "gibberish"),
        ("Missing scope", "too_few_words"),
    ],
)
def test_a_needed_comment_that_says_nothing_is_refused(text: str, code: str) -> None:
    (refusal,) = check_review_comments(CRITERIA, {**FINE, "scope": 0}, {"scope": text}, "")
    assert (refusal.code, refusal.field) == (code, "comments.scope")
    assert refusal.message.startswith("Your comment on Scope") and "A score of 0 on Scope needs a reason in words." in refusal.message


@pytest.mark.parametrize(
    ("text", "code"),
    [("....", "punctuation_only"), ("good good good", "repeated_word"), ("good", "filler"), ("Nice work!", "filler")],
)
def test_an_optional_comment_that_is_junk_is_refused(text: str, code: str) -> None:
    assert codes(FINE, {"risks": text}) == [(code, "comments.risks")]
    assert codes(FINE, {}, text) == [(code, "overall_comment")]


def test_a_short_optional_remark_and_an_empty_one_pass() -> None:
    assert codes(FINE, {"scope": "Vague.", "risks": "   "}, "Well structured.") == []


def test_a_required_overall_comment() -> None:
    assert codes(FINE, {}, "", required=True) == [("overall_required", "overall_comment")]
    assert codes(FINE, {}, "Fine.", required=True) == [("filler", "overall_comment")]
    assert codes(FINE, {}, "Good scope", required=True) == [("too_few_words", "overall_comment")]
    assert codes(FINE, {}, "A clear plan; the risks need an owner each.", required=True) == []


def test_every_reason_at_once_in_the_rubric_order_then_the_overall_comment() -> None:
    found = codes({"scope": 0, "risks": 1}, {"risks": "ok"}, "", required=True)
    assert found == [("score_unexplained", "comments.scope"), ("filler", "comments.risks"), ("overall_required", "overall_comment")]


def test_appeal_wording_is_unchanged() -> None:
    (reason,) = check_short_text("ok")
    assert reason.message.endswith("Name what is wrong, for example which criterion or comment, and why.")
    (review,) = check_review_comments(CRITERIA, FINE, {"scope": "ok"}, "")
    assert "what is wrong" not in review.message
