"""Text out of a PDF or DOCX, within the content limits; run as ``python -m detection.extract`` it is the parsing
child of ``detection.sandbox``, which caps its memory and CPU time before it reads the file.

The child reads one JSON line ``{"kind", "limits"}`` and then the file's bytes on stdin, and writes one JSON object
on stdout: ``{"text": ...}``, ``{"unreadable": why}`` (damaged, password-protected), ``{"too_complex": why}`` (over a
content limit) or ``{"limit": "memory"}``. Running out of CPU time kills it (SIGXCPU); the parent also kills it
after the wall-clock limit.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import warnings
from typing import Any

from detection.limits import FileLimits

PDF = "pdf"
DOCX = "docx"


class Unreadable(Exception):
    """The file cannot be opened; the message says why, as a clause for the learner."""


class TooComplex(Exception):
    """The file is over a content limit; the message says which, as a clause for the learner."""


def extract_text(kind: str, data: bytes, limits: FileLimits) -> str:
    if kind == PDF:
        return pdf_text(data, limits)
    if kind == DOCX:
        return docx_text(data, limits)
    raise ValueError(f"no parser for {kind!r}")


class _Budget:
    """Counts extracted characters against ``max_chars``."""

    def __init__(self, limits: FileLimits) -> None:
        self.limits, self.used = limits, 0

    def take(self, text: str) -> str:
        self.used += len(text)
        if self.used > self.limits.max_chars:
            raise TooComplex(f"it holds more than {self.limits.max_chars:,} characters of text")
        return text


def pdf_text(data: bytes, limits: FileLimits) -> str:
    # The readers are imported on first use: most submissions are plain text, and both are slow to import.
    from pypdf import PdfReader  # noqa: PLC0415
    from pypdf.errors import PyPdfError  # noqa: PLC0415

    # pypdf reports recoverable damage through logging and warnings; a learner's slightly broken file that
    # still yields text is fine, so those are not failures here.
    pypdf_logger = logging.getLogger("pypdf")
    previous_level = pypdf_logger.level
    pypdf_logger.setLevel(logging.ERROR)
    budget = _Budget(limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                try:
                    reader.decrypt("")
                except Exception as exc:
                    raise Unreadable("it is password-protected") from exc
            pages = len(reader.pages)
            if pages > limits.max_pdf_pages:
                raise TooComplex(f"it has {pages:,} pages, and at most {limits.max_pdf_pages:,} can be read")
            return "\n".join(budget.take(page.extract_text() or "") for page in reader.pages)
    except (Unreadable, TooComplex, MemoryError):
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError) as exc:
        raise Unreadable("the PDF is damaged") from exc
    finally:
        pypdf_logger.setLevel(previous_level)


def docx_text(data: bytes, limits: FileLimits) -> str:
    """The text of the body's paragraphs and tables, then the headers and footers.

    The caller has checked the archive's declared sizes (``detection.files``); ``zipfile`` never inflates a part
    past its declared size (a part that lies fails its CRC check), so the XML parsed here is at most that big."""
    import docx  # noqa: PLC0415  (imported on first use, as pypdf above)

    try:
        document = docx.Document(io.BytesIO(data))
    except MemoryError:
        raise
    except Exception as exc:
        raise Unreadable("the document is damaged") from exc
    # Counted in the parsed tree (C speed) before python-docx builds an object per paragraph.
    paragraphs = len(document.element.xpath(".//w:p"))
    if paragraphs > limits.max_paragraphs:
        raise TooComplex(f"it has {paragraphs:,} paragraphs, and at most {limits.max_paragraphs:,} can be read")
    budget = _Budget(limits)
    parts = [budget.take(paragraph.text) for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(budget.take("\t".join(cell.text for cell in row.cells)))
    for section in document.sections:
        for part in (section.header, section.footer):
            parts.extend(budget.take(paragraph.text) for paragraph in part.paragraphs)
    return "\n".join(parts)


def _load_parser(kind: str) -> None:
    """Import the parser before the limits apply: it is our code, and its memory is not the file's."""
    if kind == PDF:
        import pypdf  # noqa: F401, PLC0415
    elif kind == DOCX:
        import docx  # noqa: F401, PLC0415


def _apply_limits(limits: FileLimits) -> None:
    import resource  # noqa: PLC0415  (POSIX only, and needed only in the child)

    cpu = max(1, int(limits.parse_cpu_seconds))
    # The soft limit sends SIGXCPU, which kills the child (Python leaves it at the default action).
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.parse_memory_bytes, limits.parse_memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # it writes no files
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _near_memory_limit(limits: FileLimits) -> bool:
    """Whether this process's peak address space came within 10% of the memory limit (Linux; else False)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024 >= 0.9 * limits.parse_memory_bytes
    except (OSError, ValueError, IndexError):
        pass
    return False


def main() -> None:
    header: dict[str, Any] = json.loads(sys.stdin.buffer.readline())
    kind, limits = str(header["kind"]), FileLimits.from_dict(header["limits"])
    _load_parser(kind)
    _apply_limits(limits)
    result: dict[str, str]
    try:
        result = {"text": extract_text(kind, sys.stdin.buffer.read(), limits)}
    except TooComplex as problem:
        result = {"too_complex": str(problem)}
    except Unreadable as problem:
        # lxml reports a failed allocation as a syntax error ("unknown error"): a parse that failed with the
        # address space nearly used up ran out of memory, whatever the exception says.
        result = {"limit": "memory"} if _near_memory_limit(limits) else {"unreadable": str(problem)}
    except MemoryError:
        result = {"limit": "memory"}
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
