"""File checks for submissions: the type is judged by the bytes, never by the name, and text is extracted.

The lead's service calls ``inspect_file(filename, data, *, max_bytes) -> (kind, extracted_text, rejections)``.
Accepted kinds: ``pdf``, ``docx``, ``text`` (plain text, Markdown, source code, CSV...), ``png`` and ``jpeg``.
Everything else (executables, archives that are not DOCX, legacy Office files, other binary data) is refused
with ``file_type``; a PDF or DOCX from which no text can be extracted is refused with ``file_no_text``.
"""

from __future__ import annotations

import io
import logging
import warnings
import zipfile
from dataclasses import dataclass

from detection.gate.settings import RejectionReason
from detection.text import words

PDF = "pdf"
DOCX = "docx"
TEXT = "text"
PNG = "png"
JPEG = "jpeg"
EMPTY = "empty"
UNSUPPORTED = "unsupported"

ACCEPTED_KINDS = frozenset({PDF, DOCX, TEXT, PNG, JPEG})


class FileTooLarge(ValueError):
    """The file is over the size limit: the caller answers 413 ``file_too_large`` before inspecting it."""


@dataclass(frozen=True)
class FileLimits:
    """Guards for parsing untrusted files in the request: a DOCX is a zip, and a small zip can inflate hugely."""

    max_unzipped_bytes: int = 100 * 1024 * 1024
    max_pdf_pages: int = 500


def exceeds_size_limit(size: int, max_bytes: int) -> bool:
    """Whether a file of ``size`` bytes is over the limit (the caller's 413 ``file_too_large``)."""
    return size > max_bytes


def too_many_files(count: int, allowed: int) -> RejectionReason | None:
    """The ``too_many_files`` rejection when ``count`` files exceed the ``allowed`` number, else None."""
    if count <= allowed:
        return None
    return RejectionReason(
        "too_many_files",
        f"You attached {count} files; this assignment accepts at most {allowed}. Combine your work into fewer files, then submit again.",
    )


# Signatures of binary formats we refuse, with the name the learner knows them by.
_REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xfe\xed\xfa\xce", "a macOS program"),
    (b"\xfe\xed\xfa\xcf", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "a macOS program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a compiled Java class or program"),
    (b"\x00asm", "a WebAssembly program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a media file"),
    (b"OggS", "a media file"),
    (b"ID3", "an audio file"),
    (b"\x1a\x45\xdf\xa3", "a video file"),
    (b"SQLite format 3\x00", "a database file"),
)


def sniff(data: bytes) -> tuple[str, str]:
    """The kind of file the bytes are, and for refused kinds what they look like (for the learner's message)."""
    if not data:
        return EMPTY, ""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG, ""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG, ""
    # The PDF header may follow a little junk; readers accept it within the first kilobyte.
    if b"%PDF-" in data[:1024]:
        return PDF, ""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return (DOCX, "") if _is_docx(data) else (UNSUPPORTED, "a zip archive")
    # Text before signatures: an essay may start with "MZ" or "ID3", while real programs and archives hold NUL
    # bytes and control characters that text never has.
    if decode_text(data) is not None:
        return TEXT, ""
    for signature, described in _REFUSED_SIGNATURES:
        if data.startswith(signature):
            return UNSUPPORTED, described
    if len(data) > 262 and data[257:262] == b"ustar":
        return UNSUPPORTED, "a tar archive"
    return UNSUPPORTED, "binary data"


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names and "word/document.xml" in names


def decode_text(data: bytes) -> str | None:
    """The bytes as text if they are text (UTF-8, UTF-16 with a byte-order mark, or a legacy 8-bit encoding),
    else None. Text has no NUL bytes and almost no control characters other than layout."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _if_textual(data.decode("utf-16"))
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    try:
        return _if_textual(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Windows-1252 is what older editors save Western text in (curly quotes as 0x91-0x94);
    # its five unassigned bytes fall back to Latin-1, which maps every byte.
    try:
        return _if_textual(data.decode("cp1252"))
    except UnicodeDecodeError:
        return _if_textual(data.decode("latin-1"))


def _if_textual(text: str) -> str | None:
    sample = text[:65536]
    if not sample:
        return text
    controls = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 0x7F <= ord(ch) < 0xA0)
    return text if controls <= 0.01 * len(sample) else None


def inspect_file(filename: str, data: bytes, *, max_bytes: int, limits: FileLimits | None = None) -> tuple[str, str, list[RejectionReason]]:
    """The file's kind judged by its content, its extractable text, and reasons to refuse it.

    Raises :class:`FileTooLarge` for a file over ``max_bytes`` (the caller checks first and answers 413)."""
    limits = limits or FileLimits()
    if exceeds_size_limit(len(data), max_bytes):
        raise FileTooLarge(f"{filename} is {len(data)} bytes; the limit is {max_bytes}")
    kind, described = sniff(data)
    if kind == EMPTY:
        return EMPTY, "", [RejectionReason("file_empty", f"The file {filename!r} is empty. Attach the file that has your work in it.")]
    if kind == UNSUPPORTED:
        return (
            UNSUPPORTED,
            "",
            [
                RejectionReason(
                    "file_type",
                    f"The file {filename!r} is {described}, which cannot be accepted. "
                    "Attach a PDF, a Word document (.docx), a text, Markdown or source file, or a PNG or JPEG image.",
                )
            ],
        )
    if kind == TEXT:
        text = decode_text(data) or ""
        if not text.strip():
            return (
                TEXT,
                "",
                [
                    RejectionReason(
                        "file_empty", f"The file {filename!r} has nothing in it but blank space. Attach the file with your work."
                    )
                ],
            )
        return TEXT, text, []
    if kind in (PNG, JPEG):
        return kind, "", []
    try:
        text = _pdf_text(data, limits) if kind == PDF else _docx_text(data, limits)
    except _Unreadable as problem:
        return (
            kind,
            "",
            [
                RejectionReason(
                    "file_type",
                    f"The file {filename!r} looks like a {kind.upper()} file but cannot be opened ({problem}). "
                    "Export it again and attach the new file.",
                )
            ],
        )
    if not words(text):
        advice = (
            "It seems to hold only scanned images or blank pages. "
            "Attach a PDF with selectable text (export it from your editor), or paste your answer as text."
            if kind == PDF
            else "It has no text in it. Attach the document with your work, or paste your answer as text."
        )
        return kind, "", [RejectionReason("file_no_text", f"No text could be read from {filename!r}. {advice}")]
    return kind, text, []


class _Unreadable(Exception):
    pass


def _pdf_text(data: bytes, limits: FileLimits) -> str:
    # The PDF and DOCX readers are imported on first use: most submissions are plain text, and both are slow
    # to import.
    from pypdf import PdfReader  # noqa: PLC0415
    from pypdf.errors import PyPdfError  # noqa: PLC0415

    # pypdf reports recoverable damage through logging and warnings; a learner's slightly broken file that
    # still yields text is fine, so those are not failures here.
    pypdf_logger = logging.getLogger("pypdf")
    previous_level = pypdf_logger.level
    pypdf_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                try:
                    reader.decrypt("")
                except Exception as exc:
                    raise _Unreadable("it is password-protected") from exc
            parts = []
            for number, page in enumerate(reader.pages):
                if number >= limits.max_pdf_pages:
                    break
                parts.append(page.extract_text() or "")
            return "\n".join(parts)
    except _Unreadable:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError) as exc:
        raise _Unreadable("the PDF is damaged") from exc
    finally:
        pypdf_logger.setLevel(previous_level)


def _docx_text(data: bytes, limits: FileLimits) -> str:
    import docx  # noqa: PLC0415  (imported on first use, as pypdf above)
    from docx.opc.exceptions import PackageNotFoundError  # noqa: PLC0415

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > limits.max_unzipped_bytes:
                raise _Unreadable("it unpacks to more than the size allowed")
        document = docx.Document(io.BytesIO(data))
    except _Unreadable:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _Unreadable("the document is damaged") from exc
    except Exception as exc:
        raise _Unreadable("the document is damaged") from exc
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    for section in document.sections:
        for part in (section.header, section.footer):
            parts.extend(paragraph.text for paragraph in part.paragraphs)
    return "\n".join(parts)
