"""File checks: type judged by content, text extracted from PDF and DOCX, empty and unreadable files refused; documents
read under limits (the inflating .docx of the finding is refused from its zip directory; a parsing child over its
CPU, memory or wall-clock limit is stopped and reported)."""

from __future__ import annotations

import io
import resource
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from dataclasses import replace

import pytest
from pypdf import PdfWriter

from detection import files, sandbox
from detection.files import FileTooLarge, exceeds_size_limit, inspect_file, too_many_files
from detection.gate.settings import RejectionReason
from detection.limits import FileLimits
from detection.sandbox import SandboxError, run_extraction
from tests.documents import docx_with_body, make_docx

LIMIT = 10 * 1024 * 1024


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` in Helvetica, written by hand with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 72 700 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_text_is_extracted() -> None:
    kind, text, reasons = inspect_file("answer.pdf", minimal_pdf("Inheritance lets classes reuse code"), max_bytes=LIMIT)
    assert (kind, reasons) == ("pdf", [])
    assert "Inheritance lets classes reuse code" in text


def test_pdf_with_only_blank_pages_has_no_text() -> None:
    kind, text, reasons = inspect_file("scan.pdf", blank_pdf(), max_bytes=LIMIT)
    assert kind == "pdf" and text == ""
    assert [r.code for r in reasons] == ["file_no_text"]


def test_damaged_pdf_is_refused_with_advice() -> None:
    _, _, reasons = inspect_file("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", max_bytes=LIMIT)
    assert [r.code for r in reasons] in (["file_type"], ["file_no_text"])


def test_docx_paragraphs_and_tables_are_extracted() -> None:
    data = make_docx(["Inheritance lets a class reuse another class."], [["Class", "Parent"], ["Student", "Person"]])
    kind, text, reasons = inspect_file("answer.docx", data, max_bytes=LIMIT)
    assert (kind, reasons) == ("docx", [])
    assert "reuse another class" in text and "Student" in text and "Person" in text


def test_empty_docx_has_no_text() -> None:
    kind, _, reasons = inspect_file("answer.docx", make_docx([]), max_bytes=LIMIT)
    assert kind == "docx"
    assert [r.code for r in reasons] == ["file_no_text"]


def test_zero_byte_and_blank_files_are_empty() -> None:
    assert [r.code for r in inspect_file("a.pdf", b"", max_bytes=LIMIT)[2]] == ["file_empty"]
    assert [r.code for r in inspect_file("a.txt", b"  \n\t\n", max_bytes=LIMIT)[2]] == ["file_empty"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("essay.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),  # a Windows program named .pdf
        ("notes.txt", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64),
        ("answer.docx", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(256))),
        ("report.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64),
        ("pic.png", b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 20),
        ("data.bin", bytes(range(256)) * 4),
    ],
)
def test_type_is_judged_by_content_not_name(name: str, data: bytes) -> None:
    kind, text, reasons = inspect_file(name, data, max_bytes=LIMIT)
    assert kind == "unsupported" and text == ""
    assert [r.code for r in reasons] == ["file_type"]
    assert name in reasons[0].message


def test_zip_that_is_not_a_docx_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("answer.txt", "my answer")
    kind, _, reasons = inspect_file("answer.docx", buffer.getvalue(), max_bytes=LIMIT)
    assert kind == "unsupported" and [r.code for r in reasons] == ["file_type"]
    assert "zip" in reasons[0].message


def test_docx_named_otherwise_is_still_a_docx() -> None:
    kind, text, reasons = inspect_file("answer.bin", make_docx(["Real work here."]), max_bytes=LIMIT)
    assert (kind, reasons) == ("docx", []) and "Real work" in text


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.md", b"# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", "| 1 | 2 |"),
        ("Main.java", b"public class Main { public static void main(String[] a) {} }", "class Main"),
        ("a.txt", "Grüße, naïve café — 継承".encode(), "Grüße"),
        ("legacy.txt", b"It\x92s a \x93kind of\x94 relation", "It\u2019s a \u201ckind of\u201d"),
        ("utf16.txt", "Héllo wörld".encode("utf-16"), "Héllo wörld"),
        ("MZ.txt", b"MZ is how I sign my essays; this one is about classes.", "MZ is how"),
    ],
)
def test_text_files_are_decoded(name: str, data: bytes, expected: str) -> None:
    kind, text, reasons = inspect_file(name, data, max_bytes=LIMIT)
    assert (kind, reasons) == ("text", [])
    assert expected in text


def test_images_are_accepted_without_text() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
    assert inspect_file("photo.png", png, max_bytes=LIMIT) == ("png", "", [])
    assert inspect_file("photo.jpg", jpeg, max_bytes=LIMIT) == ("jpeg", "", [])


def test_size_limit_is_the_callers_413() -> None:
    assert exceeds_size_limit(11, 10) and not exceeds_size_limit(10, 10)
    with pytest.raises(FileTooLarge):
        inspect_file("big.txt", b"x" * 11, max_bytes=10)


def test_too_many_files() -> None:
    assert too_many_files(3, 3) is None
    rejection = too_many_files(4, 3)
    assert rejection is not None and rejection.code == "too_many_files"
    assert "4" in rejection.message and "3" in rejection.message


# ---------------------------------------------------------------- untrusted documents read under limits

BOMB_BYTES = 90 * 1024 * 1024


def repeated(paragraph: bytes, total: int) -> Iterator[bytes]:
    chunk = paragraph * (1024 * 1024 // len(paragraph))
    for _ in range(total // len(chunk)):
        yield chunk


def many_runs(paragraphs: int, runs: int) -> Iterator[bytes]:
    """Paragraphs of many bold and plain runs: cheap to build, costly for python-docx to walk."""
    for i in range(paragraphs):
        yield b"<w:p>" + b"".join(b"<w:r><w:rPr><w:b/></w:rPr><w:t>word%d </w:t></w:r>" % (i % 97) for _ in range(runs)) + b"</w:p>"


@pytest.fixture(scope="module")
def inflating_docx() -> bytes:
    """The finding's attack: a small .docx whose document.xml inflates to 90 MB of XML."""
    data = docx_with_body(repeated(b"<w:p><w:r><w:t>word word word</w:t></w:r></w:p>", BOMB_BYTES))
    assert len(data) < 1024 * 1024
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml").file_size >= 89 * 1024 * 1024
    return data


@pytest.fixture(scope="module")
def costly_docx() -> bytes:
    """19,000 paragraphs of 10 runs (14 MB of XML): within the archive limits, seconds of CPU to walk."""
    return docx_with_body(many_runs(19_000, 10))


# Limits that let the costly document through to the parser, so that only the cost limits can stop it.
OPEN = FileLimits(max_paragraphs=10**7, max_chars=10**9, max_zip_entry_bytes=10**9, max_unzipped_bytes=10**9, max_compression_ratio=10**6)


def codes_of(reasons: list[RejectionReason]) -> list[str]:
    return [r.code for r in reasons]


def test_inflating_docx_is_refused_from_the_central_directory_without_inflating(
    inflating_docx: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parsing(*args: object) -> None:
        raise AssertionError("the archive limits should refuse it before any parser runs")

    monkeypatch.setattr(files, "run_extraction", no_parsing)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    try:
        kind, text, reasons = inspect_file("essay.docx", inflating_docx, max_bytes=LIMIT, limits=FileLimits())
        seconds = time.perf_counter() - started
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert (kind, text, codes_of(reasons)) == ("docx", "", ["file_too_complex"])
    assert "essay.docx" in reasons[0].message and "90 MB" in reasons[0].message and "20 MB" in reasons[0].message
    assert seconds < 0.5, seconds
    assert traced_peak < 5 * 1024 * 1024 and grown_mb < 50, (traced_peak, grown_mb)


def test_inflating_docx_is_refused_by_the_default_limits(inflating_docx: bytes) -> None:
    started = time.perf_counter()
    _, _, reasons = inspect_file("essay.docx", inflating_docx, max_bytes=LIMIT)
    assert codes_of(reasons) == ["file_too_complex"] and time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("limits", "said"),
    [
        (FileLimits(max_zip_entries=5), "parts, and at most 5"),
        (FileLimits(max_unzipped_bytes=2 * 1024 * 1024, max_compression_ratio=10**6), "it unpacks to"),
        (FileLimits(max_compression_ratio=10), "compressed"),
    ],
)
def test_each_archive_limit_is_checked_before_parsing(limits: FileLimits, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = docx_with_body(repeated(b"<w:p><w:r><w:t>Mostly the same words again.</w:t></w:r></w:p>", 3 * 1024 * 1024))
    monkeypatch.setattr(files, "run_extraction", lambda *a: pytest.fail("parsed despite an archive limit"))
    _, _, reasons = inspect_file("essay.docx", data, max_bytes=LIMIT, limits=limits)
    assert codes_of(reasons) == ["file_too_complex"] and said in reasons[0].message, reasons


def test_a_part_that_lies_about_its_size_is_not_inflated_past_it(inflating_docx: bytes) -> None:
    """The archive limits trust the declared sizes: zipfile stops at the declared size and the CRC check fails."""
    liar = docx_with_body(repeated(b"<w:p><w:r><w:t>word word word</w:t></w:r></w:p>", BOMB_BYTES), declared_size=4096)
    started = time.perf_counter()
    _, _, reasons = inspect_file("essay.docx", liar, max_bytes=LIMIT)
    assert codes_of(reasons) == ["file_type"] and "damaged" in reasons[0].message
    assert time.perf_counter() - started < 2


def test_docx_paragraph_and_character_caps() -> None:
    data = make_docx([f"Paragraph {i} of my work." for i in range(6)])
    _, _, reasons = inspect_file("a.docx", data, max_bytes=LIMIT, limits=FileLimits(max_paragraphs=5))
    assert codes_of(reasons) == ["file_too_complex"] and "6 paragraphs" in reasons[0].message
    _, _, reasons = inspect_file("a.docx", data, max_bytes=LIMIT, limits=FileLimits(max_chars=100))
    assert codes_of(reasons) == ["file_too_complex"] and "100 characters" in reasons[0].message
    kind, text, reasons = inspect_file("a.docx", data, max_bytes=LIMIT, limits=FileLimits(max_paragraphs=6, max_chars=200))
    assert (kind, reasons) == ("docx", []) and "Paragraph 5" in text


def test_pdf_page_and_character_caps() -> None:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    _, _, reasons = inspect_file("long.pdf", buffer.getvalue(), max_bytes=LIMIT, limits=FileLimits(max_pdf_pages=2))
    assert codes_of(reasons) == ["file_too_complex"] and "3 pages" in reasons[0].message and "shorter PDF" in reasons[0].message
    _, _, reasons = inspect_file(
        "a.pdf", minimal_pdf("Inheritance lets classes reuse code"), max_bytes=LIMIT, limits=FileLimits(max_chars=10)
    )
    assert codes_of(reasons) == ["file_too_complex"]


def test_a_child_over_its_cpu_time_is_killed_and_reported(costly_docx: bytes) -> None:
    started = time.perf_counter()
    outcome = run_extraction("docx", costly_docx, replace(OPEN, parse_cpu_seconds=1, parse_wall_seconds=30))
    assert outcome.limit == "cpu" and outcome.text == "", outcome
    assert time.perf_counter() - started < 10
    _, _, reasons = inspect_file("a.docx", costly_docx, max_bytes=LIMIT, limits=replace(OPEN, parse_cpu_seconds=1, parse_wall_seconds=30))
    assert codes_of(reasons) == ["file_too_complex"] and "seconds of processing" in reasons[0].message


def test_a_child_over_its_memory_is_stopped_and_reported(costly_docx: bytes) -> None:
    outcome = run_extraction("docx", costly_docx, replace(OPEN, parse_memory_bytes=150 * 1024 * 1024))
    assert outcome.limit == "memory" and outcome.text == "", outcome
    _, _, reasons = inspect_file("a.docx", costly_docx, max_bytes=LIMIT, limits=replace(OPEN, parse_memory_bytes=150 * 1024 * 1024))
    assert codes_of(reasons) == ["file_too_complex"] and "150 MB of memory" in reasons[0].message


def test_a_child_over_the_wall_clock_is_killed_in_time(costly_docx: bytes) -> None:
    started = time.perf_counter()
    outcome = run_extraction("docx", costly_docx, replace(OPEN, parse_cpu_seconds=60, parse_wall_seconds=0.5))
    seconds = time.perf_counter() - started
    assert outcome.limit == "time" and 0.5 <= seconds < 1.5, (outcome, seconds)


def test_the_costly_document_is_read_when_the_limits_allow_it(costly_docx: bytes) -> None:
    """The cost limits above stop a real parse, not a broken one: given room, the same file yields its text."""
    outcome = run_extraction("docx", costly_docx, replace(OPEN, parse_cpu_seconds=60, parse_wall_seconds=60))
    assert outcome.limit is None and outcome.text.count("\n") == 18_999 and outcome.text.startswith("word0 word0")


def test_a_child_that_fails_for_no_reason_of_the_file_is_the_services_fault() -> None:
    with pytest.raises(SandboxError):
        run_extraction("spreadsheet", b"anything", FileLimits())


def test_the_child_gets_none_of_the_services_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:pw@db/x")
    env = sandbox._child_env()
    assert "SECRET_KEY" not in env and "DATABASE_URL" not in env


def test_ordinary_documents_are_read_in_the_sandbox_quickly() -> None:
    for name, data, expected in [
        ("a.pdf", minimal_pdf("Inheritance lets classes reuse code"), "reuse code"),
        ("a.docx", make_docx(["Inheritance lets a class reuse another class."]), "reuse another class"),
    ]:
        started = time.perf_counter()
        kind, text, reasons = inspect_file(name, data, max_bytes=LIMIT)
        assert reasons == [] and expected in text, (kind, reasons)
        assert time.perf_counter() - started < 2
