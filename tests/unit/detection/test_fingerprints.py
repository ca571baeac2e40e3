"""Words, normalisation with offsets, winnowing's guarantees and stable hashes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from detection.fingerprints import (
    CODE,
    PROSE,
    PROSE_SETTINGS,
    WinnowSettings,
    code_tokens,
    fingerprint,
    fingerprints_of,
    kind_for_filename,
    stable_hash,
    winnow,
)
from detection.text import normalised_hash, strip_invisible, word_tokens, words


def test_words_in_scripts_with_and_without_spaces() -> None:
    assert words("Hello, WORLD! 42 Straße") == ["hello", "world", "42", "strasse"]
    assert words("継承とは") == ["継", "承", "と", "は"]
    assert words("ภาษา") == ["ภ", "า", "ษ", "า"]
    assert words("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # vowel signs stay inside their word
    assert words("snake_case") == ["snake", "case"]


def test_invisible_characters_are_stripped_and_compatibility_forms_folded() -> None:
    assert strip_invisible("a\u200bb\u200dc\ufeff\u2066d") == "abcd"
    assert words("ＦＵＬＬ\u200bwidth") == ["fullwidth"]
    assert normalised_hash("Hello,   world") == normalised_hash("hello world!") != normalised_hash("hello there")


def test_word_tokens_point_into_the_original_text() -> None:
    text = "Ｈé\u200bllo, wörld e\u0301te\u0301 ﬁne"
    tokens = word_tokens(text)
    assert [t.value for t in tokens] == ["héllo", "wörld", "été", "fine"]
    assert [text[t.start : t.end] for t in tokens] == ["Ｈé\u200bllo", "wörld", "e\u0301te\u0301", "ﬁne"]


def test_code_tokens_ignore_names_literals_comments_and_layout() -> None:
    a = "int total = 0; // sum\nfor (int i = 0; i < n; i++) { total += values[i]; }"
    b = "int   s=10;/* renamed */ for(int k=1;k<count;k++){s+=xs[k];}"
    assert [t.value for t in code_tokens(a)] == [t.value for t in code_tokens(b)]
    assert "ID" in [t.value for t in code_tokens(a)] and "NUM" in [t.value for t in code_tokens(a)]
    python = 'def f(x):\n    """Doc."""\n    return x + 1  # note\n'
    assert [t.value for t in code_tokens(python, language="py")] == ["def", "ID", "(", "ID", ")", ":", "return", "ID", "+", "NUM"]


def values(text: str, language: str) -> list[str]:
    return [t.value for t in code_tokens(text, language=language)]


def test_c_includes_and_pragmas_are_not_structure_but_defines_are() -> None:
    with_headers = '#include <stdio.h>\n  #  include "list.h"\n#pragma once\n#define MAX 100\nint main(void) { return MAX; }\n'
    reordered = '#include "list.h"\n#include <stdlib.h>\n#include <stdio.h>\n#define MAX 7\nint main(void) { return MAX; }\n'
    assert (
        values(with_headers, "c")
        == values(reordered, "c")
        == ["#", "ID", "ID", "NUM", "int", "ID", "(", "void", ")", "{", "return", "ID", ";", "}"]
    )
    # An include continued over an escaped newline is one line; a "#" inside a line is an operator, not a directive.
    assert values("#include \\\n  <stdio.h>\nx = a # b;\n", "c") == ["ID", "=", "ID", "#", "ID", ";"]
    # In Java nothing is a preprocessor line; in Python "#" starts a comment.
    assert values("#include <x>\n", "java") == ["#", "ID", "<", "ID", ">"]
    assert values("#include <x>\nx = 1\n", "py") == ["ID", "=", "NUM"]


def test_cpp_std_qualifiers_and_the_using_directive_are_dropped() -> None:
    qualified = "int main() { std::string s; std::cin >> s; std::cout << s << std::endl; }"
    using = "using namespace std;\nint main() { string s; cin >> s; cout << s << endl; }"
    assert values(qualified, "cpp") == values(using, "cpp")
    assert "::" not in values(qualified, "cpp")
    # Other qualifiers stay: they are the program's own structure.
    assert values("int Point::norm() const { return 0; }", "cpp")[:4] == ["int", "ID", "::", "ID"]


def test_string_literals_of_every_form_are_one_literal() -> None:
    cpp = 'auto a = R"sep(one ") two)sep"; auto b = u8"x"; auto c = L\'y\'; auto d = R"(z)";'
    assert values(cpp, "cpp") == ["auto", "ID", "=", "STR", ";"] * 4
    python = "a = f'{x}' + rb\"\\x00\" + u'y' + Rb'z'\n"
    assert values(python, "py") == ["ID", "=", "STR", "+", "STR", "+", "STR", "+", "STR"]
    # A name that happens to end in a prefix letter is still a name.
    assert values("buf = elif_r + 'x'", "py") == ["ID", "=", "ID", "+", "STR"]


def test_numbers_with_digit_separators_and_bases_are_one_number() -> None:
    line = "x = 1'000'000 + 0x1F'FF + 0b1010 + 1e-3f; c = 'q';"
    assert values(line, "cpp") == ["ID", "=", "NUM", "+", "NUM", "+", "NUM", "+", "NUM", ";", "ID", "=", "STR", ";"]
    assert values("long n = 1_000_000L;", "java") == ["long", "ID", "=", "NUM", ";"]


def test_kind_by_extension() -> None:
    assert kind_for_filename("a/Main.java") == CODE and kind_for_filename("x.PY") == CODE
    assert kind_for_filename("essay.txt") == PROSE and kind_for_filename("README.md") == PROSE


def test_winnow_picks_the_rightmost_minimum_of_each_window() -> None:
    hashes = [77, 74, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 74, 42, 17, 98]
    # The example of Schleimer, Wilkerson and Aiken (2003), window 4.
    assert [hashes[i] for i in winnow(hashes, 4)] == [17, 17, 8, 39, 17]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=60),
    st.integers(1, 8),
)
def test_every_window_holds_a_selected_hash(hashes: list[int], window: int) -> None:
    chosen = set(winnow(hashes, window))
    for start in range(max(1, len(hashes) - window + 1)):
        assert chosen & set(range(start, start + window))


ROOT = Path(__file__).resolve().parents[3]
VOCABULARY = [f"w{i}" for i in range(40)]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(VOCABULARY), min_size=0, max_size=60),
    st.lists(st.sampled_from(VOCABULARY), min_size=0, max_size=60),
    st.lists(st.sampled_from(VOCABULARY), min_size=PROSE_SETTINGS.guarantee, max_size=30),
)
def test_a_copied_passage_at_least_the_guarantee_long_is_always_found(before: list[str], after: list[str], passage: list[str]) -> None:
    source = " ".join(["alpha"] * 3 + passage + ["omega"] * 3)
    copy = " ".join(before + passage + after)
    shared = {f.hash for f in fingerprint(source)} & {f.hash for f in fingerprint(copy)}
    assert shared


def test_no_match_shorter_than_k_is_reported() -> None:
    s = WinnowSettings(k=5, window=1)
    a = fingerprints_of(word_tokens("one two three four unrelated words follow here"), s)
    b = fingerprints_of(word_tokens("totally different one two three four text"), s)
    assert not ({f.hash for f in a} & {f.hash for f in b})


def test_fingerprints_carry_character_ranges() -> None:
    text = "Zero one two three four five six seven eight nine"
    found = fingerprint(text)
    assert len(found) >= 2
    for f in found:
        assert text[f.start : f.end].split()[0].casefold() == word_tokens(text)[f.position].value


def test_hashes_are_stable_across_processes() -> None:
    program = (
        "from detection.fingerprints import fingerprint, stable_hash;"
        "print(stable_hash('inheritance'), [f.hash for f in fingerprint('a b c d e f g h i j k l m n o p')])"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": seed}, cwd=ROOT
        ).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1
    assert runs.pop().startswith(str(stable_hash("inheritance")))
