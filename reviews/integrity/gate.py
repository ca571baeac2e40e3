"""The junk gate: decides in the submit request whether a text is real work, and says why not.

Every rule is judged on the text after NFKC normalisation with invisible characters removed (text.py), and
every rule errs towards letting work through: a rejected honest learner is worse than a junk submission that a
reviewer reports. The rules that remove part of a text (a copy of the prompt, pleas to the graders, placeholder
text, encoded data) ask the same question: once that part is set aside, is there still an answer? A text is
refused when the part is most of it *and* what remains is shorter than the assignment's minimum, so quoting the
prompt before answering it, or ending an answer with "I hope this earns full marks", always passes.

The gate runs in the submit request, on texts of thousands of words: the text is normalised, split into words and
counted once for all the rules, and a rule first checks whether a cheap bound (a count, a look-up, the beginning
of the text) already settles its answer before it does the full work.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import itemgetter

from reviews.integrity.text import normalise, words


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
    submission = _Submission.of(text)
    found = submission.words
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

    blob = _encoded_blob(submission, settings)
    if blob:
        reasons.append(
            Rejection(
                "encoded_blob",
                "Most of your submission is encoded data (such as base64 or hexadecimal), not readable text. "
                "Paste your answer as plain text, or attach the file itself.",
            )
        )
        return reasons  # the other rules have nothing to say about encoded data

    if _is_repetitive(submission, settings):
        reasons.append(
            Rejection(
                "repetitive",
                "Your submission repeats the same words or sentences over and over. Write out your full answer in your own words, then submit again.",
            )
        )
    if _is_placeholder(submission, enough, settings):
        reasons.append(
            Rejection(
                "placeholder",
                'Your submission is placeholder text (such as "lorem ipsum" or "test test"). Replace it with your actual answer, then submit again.',
            )
        )
    elif _is_gibberish(submission, settings):
        reasons.append(
            Rejection(
                "gibberish",
                "Your submission looks like random letters or keyboard mashing rather than words. Write your answer in words, then submit again.",
            )
        )
    sources = tuple(s for s in (prompt, template, rubric_text) if s and s.strip())
    if sources and _mostly_copied(submission, _source_words(sources, settings.quote_ngram), enough, settings):
        reasons.append(
            Rejection(
                "prompt_copy",
                "Your submission is mostly a copy of the assignment's prompt, template or rubric. "
                "Keep any quotation short and add your own answer, then submit again.",
            )
        )
    if _is_pleading(submission, enough, settings):
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


# --- the text as the rules see it -------------------------------------------------------------------------------

# The ASCII whitespace characters (what str.split() splits on besides non-ASCII ones), and a table making them
# spaces and every other byte an x.
_ASCII_WHITESPACE = bytes(code for code in range(128) if chr(code).isspace())
_SPACE_SHAPE = bytes(ord(" ") if code in _ASCII_WHITESPACE else ord("x") for code in range(256))
_LONG_RUN = 32  # characters without whitespace from which a run may be encoded data


@dataclass
class _Submission:
    """A text normalised, split into words and counted once for all the rules (each rule used to redo that)."""

    normal: str
    words: list[str]
    counts: Counter[str]
    non_ascii: frozenset[str]  # the distinct non-ASCII characters of ``normal``
    plain_words: bool  # the words are the runs of letters and digits of ``folded`` (see text.NormalisedText)
    non_space: int  # characters other than whitespace, as in ``"".join(normal.split())``
    binary_digits: int  # zeros and ones
    may_have_long_runs: bool  # False: no run of ``_LONG_RUN`` characters goes without whitespace

    @classmethod
    def of(cls, text: str) -> _Submission:
        normalised = normalise(text)
        normal = normalised.text
        # Counting bytes of UTF-8 (where an ASCII character keeps its one byte) runs faster than characters of a str.
        utf8 = normal.encode("utf-8", "surrogatepass")
        ascii_spaces = len(utf8) - len(utf8.translate(None, _ASCII_WHITESPACE))  # faster than counting each
        spaces = ascii_spaces + sum(normal.count(ch) for ch in normalised.non_ascii if ch.isspace())
        return cls(
            normal=normal,
            words=normalised.words,
            counts=Counter(normalised.words),
            non_ascii=normalised.non_ascii,
            plain_words=normalised.plain_words,
            non_space=len(normal) - spaces,
            binary_digits=utf8.count(b"0") + utf8.count(b"1"),
            # A character takes at least one byte: with no such run of bytes, there is no such run of characters.
            may_have_long_runs=b"x" * _LONG_RUN in utf8.translate(_SPACE_SHAPE),
        )

    def long_runs(self) -> list[str]:
        """The runs of at least ``_LONG_RUN`` characters without whitespace."""
        if not self.may_have_long_runs:
            return []
        return [chunk for chunk in self.normal.split() if len(chunk) >= _LONG_RUN]

    @cached_property
    def folded(self) -> str:
        return self.normal.casefold()

    @cached_property
    def folded_non_ascii(self) -> frozenset[str]:
        """The non-ASCII characters of :attr:`folded` (casefolding goes character by character)."""
        return frozenset(ch for source in self.non_ascii for ch in source.casefold() if not ch.isascii())

    @cached_property
    def joined(self) -> str:
        return " ".join(self.words)

    @cached_property
    def spaced_words(self) -> str:
        """The words with a space between them and at each end, to search for whole words and runs of them."""
        return f" {self.joined} "


# --- repetition -------------------------------------------------------------------------------------------------


def _is_repetitive(submission: _Submission, settings: GateSettings) -> bool:
    found, counts = submission.words, submission.counts
    n = len(found)
    if n < settings.repetition_min_words:
        return False
    if len(counts) < settings.min_distinct_words:
        return True
    needed = settings.min_distinct_ratio * (n - 2)  # different 3-grams
    if len(counts) > needed + 2:
        return False  # so many different words cannot fit in so few different 3-grams
    # The beginning of an honest text alone has enough different 3-grams, at a fraction of the cost of them all
    # (with a fifth more words than needed, for the few 3-grams an honest text repeats).
    head = found[: int(needed * 1.2) + 3]
    if len(set(zip(head, head[1:], head[2:], strict=False))) >= needed:
        return False
    if n > 400 and settings.min_distinct_ratio <= 0.3:
        joined = submission.joined.encode("utf-8")
        if len(joined) <= 32_000 and len(zlib.compress(joined, 1)) > 0.3 * len(joined):
            # Deflate (its window holds the whole text) finds every repeat of a few words; a long text it cannot
            # compress below 30% has too few repeated 3-grams to fail the test below, which costs more.
            return False
    trigrams = set(zip(found, found[1:], found[2:], strict=False))
    return len(trigrams) < needed


# --- placeholders -----------------------------------------------------------------------------------------------

# Words of the classic "lorem ipsum" passage and of the generators' variants, minus short Latin words that also
# occur in real languages' text (et, in, ut, a, non...).
_LOREM = frozenset(
    ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "consectetuer", "adipiscing", "adipisicing", "elit", "sed", "eiusmod", "tempor", "incididunt", "labore", "dolore", "magna", "aliqua", "enim", "minim", "veniam", "quis", "nostrud", "exercitation", "ullamco", "laboris", "nisi", "aliquip", "commodo", "consequat", "duis", "aute", "irure", "reprehenderit", "voluptate", "velit", "esse", "cillum", "fugiat", "nulla", "pariatur", "excepteur", "sint", "occaecat", "cupidatat", "proident", "sunt", "culpa", "qui", "officia", "deserunt", "mollit", "anim", "laborum", "vestibulum", "mauris", "nunc", "aliquam", "ligula", "pellentesque", "integer", "donec", "viverra", "maecenas", "praesent", "curabitur", "phasellus", "tincidunt", "sapien", "lacus", "tellus", "eget", "nibh", "vitae", "morbi", "tristique", "senectus", "netus", "malesuada", "fames", "turpis", "egestas", "habitant", "suspendisse", "potenti", "nullam", "ornare", "odio", "quisque", "fermentum", "etiam", "eleifend", "feugiat", "vivamus", "sagittis", "lectus", "augue", "mi", "faucibus", "dictum", "purus", "porta", "lacinia", "posuere", "cubilia", "curae", "accumsan", "ultrices", "ultricies", "massa"]
)
# Words people type when they have nothing to say yet, in a few languages.
_FILLER = frozenset(
    ["test", "tests", "testing", "tested", "asdf", "asd", "qwe", "qwer", "qwert", "qwerty", "xxx", "xx", "xxxx", "xyz", "abc", "abcd", "abcdef", "aaa", "aaaa", "bbb", "blah", "bla", "blabla", "todo", "tbd", "tba", "fixme", "placeholder", "dummy", "filler", "foo", "bar", "baz", "qux", "lipsum", "idk", "na", "nil", "sample", "тест", "проверка", "prueba", "teste", "essai", "prova", "测试", "テスト"]
)
_FILLER_PHRASES = re.compile(
    r"\b(?:(?:your|my) (?:answer|text|essay|submission|work) (?:goes )?here|(?:type|write|insert|enter) (?:your )?(?:text|answer) here"
    r"|text (?:goes )?here|sample text|dummy text|filler text|place ?holder text|hello world|n a|to be (?:done|completed|added))\b"
)

_PHRASE_WORDS = frozenset(
    ["your", "my", "answer", "text", "essay", "submission", "work", "goes", "here", "type", "write", "insert", "enter", "sample", "dummy", "filler", "place", "holder", "placeholder", "hello", "world", "n", "a", "to", "be", "done", "completed", "added"]
)


def _is_placeholder(submission: _Submission, enough: int, settings: GateSettings) -> bool:
    found, counts = submission.words, submission.counts
    lorem = _count_of(counts, _LOREM)
    filler = _count_of(counts, _FILLER)
    phrase_vocabulary = _count_of(counts, _PHRASE_WORDS)
    if lorem + filler + phrase_vocabulary < settings.mostly_share * len(found):
        return False  # even if every such word were placeholder, it would not be most of the text
    phrase_words = sum(len(m.group().split()) for m in _FILLER_PHRASES.finditer(submission.joined))
    placeholder = lorem + filler + phrase_words
    if lorem >= 2 and ("lorem" in counts or "ipsum" in counts) and lorem >= settings.mostly_share * len(found):
        return True  # lorem ipsum, however long
    return _mostly(min(placeholder, len(found)), len(found), enough, settings)


def _count_of(counts: Counter[str], vocabulary: frozenset[str]) -> int:
    """How many of the counted words are in ``vocabulary`` (looking up the vocabulary's words, not the text's)."""
    return sum(map(counts.__getitem__, counts.keys() & vocabulary))


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
# The letters of the Latin and Cyrillic words judged (a set: testing a word's letters against it is fast).
_ALPHABET = frozenset(
    "abcdefghijklmnopqrstuvwxyz" + "".join(map(chr, range(ord("à"), ord("ÿ") + 1))) + "œ" + "абвгдежзийклмнопрстуфхцчшщъыьэюяёіїє"
)
# Several single letters separated only by spaces ("a s d f g h"): spelled-out letter soup.
_SPACED_LETTERS = re.compile(r"(?:(?<![^\W\d_])[^\W\d_] +){5,}[^\W\d_](?![^\W\d_])")


def _is_gibberish(submission: _Submission, settings: GateSettings) -> bool:
    """Keyboard mash and letter soup, judged only for the Latin and Cyrillic alphabets, word by distinct word,
    on signs no language's real words show in bulk: runs of neighbouring keys, long strings with no vowel,
    five or more consonants in a row, a short chunk typed again and again inside one word."""
    found, counts = submission.words, submission.counts
    letters = submission.non_space
    # Single letters are at most all the words: only count them when that could be the share needed.
    if letters and len(found) >= settings.gibberish_share * letters:
        single = sum(c for w, c in counts.items() if len(w) == 1)
        if single >= settings.gibberish_share * letters:
            # Only then can spelled-out letters ("a s d f") be most of the text: worth the slower pattern.
            spaced = sum(len(m.group()) for m in _SPACED_LETTERS.finditer(submission.folded))
            if spaced - spaced // 2 >= settings.gibberish_share * letters:
                return True
    if len(found) > _GIBBERISH_SAMPLE:
        # Mash is uniform: an evenly spread sample of the words judges a long text as well as all of them.
        counts = Counter(found[:: len(found) // _GIBBERISH_SAMPLE + 1])
    # Only Latin and Cyrillic words count (none of them is in a script written without spaces).
    alphabetic = {w: c for w, c in counts.items() if _ALPHABET.issuperset(w)}
    alphabetic_words = sum(alphabetic.values())
    if alphabetic_words < max(3, settings.gibberish_share * sum(counts.values())):
        return False
    needed = settings.gibberish_share * alphabetic_words
    implausible = 0
    unjudged = alphabetic_words
    # The most frequent words first: they settle the question soonest either way.
    for word, count in sorted(alphabetic.items(), key=itemgetter(1), reverse=True):
        unjudged -= count
        if _implausible(word):
            implausible += count
            if implausible >= needed:
                return True
        elif implausible + unjudged < needed:
            return False
    return implausible >= needed


_GIBBERISH_SAMPLE = 250
_CONSONANT_RUN = re.compile(r"[^aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœаеёиоуыэюяіїєьъ]{5,}")
_REPEATED_CHUNK = re.compile(r"(.{2,4})\1{1,}")


def _implausible(word: str) -> bool:
    if len(word) < 4:
        return False
    if _VOWELS.isdisjoint(word):
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


@dataclass(frozen=True)
class _SourceWords:
    """What the text is matched against, from the prompt, template and rubric together."""

    known: frozenset[str]  # all their words
    grams: frozenset[tuple[str, ...]]  # their n-grams
    gram_words: frozenset[str]  # the words of their n-grams


@lru_cache(maxsize=256)
def _source_words(sources: tuple[str, ...], n: int) -> _SourceWords:
    """Cached: every submission to an assignment is matched against the same prompt, template and rubric."""
    lists = [words(source) for source in sources]
    grams = frozenset(gram for source in lists for gram in zip(*(source[j:] for j in range(n)), strict=False))
    return _SourceWords(
        known=frozenset(w for source in lists for w in source),
        grams=grams,
        gram_words=frozenset(w for gram in grams for w in gram),
    )


def _mostly_copied(submission: _Submission, sources: _SourceWords, enough: int, settings: GateSettings) -> bool:
    """Words of the text covered by n-grams that also occur in the prompt, template or rubric."""
    found = submission.words
    n = settings.quote_ngram
    if len(found) < n:
        return _mostly(sum(1 for w in found if w in sources.known), len(found), enough, settings)
    if not sources.grams:
        return False
    # Only words of the sources' n-grams can be covered: when even all of those are not enough, stop here.
    if not _mostly(_count_of(submission.counts, sources.gram_words), len(found), enough, settings):
        return False
    covered = bytearray(len(found))
    for i, gram in enumerate(zip(*(found[j:] for j in range(n)), strict=False)):
        if gram in sources.grams:
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

_SENTENCE_END = re.compile(f"[{re.escape(_SENTENCE_ENDS)}]")
# What a key needs the text to have: the non-ASCII characters of the non-ASCII keys, the words of the others.
_KEY_CHARACTERS = {key: frozenset(ch for ch in key if not ch.isascii()) for key in _ASKING_KEYS if not key.isascii()}
_KEY_WORDS = {key: tuple(re.findall(r"[^\W_]+", key)) for key in _ASKING_KEYS if key.isascii()}


def _is_pleading(submission: _Submission, enough: int, settings: GateSettings) -> bool:
    # Each search is a pass over the whole text: only search for the keys that may be in it.
    keys = [key for key in _ASKING_KEYS if _may_contain(submission, key)]
    if not keys:
        return False
    folded = submission.folded
    sentences: set[tuple[int, int]] = set()
    for key in keys:
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
    return _mostly(plea_words, len(submission.words), enough, settings)


def _may_contain(submission: _Submission, key: str) -> bool:
    """False when ``key`` surely does not occur in the folded text (as a whole word, for an ASCII key)."""
    if not key.isascii():
        return _KEY_CHARACTERS[key] <= submission.folded_non_ascii
    if not submission.plain_words:
        return True  # words may hold combining marks: only a search can tell
    # When words are the runs of letters and digits, the runs of a key found as a whole word are words of the text,
    # one after the other: check the words themselves (a look-up each) before their sequence (a pass).
    key_words = _KEY_WORDS[key]
    return all(word in submission.counts for word in key_words) and f" {' '.join(key_words)} " in submission.spaced_words


def _sentence_around(text: str, position: int) -> tuple[int, int]:
    """The sentence holding ``position``: from just after the last end mark before it to the first one at or after it."""
    end = _SENTENCE_END.search(text, position)
    # Looking back for each mark in a growing window: a mark the text lacks would otherwise cost a pass over it.
    span = 256
    while True:
        low = max(0, position - span)
        start = max(text.rfind(mark, low, position) for mark in _SENTENCE_ENDS)
        if start >= 0 or low == 0:
            return start + 1, end.start() if end else len(text)
        span *= 4


# --- encoded data -----------------------------------------------------------------------------------------------

_BLOB = re.compile(
    r"data:[\w.+-]+/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+"
    r"|\b(?:0x)?[0-9a-fA-F]{32,}\b"
    r"|(?<![A-Za-z0-9+/])(?P<base64>[A-Za-z0-9+/]{40,}={0,2})(?![A-Za-z0-9+/])"
)
_BINARY = re.compile(r"(?:\b[01]{8}\b\s*){8,}")
_NOT_BASE64 = re.compile(r"[a-z]+|[A-Z]+")


def _encoded_blob(submission: _Submission, settings: GateSettings) -> bool:
    non_space = submission.non_space
    if non_space < 40:
        return False
    needed = settings.blob_share * non_space
    # Encoded data comes in long runs without spaces (binary digits grouped in bytes aside): look at those alone.
    long_runs = submission.long_runs()
    blob = 0
    if submission.binary_digits >= needed:
        blob += sum(_non_space(m.group()) for m in _BINARY.finditer(submission.normal))
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
