"""Document fingerprints by winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003).

A text becomes a sequence of tokens: casefolded words for prose, and for source code a token stream in which
comments and layout are dropped and every identifier and literal is replaced by its kind, so renaming variables
and changing strings does not hide a copy. Each run of ``k`` consecutive tokens (a k-gram) is hashed with a stable
64-bit hash (BLAKE2b; never Python's per-process salted ``hash()``, so fingerprints stored by one process match
those of another). Winnowing keeps, in every window of ``window`` consecutive k-gram hashes, the smallest one
(the rightmost on ties). That gives the paper's two guarantees: a match shorter than ``k`` tokens is never
reported (noise), and any passage of at least ``k + window - 1`` tokens shared by two texts always yields at
least one common fingerprint, while only about ``2 / (window + 1)`` of the k-grams are kept.

Every fingerprint keeps the character range of its k-gram in the original text, so matches can be shown.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from detection.text import Token, normalise_with_offsets, word_tokens, words

PROSE = "prose"
CODE = "code"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A selected k-gram hash, the index of the k-gram's first token, and its character range in the text."""

    hash: int
    position: int
    start: int
    end: int


@dataclass(frozen=True)
class WinnowSettings:
    """``k``: tokens per k-gram (the noise threshold); ``window``: k-grams per winnowing window.
    Any shared passage of ``k + window - 1`` tokens or more is guaranteed to be found."""

    k: int
    window: int

    @property
    def guarantee(self) -> int:
        return self.k + self.window - 1


# Prose: 4 words is past most stock phrases yet short enough to survive light rewording between the changes.
# Code: 9 normalised tokens is about one statement, the unit copiers reorder and rewrite.
PROSE_SETTINGS = WinnowSettings(k=4, window=4)
CODE_SETTINGS = WinnowSettings(k=9, window=5)

CODE_EXTENSIONS = frozenset(
    [
        "c",
        "h",
        "cc",
        "cpp",
        "cxx",
        "hpp",
        "hh",
        "hxx",
        "cs",
        "java",
        "kt",
        "kts",
        "scala",
        "groovy",
        "go",
        "rs",
        "swift",
        "m",
        "mm",
        "js",
        "jsx",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "php",
        "py",
        "pyw",
        "rb",
        "pl",
        "pm",
        "r",
        "jl",
        "lua",
        "sh",
        "bash",
        "zsh",
        "ps1",
        "sql",
        "hs",
        "ml",
        "mli",
        "fs",
        "fsx",
        "ex",
        "exs",
        "erl",
        "clj",
        "cljs",
        "dart",
        "v",
        "sv",
        "vhd",
        "vhdl",
        "f",
        "f90",
        "f95",
        "asm",
        "s",
        "ipynb",
    ]
)
_HASH_COMMENT_LANGUAGES = frozenset(["py", "pyw", "rb", "pl", "pm", "r", "jl", "sh", "bash", "zsh", "ps1", "ex", "exs"])


def kind_for_filename(name: str) -> str:
    """``code`` for a file whose extension is a programming language's, ``prose`` otherwise."""
    return CODE if PurePath(name).suffix.lower().lstrip(".") in CODE_EXTENSIONS else PROSE


def stable_hash(value: str) -> int:
    """A 64-bit hash that is the same in every process and on every machine."""
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big")


def prose_tokens(text: str) -> list[Token]:
    """Casefolded words with their character ranges."""
    return word_tokens(text)


# Keywords of the common teaching languages, kept as themselves: they carry a program's structure. Everything
# else that looks like a name is an identifier and becomes ``ID``.
_KEYWORDS = frozenset(
    [
        "abstract",
        "and",
        "as",
        "assert",
        "async",
        "await",
        "auto",
        "bool",
        "boolean",
        "break",
        "byte",
        "case",
        "catch",
        "char",
        "class",
        "const",
        "constexpr",
        "continue",
        "def",
        "default",
        "del",
        "delete",
        "do",
        "double",
        "elif",
        "else",
        "enum",
        "except",
        "explicit",
        "export",
        "extends",
        "extern",
        "false",
        "final",
        "finally",
        "float",
        "fn",
        "for",
        "foreach",
        "friend",
        "from",
        "func",
        "function",
        "global",
        "go",
        "goto",
        "if",
        "impl",
        "implements",
        "import",
        "in",
        "inline",
        "instanceof",
        "int",
        "interface",
        "is",
        "lambda",
        "let",
        "long",
        "loop",
        "match",
        "mod",
        "module",
        "mut",
        "namespace",
        "native",
        "new",
        "nil",
        "none",
        "nonlocal",
        "not",
        "null",
        "or",
        "package",
        "pass",
        "private",
        "protected",
        "pub",
        "public",
        "raise",
        "ref",
        "register",
        "return",
        "self",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "super",
        "switch",
        "synchronized",
        "template",
        "this",
        "throw",
        "throws",
        "trait",
        "transient",
        "true",
        "try",
        "type",
        "typedef",
        "typename",
        "union",
        "unsigned",
        "use",
        "using",
        "var",
        "virtual",
        "void",
        "volatile",
        "when",
        "where",
        "while",
        "with",
        "yield",
    ]
)

_CODE_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<block_comment>/\*.*?(?:\*/|\Z))
  | (?P<line_comment>//[^\n]*)
  | (?P<raw_string>(?:u8|[uUL])?R"(?P<delimiter>[^()\\\s"]{0,16})\(.*?(?:\)(?P=delimiter)"|\Z))
  | (?P<triple>(?:[rRbBuUfF]{1,2}(?=["']))?(?:\"\"\"(?:\\.|.)*?(?:\"\"\"|\Z)|'''(?:\\.|.)*?(?:'''|\Z)))
  | (?P<string>(?:u8|[rRbBuUfFL]{1,2}(?=["']))?(?:"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?)|`(?:\\.|[^`\\])*`?)
  | (?P<number>0[xX][0-9a-fA-F_']+|0[bB][01_']+|(?:\d(?:[\d_]|'(?=\d))*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[a-zA-Z]*)
  | (?P<name>[^\W\d]\w*)
  | (?P<operator>>>>=|<<=|>>=|\*\*=|//=|===|!==|\.\.\.|->|=>|::|\+\+|--|&&|\|\||<<|>>|[-+*/%&|^!=<>]=?|\S)
    """,
    re.VERBOSE | re.DOTALL,
)
_HASH_COMMENT = re.compile(r"#[^\n]*")
# C and C++ (and Objective-C): a preprocessor line that only brings in other files or tells the compiler something
# (``#include``, ``#import``, ``#pragma``, continued over escaped newlines) is not the program's own structure:
# which headers a program includes, and in what order, is boilerplate. ``#define`` and the conditionals stay.
_C_LANGUAGES = frozenset(["c", "h", "cc", "cpp", "cxx", "c++", "hpp", "hh", "hxx", "m", "mm", "ino", "cu"])
_INCLUDE_LINE = re.compile(r"#[ \t]*(?:include|include_next|import|pragma)\b(?:[^\n\\]|\\.)*", re.DOTALL)


def _at_line_start(text: str, position: int) -> bool:
    line_start = text.rfind("\n", 0, position) + 1
    return not text[line_start:position].strip()


def _lex(text: str, language: str) -> tuple[list[tuple[str, str, int, int]], list[int]]:
    """(group, lexeme, start, end) over the normalised text, and the offsets back to the original."""
    normal, offsets = normalise_with_offsets(text)
    language = language.lower().lstrip(".")
    hash_comments = language in _HASH_COMMENT_LANGUAGES
    c_family = language in _C_LANGUAGES
    lexemes: list[tuple[str, str, int, int]] = []
    position = 0
    length = len(normal)
    while position < length:
        directive = None
        if c_family and normal[position] == "#" and _at_line_start(normal, position):
            directive = _INCLUDE_LINE.match(normal, position)
        match: re.Match[str] | None
        if directive is not None:
            match, group = directive, "directive"
        elif hash_comments and normal[position] == "#":
            match = _HASH_COMMENT.match(normal, position)
            group = "line_comment"
        else:
            match = _CODE_TOKEN.match(normal, position)
            group = ""
        assert match is not None  # the last alternative matches any non-space character
        position = match.end()
        group = group or match.lastgroup or "operator"
        if group != "space":
            lexemes.append((group, match.group(), match.start(), match.end()))
    return lexemes, offsets


def code_tokens(text: str, *, language: str = "") -> list[Token]:
    """Source code as structural tokens: keywords and operators as themselves, ``ID`` for names, ``NUM`` and
    ``STR`` for literals of every form (prefixed and raw strings, numbers with digit separators); comments and
    layout dropped. ``language`` is a file extension: in Python, Ruby, shell, R... ``#`` starts a comment; in C
    and C++ ``#include``/``#import``/``#pragma`` lines are dropped (other preprocessor lines are tokens) and so are
    ``std::`` and ``using namespace std;``."""
    lexemes, offsets = _lex(text, language)
    if language.lower().lstrip(".") in _C_LANGUAGES:
        lexemes = _without_std_qualifier(lexemes)
    tokens: list[Token] = []
    previous = ""
    for group, lexeme, start, end in lexemes:
        if group in ("block_comment", "line_comment", "triple", "directive"):
            # Triple-quoted strings are nearly always docstrings: documentation, dropped like comments.
            continue
        if group in ("string", "raw_string"):
            value = "STR"
        elif group == "number":
            value = "NUM"
        elif group == "name":
            lowered = lexeme.casefold()
            # After a dot a keyword-like name is a member (`System.in`), not a keyword.
            value = lowered if lowered in _KEYWORDS and previous != "." else "ID"
        else:
            value = lexeme
        previous = value
        tokens.append(Token(value, offsets[start], offsets[end - 1] + 1))
    return tokens


def _without_std_qualifier(lexemes: list[tuple[str, str, int, int]]) -> list[tuple[str, str, int, int]]:
    """C++ without ``using namespace std;`` and the ``std::`` before a name: a program that writes ``std::cout``
    throughout and its copy that adds the using-directive once are the same program."""
    out: list[tuple[str, str, int, int]] = []
    i = 0
    while i < len(lexemes):
        words = [lexeme for _group, lexeme, _start, _end in lexemes[i : i + 4]]
        if words == ["using", "namespace", "std", ";"]:
            i += 4
            continue
        if words[:2] == ["std", "::"]:
            i += 2
            continue
        out.append(lexemes[i])
        i += 1
    return out


def code_notes(text: str, *, language: str = "") -> frozenset[int]:
    """The human text inside source code, which structural tokens throw away: each string literal, and the words
    of string literals and comments, as stable hashes. Independent solutions of one exercise share structure;
    copies also share the wording of messages and comments."""
    notes: set[int] = set()
    for group, lexeme, _, _ in _lex(text, language)[0]:
        if group in ("string", "raw_string", "triple"):
            notes.add(stable_hash("literal\x1f" + lexeme))
        if group in ("string", "raw_string", "triple", "block_comment", "line_comment"):
            notes.update(stable_hash("word\x1f" + word) for word in words(lexeme))
    return frozenset(notes)


def tokens_for(text: str, kind: str, *, language: str = "") -> list[Token]:
    """The tokens fingerprints are built from, for ``kind`` ``prose`` or ``code``."""
    return code_tokens(text, language=language) if kind == CODE else prose_tokens(text)


def settings_for(kind: str) -> WinnowSettings:
    return CODE_SETTINGS if kind == CODE else PROSE_SETTINGS


def kgram_hashes(tokens: Sequence[Token], k: int) -> list[int]:
    """The stable hash of every run of ``k`` consecutive tokens (one hash of all tokens when there are fewer)."""
    if not tokens:
        return []
    values = [t.value for t in tokens]
    if len(values) < k:
        return [stable_hash("\x1f".join(values))]
    return [stable_hash("\x1f".join(values[i : i + k])) for i in range(len(values) - k + 1)]


def winnow(hashes: Sequence[int], window: int) -> list[int]:
    """Indices of the hashes robust winnowing selects: the minimum of each window of ``window`` hashes, the
    rightmost on ties, each selected position recorded once."""
    if not hashes:
        return []
    if len(hashes) <= window:
        smallest = min(hashes)
        return [max(i for i, h in enumerate(hashes) if h == smallest)]
    selected: list[int] = []
    chosen = -1
    for right in range(window - 1, len(hashes)):
        left = right - window + 1
        if chosen < left:
            # The previous minimum left the window: scan it again, rightmost minimum wins.
            chosen = left
            for i in range(left + 1, right + 1):
                if hashes[i] <= hashes[chosen]:
                    chosen = i
            selected.append(chosen)
        elif hashes[right] <= hashes[chosen]:
            chosen = right
            selected.append(chosen)
    return selected


def fingerprints_of(tokens: Sequence[Token], settings: WinnowSettings, *, winnowed: bool = True) -> list[Fingerprint]:
    """The winnowed fingerprints of a token sequence (every k-gram when ``winnowed`` is false)."""
    hashes = kgram_hashes(tokens, settings.k)
    indices = winnow(hashes, settings.window) if winnowed else range(len(hashes))
    last = len(tokens) - 1
    return [Fingerprint(hashes[i], i, tokens[i].start, tokens[min(i + settings.k - 1, last)].end) for i in indices]


def fingerprint(text: str, kind: str = PROSE, *, language: str = "", settings: WinnowSettings | None = None) -> list[Fingerprint]:
    """Winnowed fingerprints of a text read as ``prose`` or ``code``."""
    return fingerprints_of(tokens_for(text, kind, language=language), settings or settings_for(kind))
