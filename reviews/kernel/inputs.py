"""Input hygiene at the edge: what no request may carry, refused before a feature sees it (docs/api.md, Errors).

- Text: a NUL character (PostgreSQL refuses it in text) or a lone surrogate (U+D800-U+DFFF, which no UTF-8 can
  encode) in any string answers 422 ``invalid_request`` naming the field: JSON strings through the kernel's
  ``String`` field (``reviews.kernel.schemas``), form fields, file names and query parameters here, before the
  view runs (pages and the multipart readers alike).
- JSON: nesting deeper than ``MAX_JSON_DEPTH``, a run of more than ``MAX_NUMBER_DIGITS`` digits in a number,
  ``NaN`` or ``Infinity``, or a number beyond a float answers 400 ``invalid_json``, judged on the raw body before
  any parser runs (Python's parser recurses once per level and refuses integers over 4300 digits: both were 500s);
  a body over ``MAX_JSON_BYTES`` is 413 ``file_too_large`` before it is read.
- Path ids: a segment holding a NUL or a lone surrogate, or longer than ``MAX_ID_CHARS``, can name nothing; the
  URL converter hands the view ``NO_SUCH_ID``, so it answers 404 ``not_found`` exactly as for any unknown id (after
  the same sign-in and role checks).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

import numpy as np
from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter

from reviews.kernel.error_handlers import check_media_type
from reviews.kernel.errors import DomainError

MAX_JSON_DEPTH = 64
MAX_NUMBER_DIGITS = 100
MAX_ID_CHARS = 200
# A JSON body's size (the largest honest one, an assignment with its prompt and template, is under 3 MB even with
# every character escaped): it bounds what the checks below and the parsers spend on one request.
MAX_JSON_BYTES = 4 * 1024 * 1024
# No id is ever this (ids are URL-safe base64, which has no "~"): a lookup finds nothing.
NO_SUCH_ID = "~"

_HOSTILE = re.compile("[\x00\ud800-\udfff]")
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")

# A JSON string, escapes included; an unterminated one runs to the end (the parser then refuses the body).
# Possessive, so that no input makes the scan backtrack.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_LONG_DIGITS = re.compile(f"[0-9]{{{MAX_NUMBER_DIGITS + 1}}}")
_NON_FINITE = re.compile(r"NaN|Infinity")
# Only a positive exponent of three digits or more can take a float past its largest value (about 1.8e308).
_LARGE_EXPONENT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?[eE]\+?[0-9]{3,}")
_EXPONENT_HINT = re.compile(r"[eE]\+?[0-9]{3}")
_BRACKET_STEPS = np.zeros(256, dtype=np.int8)
_BRACKET_STEPS[[ord("["), ord("{")]] = 1
_BRACKET_STEPS[[ord("]"), ord("}")]] = -1


def is_clean(text: str) -> bool:
    """True when ``text`` holds neither a NUL character nor a lone surrogate."""
    return _HOSTILE.search(text) is None


def printable(name: str) -> str:
    """A name fit to show in an answer (a hostile field name is itself hostile)."""
    return _HOSTILE.sub("\ufffd", name[:100])


def hostile_message(name: str) -> str:
    return f"{printable(name)} holds a NUL character (U+0000) or a lone surrogate (U+D800-U+DFFF); remove it: no text may hold either."


def refuse_hostile(values: Iterable[tuple[str, str]]) -> None:
    """422 ``invalid_request`` naming every (name, text) pair whose text, or name, is not clean."""
    bad = [printable(name) for name, text in values if not (is_clean(text) and is_clean(name))]
    if bad:
        names = ", ".join(dict.fromkeys(bad))
        raise DomainError(
            "invalid_request",
            f"Remove the NUL character or lone surrogate from {names}: no text may hold a NUL (U+0000) or a lone surrogate "
            "(U+D800-U+DFFF).",
            {"fields": {name: [hostile_message(name)] for name in bad}},
        )


def json_problem(text: str) -> str | None:
    """Why ``text`` is refused before parsing (a sentence for the caller), or None when a parser may read it.

    Linear in the text, at C speed: the strings are cut out, then the rest is judged.
    """
    skeleton = _JSON_STRING.sub('""', text)
    if _depth(skeleton) > MAX_JSON_DEPTH:
        return f"The JSON nests deeper than {MAX_JSON_DEPTH} levels; send a flatter object."
    if _LONG_DIGITS.search(skeleton):
        return f"A number in the JSON has more than {MAX_NUMBER_DIGITS} digits; send shorter numbers."
    if _NON_FINITE.search(skeleton):
        return "NaN and Infinity are not JSON numbers; send finite numbers."
    if _EXPONENT_HINT.search(skeleton) and any(math.isinf(float(number[0])) for number in _LARGE_EXPONENT.finditer(skeleton)):
        return "A number in the JSON is too large to be a finite number; send smaller numbers."
    return None


def _depth(skeleton: str) -> int:
    """How deep the brackets nest (brackets left open count: a parser descends into each before it finds the end)."""
    steps = _BRACKET_STEPS[np.frombuffer(skeleton.encode("utf-8", "surrogatepass"), dtype=np.uint8)]
    return int(np.cumsum(steps, dtype=np.int32).max(initial=0))


def _body_text(raw: bytes) -> str | None:
    """The body as the JSON parsers read it (any UTF, surrogates passed through); None if it is no text at all."""
    try:
        return raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError:
        return None  # the parsers refuse it: 400 invalid_json


def check_request() -> None:
    """Before every view: the query string and Idempotency-Key, then a JSON body's bounds, or a form's fields and file names."""
    check_media_type()  # a body of the wrong type answers 415 before its content is judged
    refuse_hostile((f"query parameter {key}", value) for key, value in request.args.items(multi=True))
    refuse_hostile([("Idempotency-Key", request.headers.get("Idempotency-Key", ""))])  # stored as text
    if request.is_json:
        if (request.content_length or 0) > MAX_JSON_BYTES:  # chunked bodies: judged once read, below
            raise _json_too_large()
        raw = request.get_data(cache=True)
        if len(raw) > MAX_JSON_BYTES:
            raise _json_too_large()
        text = _body_text(raw) if raw else None
        problem = json_problem(text) if text else None
        if problem is not None:
            raise DomainError("invalid_json", problem)
    elif request.mimetype in _FORMS:
        # A part whose header has no readable name is keyed None; it is no text of ours, nor a hostile one.
        refuse_hostile((key or "", value) for key, value in request.form.items(multi=True))
        refuse_hostile((f"{key or ''} (file name)", upload.filename or "") for key, upload in request.files.items(multi=True))


def _json_too_large() -> DomainError:
    return DomainError(
        "file_too_large",
        f"The JSON body is larger than {MAX_JSON_BYTES // 2**20} MB; send less, or long work as files (multipart/form-data).",
        {"max_bytes": MAX_JSON_BYTES},
    )


class IdConverter(UnicodeConverter):
    """The default path converter: a segment that can be no id reaches the view as ``NO_SUCH_ID``."""

    def to_python(self, value: str) -> str:
        return value if len(value) <= MAX_ID_CHARS and is_clean(value) else NO_SUCH_ID


class NumberConverter(IntegerConverter):
    """``<number:...>``: a whole number that fits the database's integer columns; a larger one matches no route (404),
    so that it never reaches a query."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=0, max=2**31 - 1)


def init_app(app: Flask) -> None:
    """Install the id and number converters and the request checks; call before any blueprint is registered."""
    app.url_map.converters["default"] = IdConverter
    app.url_map.converters["string"] = IdConverter
    app.url_map.converters["number"] = NumberConverter
    app.before_request(check_request)
