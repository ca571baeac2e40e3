"""The edge's input rules on their own (reviews.kernel.inputs): what a JSON body may be before any parser reads it,
what text may hold, and what the rules cost on the largest body they may be given."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviews.kernel.errors import DomainError
from reviews.kernel.inputs import MAX_JSON_BYTES, is_clean, json_problem, printable, refuse_hostile


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 65 + "]" * 65, "nests deeper than 64"),
        ('{"a":' * 65 + "1" + "}" * 65, "nests deeper than 64"),
        ("[" * 100_000, "nests deeper than 64"),
        ('{"title": ' + "[" * 1000 + "]" * 1000 + "}", "nests deeper than 64"),
        ("[" + "9" * 101 + "]", "more than 100 digits"),
        ('{"n": -' + "1" * 5000 + "}", "more than 100 digits"),
        ('{"n": 0.' + "1" * 5000 + "}", "more than 100 digits"),
        ('{"n": NaN}', "NaN and Infinity"),
        ("[Infinity]", "NaN and Infinity"),
        ("[-Infinity]", "NaN and Infinity"),
        ("[1e309]", "too large"),
        ('{"n": -1.5E+400}', "too large"),
        ("[2e308]", "too large"),
    ],
)
def test_json_refused_before_parsing(text: str, reason: str) -> None:
    problem = json_problem(text)
    assert problem is not None and reason in problem


@pytest.mark.parametrize(
    "text",
    [
        "[" * 64 + "]" * 64,
        "[" + "9" * 100 + "]",
        "[1e308, 1e-999, -1.7976931348623157e308, 0.5E+10]",
        # Brackets, digits and words inside strings are text, not structure (escaped quotes included).
        json.dumps({"a": "[" * 1000, "b": "NaN Infinity", "c": "9" * 5000, "d": 'say \\" [[[ "', "e": "1e999"}),
        '{"k": "unterminated [[[[',  # not JSON: the parser says so (400), not these bounds
        "]]]]" + "[" * 64,
    ],
)
def test_json_within_bounds_goes_to_the_parser(text: str) -> None:
    assert json_problem(text) is None


JSONISH = st.text(alphabet=st.sampled_from(list('[]{}"\\,:0123456789.eE-+ NaInfityx\x00\ud800')), max_size=400)


@settings(derandomize=True, max_examples=300, deadline=None, database=None)
@given(text=JSONISH)
def test_whatever_passes_the_bounds_parses_or_is_plainly_not_json(text: str) -> None:
    """Never an exception from the check itself; and what it lets through, the parser reads or refuses with ValueError
    (never RecursionError, never the integer-string limit's 500)."""
    if json_problem(text) is not None:
        return
    try:
        value = json.loads(text)
    except ValueError:
        return
    assert json.dumps(value) is not None


@settings(derandomize=True, max_examples=100, deadline=None, database=None)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=30,
    )
)
def test_honest_json_passes(value: object) -> None:
    assert json_problem(json.dumps(value)) is None


@pytest.mark.parametrize(
    "body",
    [
        "[]" * (MAX_JSON_BYTES // 2),
        "[" * (MAX_JSON_BYTES // 2) + "]" * (MAX_JSON_BYTES // 2),
        ("[" * 60 + "]" * 60) * (MAX_JSON_BYTES // 120),
        '"' + '\\"' * (MAX_JSON_BYTES // 2),
        "1," * (MAX_JSON_BYTES // 2),
        "[" + "1e500," * (MAX_JSON_BYTES // 6) + "1]",
        "[" + "1e300," * (MAX_JSON_BYTES // 6) + "1]",
    ],
    ids=["pairs", "deep", "nested-60", "escaped-quotes", "numbers", "infinite-exponents", "finite-exponents"],
)
def test_the_check_is_linear_on_the_largest_body(body: str) -> None:
    """No body it is given makes the check slow: a few tenths of a second for 4 MB built to be the worst case."""
    started = time.perf_counter()
    json_problem(body)
    assert time.perf_counter() - started < 3.0


def test_text_rules() -> None:
    assert is_clean("plain, é, \U0001f600, \u2028")
    for hostile in ["\x00", "a\x00", "\ud800", "\udfff", "x\udc00y"]:
        assert not is_clean(hostile)
    assert printable("a\x00\ud800") == "a\ufffd\ufffd"
    refuse_hostile([("title", "fine"), ("note", "")])
    with pytest.raises(DomainError) as refused:
        refuse_hostile([("title", "fine"), ("note", "a\x00"), ("ke\ud800y", "x")])
    error = refused.value
    assert error.code == "invalid_request" and error.status == 422
    assert set(error.details["fields"]) == {"note", "ke\ufffdy"}
    assert "note" in error.message and "NUL" in error.message
