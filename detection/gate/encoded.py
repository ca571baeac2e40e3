"""Encoded data (base64, hexadecimal, data URLs, binary digits) instead of readable text."""

from __future__ import annotations

import re

from detection.gate.settings import GateSettings
from detection.gate.submission import Submission, count_non_space

_BLOB = re.compile(
    r"data:[\w.+-]+/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+"
    r"|\b(?:0x)?[0-9a-fA-F]{32,}\b"
    r"|(?<![A-Za-z0-9+/])(?P<base64>[A-Za-z0-9+/]{40,}={0,2})(?![A-Za-z0-9+/])"
)
_BINARY = re.compile(r"(?:\b[01]{8}\b\s*){8,}")
_NOT_BASE64 = re.compile(r"[a-z]+|[A-Z]+")


def encoded_blob(submission: Submission, settings: GateSettings) -> bool:
    non_space = submission.non_space
    if non_space < 40:
        return False
    needed = settings.blob_share * non_space
    # Encoded data comes in long runs without spaces (binary digits grouped in bytes aside): look at those alone.
    long_runs = submission.long_runs()
    blob = 0
    if submission.binary_digits >= needed:
        blob += sum(count_non_space(m.group()) for m in _BINARY.finditer(submission.normal))
    elif sum(map(len, long_runs)) < needed:
        return False
    for match in _BLOB.finditer(" ".join(long_runs)):
        chunk = match.group()
        if match.group("base64") and _NOT_BASE64.fullmatch(chunk):
            continue  # one long run of letters in one case: a long word, not data
        blob += count_non_space(chunk)
    return blob >= settings.blob_share * non_space
