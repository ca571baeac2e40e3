"""The one short-text gate: appeals, responses and contests (and review comments) must say something in words."""

from __future__ import annotations

import pytest

from reviews.integrity.short_text import ShortTextRules, check_short_text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, "blank"),
        ("", "blank"),
        ("   \n\t ", "blank"),
        ("\u200b\u200b", "blank"),  # invisible characters only
        ("...", "punctuation_only"),
        ("?!?! -- ...", "punctuation_only"),
        ("good", "filler"),
        ("OK", "filler"),
        ("This is unfair", "filler"),
        ("good job, thanks", "filler"),
        ("ok ok ok ok", "repeated_word"),
        ("Unfair unfair UNFAIR!", "repeated_word"),
        ("asdfgh jklqwe rtyuio zxcvbn", "gibberish"),
        ("Missed things", "too_few_words"),
        ("reviewer wrong", "too_few_words"),
    ],
)
def test_refuses_what_says_nothing(text: str | None, code: str) -> None:
    reasons = check_short_text(text)
    assert [r.code for r in reasons] == [code]
    assert reasons[0].message.startswith("Your message") and reasons[0].message.endswith(".")


@pytest.mark.parametrize(
    "text",
    [
        "The reviewer ignored my milestones section entirely.",
        "Ignored my risks.",
        "Criterion 2 was scored zero though I covered it in section three.",
        "Die Gliederung wurde ignoriert, obwohl sie vollständig ist.",
        "I wrote this myself; my drafts are in the shared folder since March.",
    ],
)
def test_accepts_real_sentences(text: str) -> None:
    assert check_short_text(text) == []


def test_names_the_text_it_judges() -> None:
    (reason,) = check_short_text("ok", "comment")
    assert reason.message.startswith("Your comment")


def test_rules_are_tunable() -> None:
    strict = ShortTextRules(min_words=8, min_real_words=5, min_distinct=6)
    assert [r.code for r in check_short_text("Ignored my risks.", rules=strict)] == ["too_few_words"]
