"""File checks for submissions: the type is judged by the bytes, never by the name, and text is extracted.

The lead's service calls ``inspect_file(filename, data, *, max_bytes) -> (kind, extracted_text, rejections)``.
Accepted kinds: ``pdf``, ``docx``, ``text`` (plain text, Markdown, source code, CSV...), ``png`` and ``jpeg``.
Everything else (executables, archives that are not DOCX, legacy Office files, other binary data) is refused
with ``file_type``; a PDF or DOCX from which no text can be extracted is refused with ``file_no_text``.

PDF and DOCX are untrusted input to big parsers, so they are read under ``FileLimits`` (``detection.limits``): a
DOCX's zip is judged by its central directory before anything is inflated, and the parsing runs in a child process
with CPU, memory and wall-clock limits (``detection.sandbox``). A file over any limit is refused with
``file_too_complex`` and a sentence that says which limit and what to do.
"""

from __future__ import annotations

import io
import zipfile

from detection.gate.settings import RejectionReason
from detection.limits import MB, FileLimits
from detection.sandbox import limit_clause, run_extraction
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
    kind, described, _ = _sniff(data)
    return kind, described


def _sniff(data: bytes) -> tuple[str, str, str | None]:
    """``sniff``, with the decoded text of a text file (decoding it is how it was judged text: done once)."""
    if not data:
        return EMPTY, "", None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG, "", None
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG, "", None
    # The PDF header may follow a little junk; readers accept it within the first kilobyte.
    if b"%PDF-" in data[:1024]:
        return PDF, "", None
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return (DOCX, "", None) if _is_docx(data) else (UNSUPPORTED, "a zip archive", None)
    # Text before signatures: an essay may start with "MZ" or "ID3", while real programs and archives hold NUL
    # bytes and control characters that text never has.
    text = decode_text(data)
    if text is not None:
        return TEXT, "", text
    for signature, described in _REFUSED_SIGNATURES:
        if data.startswith(signature):
            return UNSUPPORTED, described, None
    if len(data) > 262 and data[257:262] == b"ustar":
        return UNSUPPORTED, "a tar archive", None
    return UNSUPPORTED, "binary data", None


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
    kind, described, decoded = _sniff(data)
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
        text = decoded or ""
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
    problem = _archive_problem(data, limits) if kind == DOCX else None
    if problem is not None:
        return kind, "", [_too_complex(filename, kind, problem)]
    extraction = run_extraction(kind, data, limits)
    if extraction.unreadable is not None:
        return (
            kind,
            "",
            [
                RejectionReason(
                    "file_type",
                    f"The file {filename!r} looks like a {kind.upper()} file but cannot be opened ({extraction.unreadable}). "
                    "Export it again and attach the new file.",
                )
            ],
        )
    if extraction.too_complex is not None or extraction.limit is not None:
        clause = extraction.too_complex or limit_clause(extraction.limit or "", limits)
        return kind, "", [_too_complex(filename, kind, clause)]
    text = extraction.text
    if not words(text):
        advice = (
            "It seems to hold only scanned images or blank pages. "
            "Attach a PDF with selectable text (export it from your editor), or paste your answer as text."
            if kind == PDF
            else "It has no text in it. Attach the document with your work, or paste your answer as text."
        )
        return kind, "", [RejectionReason("file_no_text", f"No text could be read from {filename!r}. {advice}")]
    return kind, text, []


def _too_complex(filename: str, kind: str, clause: str) -> RejectionReason:
    advice = (
        "Attach a shorter PDF (split it, or export only the pages with your work), or paste your answer as text."
        if kind == PDF
        else "Remove large embedded objects, split it into smaller documents or save it as a PDF, or paste your answer as text."
    )
    return RejectionReason("file_too_complex", f"The file {filename!r} cannot be read within our limits: {clause}. {advice}")


def _archive_problem(data: bytes, limits: FileLimits) -> str | None:
    """Why a DOCX's zip is over a limit, judged from its central directory alone (nothing is inflated), else None.

    The declared sizes can be trusted this far: ``zipfile`` never inflates a part past its declared size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None  # sniff() read it; if it cannot be read now, the parser says it is damaged
    if len(entries) > limits.max_zip_entries:
        return f"it holds {len(entries):,} parts, and at most {limits.max_zip_entries:,} are allowed"
    for info in entries:
        if info.file_size > limits.max_zip_entry_bytes:
            allowed = _megabytes(limits.max_zip_entry_bytes)
            return f"one of its parts unpacks to {_megabytes(info.file_size)}, more than the {allowed} allowed"
        if info.file_size > MB and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            return (
                f"one of its parts is compressed {info.file_size // max(info.compress_size, 1):,} times, "
                f"more than the {limits.max_compression_ratio} times a real document is"
            )
    total = sum(info.file_size for info in entries)
    if total > limits.max_unzipped_bytes:
        return f"it unpacks to {_megabytes(total)}, more than the {_megabytes(limits.max_unzipped_bytes)} allowed"
    return None


def _megabytes(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= 10 * MB else f"{size / MB:,.1f} MB"
