"""The junk gate: decides in the submit request whether a text is real work, and says why not.

Every rule is judged on the text after NFKC normalisation with invisible characters removed (text.py), and
every rule errs towards letting work through: a rejected honest learner is worse than a junk submission that a
reviewer reports. The rules that remove part of a text (a copy of the prompt, pleas to the graders, placeholder
text, encoded data) ask the same question: once that part is set aside, is there still an answer? A text is
refused when the part is most of it *and* what remains is shorter than the assignment's minimum, so quoting the
prompt before answering it, or ending an answer with "I hope this earns full marks", always passes.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass

from reviews.integrity.text import is_no_space_word, strip_invisible, words, words_of_normalised


@dataclass(frozen=True)
class Rejection:
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
    """

    mostly_share: float = 0.5
    min_remaining_words: int = 10
    min_distinct_ratio: float = 0.3
    min_distinct_words: int = 4
    repetition_min_words: int = 12
    gibberish_share: float = 0.5
    blob_share: float = 0.5
    quote_ngram: int = 3


DEFAULT_SETTINGS = GateSettings()


def check_text(
    text: str,
    *,
    min_words: int,
    prompt: str | None = None,
    template: str | None = None,
    rubric_text: str | None = None,
    settings: GateSettings | None = None,
) -> list[Rejection]:
    """Reasons to reject ``text`` (empty list: accept). Text extracted from files is included by the caller."""
    settings = settings or DEFAULT_SETTINGS
    normal = strip_invisible(text)
    found = words_of_normalised(normal)
    if not found:
        return [
            Rejection(
                "empty",
                "Your submission has no words in it (only spaces, punctuation, symbols or emoji). Write your answer, then submit again.",
            )
        ]
    reasons: list[Rejection] = []
    if len(found) < min_words:
        reasons.append(
            Rejection(
                "too_short",
                f"Your submission has {len(found)} word{'s' if len(found) != 1 else ''}; this assignment needs at least {min_words}. "
                "Complete your answer, then submit again.",
            )
        )
    enough = max(min_words, settings.min_remaining_words)
    counts = Counter(found)

    blob = _encoded_blob(normal, settings)
    if blob:
        reasons.append(
            Rejection(
                "encoded_blob",
                "Most of your submission is encoded data (such as base64 or hexadecimal), not readable text. "
                "Paste your answer as plain text, or attach the file itself.",
            )
        )
        return reasons  # the other rules have nothing to say about encoded data

    if _is_repetitive(found, counts, settings):
        reasons.append(
            Rejection(
                "repetitive",
                "Your submission repeats the same words or sentences over and over. Write out your full answer in your own words, then submit again.",
            )
        )
    if _is_placeholder(found, counts, enough, settings):
        reasons.append(
            Rejection(
                "placeholder",
                'Your submission is placeholder text (such as "lorem ipsum" or "test test"). Replace it with your actual answer, then submit again.',
            )
        )
    elif _is_gibberish(normal, found, counts, settings):
        reasons.append(
            Rejection(
                "gibberish",
                "Your submission looks like random letters or keyboard mashing rather than words. Write your answer in words, then submit again.",
            )
        )
    sources = [s for s in (prompt, template, rubric_text) if s and s.strip()]
    if sources and _mostly_copied(found, [words(s) for s in sources], enough, settings):
        reasons.append(
            Rejection(
                "prompt_copy",
                "Your submission is mostly a copy of the assignment's prompt, template or rubric. "
                "Keep any quotation short and add your own answer, then submit again.",
            )
        )
    if _is_pleading(normal, len(found), enough, settings):
        reasons.append(
            Rejection(
                "pleading",
                "Your submission mostly asks the graders for a score instead of answering the assignment. "
                "Reviewers can only grade your work: write your answer, then submit again.",
            )
        )
    return reasons


def _mostly(removed: int, total: int, enough: int, settings: GateSettings) -> bool:
    """A part of ``removed`` words out of ``total`` is disqualifying: most of the text, with too little left."""
    return removed > 0 and removed >= settings.mostly_share * total and total - removed < enough


# --- repetition -------------------------------------------------------------------------------------------------


def _is_repetitive(found: list[str], counts: Counter[str], settings: GateSettings) -> bool:
    n = len(found)
    if n < settings.repetition_min_words:
        return False
    if len(counts) < settings.min_distinct_words:
        return True
    if len(counts) > settings.min_distinct_ratio * (n - 2) + 2:
        return False  # so many different words cannot fit in so few different 3-grams
    if n > 400 and settings.min_distinct_ratio <= 0.3:
        joined = " ".join(found).encode("utf-8")
        if len(joined) <= 32_000 and len(zlib.compress(joined, 1)) > 0.3 * len(joined):
            # Deflate (its window holds the whole text) finds every repeat of a few words; a long text it cannot
            # compress below 30% has too few repeated 3-grams to fail the test below, which costs more.
            return False
    trigrams = set(zip(found, found[1:], found[2:], strict=False))
    return len(trigrams) < settings.min_distinct_ratio * (n - 2)


# --- placeholders -----------------------------------------------------------------------------------------------

# Words of the classic "lorem ipsum" passage and of the generators' variants, minus short Latin words that also
# occur in real languages' text (et, in, ut, a, non...).
_LOREM = frozenset(
    """
    lorem ipsum dolor sit amet consectetur consectetuer adipiscing adipisicing elit sed eiusmod tempor incididunt
    labore dolore magna aliqua enim minim veniam quis nostrud exercitation ullamco laboris nisi aliquip commodo
    consequat duis aute irure reprehenderit voluptate velit esse cillum fugiat nulla pariatur excepteur sint
    occaecat cupidatat proident sunt culpa qui officia deserunt mollit anim laborum vestibulum mauris nunc
    aliquam ligula pellentesque integer donec viverra maecenas praesent curabitur phasellus tincidunt sapien
    lacus tellus eget nibh vitae morbi tristique senectus netus malesuada fames turpis egestas habitant
    suspendisse potenti nullam ornare odio quisque fermentum etiam eleifend feugiat vivamus sagittis lectus
    augue mi faucibus dictum purus porta lacinia posuere cubilia curae accumsan ultrices ultricies massa
    """.split()
)
# Words people type when they have nothing to say yet, in a few languages.
_FILLER = frozenset(
    """
    test tests testing tested asdf asd qwe qwer qwert qwerty xxx xx xxxx xyz abc abcd abcdef aaa aaaa bbb
    blah bla blabla todo tbd tba fixme placeholder dummy filler foo bar baz qux lipsum idk na nil sample
    тест проверка prueba teste essai prova 测试 テスト
    """.split()
)
_FILLER_PHRASES = re.compile(
    r"\b(?:(?:your|my) (?:answer|text|essay|submission|work) (?:goes )?here|(?:type|write|insert|enter) (?:your )?(?:text|answer) here"
    r"|text (?:goes )?here|sample text|dummy text|filler text|place ?holder text|hello world|n a|to be (?:done|completed|added))\b"
)

_PHRASE_WORDS = frozenset(
    "your my answer text essay submission work goes here type write insert enter sample dummy filler place holder "
    "placeholder hello world n a to be done completed added".split()
)


def _is_placeholder(found: list[str], counts: Counter[str], enough: int, settings: GateSettings) -> bool:
    lorem = sum(c for w, c in counts.items() if w in _LOREM)
    filler = sum(c for w, c in counts.items() if w in _FILLER)
    phrase_vocabulary = sum(c for w, c in counts.items() if w in _PHRASE_WORDS)
    if lorem + filler + phrase_vocabulary < settings.mostly_share * len(found):
        return False  # even if every such word were placeholder, it would not be most of the text
    phrase_words = sum(len(m.group().split()) for m in _FILLER_PHRASES.finditer(" ".join(found)))
    placeholder = lorem + filler + phrase_words
    if lorem >= 2 and ("lorem" in found or "ipsum" in found) and lorem >= settings.mostly_share * len(found):
        return True  # lorem ipsum, however long
    return _mostly(min(placeholder, len(found)), len(found), enough, settings)


# --- gibberish --------------------------------------------------------------------------------------------------

_KEYBOARD_ROWS = (
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",  # German, Central European
    "yxcvbnm",
    "azertyuiop",  # French, Belgian
    "qsdfghjklm",
    "wxcvbn",
    "йцукенгшщзхъ",  # Russian
    "фывапролджэ",
    "ячсмитьбю",
)


def _adjacent_pairs() -> frozenset[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for row in _KEYBOARD_ROWS:
        for left, right in zip(row, row[1:], strict=False):
            pairs.add((left, right))
            pairs.add((right, left))
    # Keys above and below each other on QWERTY (mashing with the whole hand).
    for upper, lower in (("qwertyuiop", "asdfghjkl"), ("asdfghjkl", "zxcvbnm")):
        for i, ch in enumerate(lower):
            for j in (i, i + 1):
                if j < len(upper):
                    pairs.add((ch, upper[j]))
                    pairs.add((upper[j], ch))
    return frozenset(pairs)


_ADJACENT = _adjacent_pairs()
_VOWELS = frozenset("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœаеёиоуыэюяіїє")
_ALPHABETIC = re.compile(r"^[a-zà-ÿœа-яёіїє]+$")
# Several single letters separated only by spaces ("a s d f g h"): spelled-out letter soup.
_SPACED_LETTERS = re.compile(r"(?:(?<![^\W\d_])[^\W\d_] +){5,}[^\W\d_](?![^\W\d_])")


def _is_gibberish(normal: str, found: list[str], counts: Counter[str], settings: GateSettings) -> bool:
    """Keyboard mash and letter soup, judged only for the Latin and Cyrillic alphabets, word by distinct word,
    on signs no language's real words show in bulk: runs of neighbouring keys, long strings with no vowel,
    five or more consonants in a row, a short chunk typed again and again inside one word."""
    letters = _non_space(normal)
    single = sum(c for w, c in counts.items() if len(w) == 1)
    if letters and single >= settings.gibberish_share * letters:
        # Only then can spelled-out letters ("a s d f") be most of the text: worth the slower pattern.
        spaced = sum(len(m.group()) for m in _SPACED_LETTERS.finditer(normal.casefold()))
        if spaced - spaced // 2 >= settings.gibberish_share * letters:
            return True
    if len(found) > _GIBBERISH_SAMPLE:
        # Mash is uniform: an evenly spread sample of the words judges a long text as well as all of them.
        counts = Counter(found[:: len(found) // _GIBBERISH_SAMPLE + 1])
    alphabetic = {w: c for w, c in counts.items() if not is_no_space_word(w) and _ALPHABETIC.match(w)}
    alphabetic_words = sum(alphabetic.values())
    if alphabetic_words < max(3, settings.gibberish_share * sum(counts.values())):
        return False
    implausible = sum(c for w, c in alphabetic.items() if _implausible(w))
    return implausible >= settings.gibberish_share * alphabetic_words


_GIBBERISH_SAMPLE = 250
_CONSONANT_RUN = re.compile(r"[^aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœаеёиоуыэюяіїєьъ]{5,}")
_REPEATED_CHUNK = re.compile(r"(.{2,4})\1{1,}")


def _implausible(word: str) -> bool:
    if len(word) < 4:
        return False
    if not any(ch in _VOWELS for ch in word):
        return True
    if _CONSONANT_RUN.search(word):
        return True
    if len(word) >= 6 and _REPEATED_CHUNK.fullmatch(word):
        return True
    adjacent = sum(1 for pair in zip(word, word[1:], strict=False) if pair in _ADJACENT or pair[0] == pair[1])
    # Whole words typed along neighbouring keys: a few real short words do that ("were", "look"), so it takes
    # most of a text's words to call the text gibberish.
    return adjacent >= (0.8 if len(word) >= 5 else 1.0) * (len(word) - 1)


# --- copies of the prompt ---------------------------------------------------------------------------------------


def _mostly_copied(found: list[str], sources: list[list[str]], enough: int, settings: GateSettings) -> bool:
    """Words of the text covered by n-grams that also occur in the prompt, template or rubric."""
    n = settings.quote_ngram
    if len(found) < n:
        known = {w for source in sources for w in source}
        return _mostly(sum(1 for w in found if w in known), len(found), enough, settings)
    source_grams = {gram for source in sources for gram in zip(*(source[j:] for j in range(n)), strict=False)}
    if not source_grams:
        return False
    covered = bytearray(len(found))
    for i, gram in enumerate(zip(*(found[j:] for j in range(n)), strict=False)):
        if gram in source_grams:
            covered[i : i + n] = b"\x01" * n
    return _mostly(sum(covered), len(found), enough, settings)


# --- pleading ---------------------------------------------------------------------------------------------------

_SENTENCE_ENDS = ".!?。！？\n"
# Ways of asking, in a few languages (casefolded). A sentence that asks *and* mentions grading is a plea.
_ASKING_KEYS = (
    "please",
    "pls",
    "plz",
    "plse",
    "kindly",
    "beg",
    "mercy",
    "dear grader",
    "dear reviewer",
    "dear marker",
    "dear teacher",
    "dear sir",
    "dear madam",
    "dear evaluator",
    "dear peer",
    "give me",
    "i need",
    "i deserve",
    "i hope",
    "hope you",
    "let me pass",
    "pass me",
    "por favor",
    "bitte",
    "s'il te pla",
    "s'il vous pla",
    "svp",
    "per favore",
    "пожалуйста",
    "прошу",
    "lütfen",
    "tolong",
    "请",
    "拜托",
    "お願い",
    "ください",
)
_GRADING = re.compile(
    r"(?:\b(?:grade|grades|grading|mark|marks|score|scores|points?|pass|passing|full|max(?:imum)?|100|10/10|5/5"
    r"|a\+|stars?|certificate|credit|rating|rate)\b|%|nota|punkte|note|балл\w*|оцен\w*|满分|分数|点数|満点)",
    re.IGNORECASE,
)


def _is_pleading(normal: str, total_words: int, enough: int, settings: GateSettings) -> bool:
    folded = normal.casefold()
    sentences: set[tuple[int, int]] = set()
    for key in _ASKING_KEYS:
        position = folded.find(key)
        while position >= 0:
            # Whole words only for alphabetic keys ("beg" is not in "begin").
            before = folded[position - 1] if position else " "
            after_index = position + len(key)
            after = folded[after_index] if after_index < len(folded) else " "
            if not key.isascii() or (not before.isalnum() and not after.isalnum()):
                sentences.add(_sentence_around(folded, position))
            position = folded.find(key, after_index)
    plea_words = 0
    for start, end in sentences:
        sentence = folded[start:end]
        if _GRADING.search(sentence):
            plea_words += len(words(sentence))
    return _mostly(plea_words, total_words, enough, settings)


def _sentence_around(text: str, position: int) -> tuple[int, int]:
    start = max(text.rfind(mark, 0, position) for mark in _SENTENCE_ENDS) + 1
    ends = [i for i in (text.find(mark, position) for mark in _SENTENCE_ENDS) if i >= 0]
    return start, min(ends) if ends else len(text)


# --- encoded data -----------------------------------------------------------------------------------------------

_BLOB = re.compile(
    r"data:[\w.+-]+/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+"
    r"|\b(?:0x)?[0-9a-fA-F]{32,}\b"
    r"|(?<![A-Za-z0-9+/])(?P<base64>[A-Za-z0-9+/]{40,}={0,2})(?![A-Za-z0-9+/])"
)
_BINARY = re.compile(r"(?:\b[01]{8}\b\s*){8,}")
_NOT_BASE64 = re.compile(r"[a-z]+|[A-Z]+")


def _encoded_blob(normal: str, settings: GateSettings) -> bool:
    chunks = normal.split()
    non_space = sum(map(len, chunks))
    if non_space < 40:
        return False
    needed = settings.blob_share * non_space
    # Encoded data comes in long runs without spaces (binary digits grouped in bytes aside): look at those alone.
    long_runs = [chunk for chunk in chunks if len(chunk) >= 32]
    blob = 0
    if normal.count("0") + normal.count("1") >= needed:
        blob += sum(_non_space(m.group()) for m in _BINARY.finditer(normal))
    elif sum(map(len, long_runs)) < needed:
        return False
    for match in _BLOB.finditer(" ".join(long_runs)):
        chunk = match.group()
        if match.group("base64") and _NOT_BASE64.fullmatch(chunk):
            continue  # one long run of letters in one case: a long word, not data
        blob += _non_space(chunk)
    return blob >= settings.blob_share * non_space


def _non_space(text: str) -> int:
    return len("".join(text.split()))
