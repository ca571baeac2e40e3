"""Limits for reading untrusted files: what a document may unpack to and hold, and what reading it may cost.

A DOCX is a zip, and a 300 KB zip can inflate to 90 MB of XML that takes a parser a minute and gigabytes; a PDF
can hold thousands of pages or streams that inflate hugely. The archive limits are checked on the zip's central
directory before anything is inflated; the content limits while the text is extracted; the cost limits are
enforced on the child process that does the parsing (``detection.sandbox``). The service sets them
(``reviews.settings.FILE_LIMITS``); the defaults here are the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class FileLimits:
    """Guards for parsing an untrusted PDF or DOCX; a file over any of them is refused as ``file_too_complex``."""

    # The archive (DOCX), from the central directory, before inflating anything.
    max_unzipped_bytes: int = 40 * MB  # all parts together
    max_zip_entry_bytes: int = 20 * MB  # any one part
    max_zip_entries: int = 1000
    max_compression_ratio: int = 100  # inflated / compressed, for a part over 1 MB; Word's XML is 5-20
    # The content, while extracting.
    max_pdf_pages: int = 300
    max_paragraphs: int = 20_000  # DOCX paragraphs, in the body, tables, headers and footers
    max_chars: int = 1_000_000  # extracted characters (the pasted text limit is 200,000)
    # The parsing child process.
    parse_cpu_seconds: int = 4
    parse_memory_bytes: int = 512 * MB  # its address space
    parse_wall_seconds: float = 4.5  # with the request around it, an answer within 5 s

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FileLimits:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
