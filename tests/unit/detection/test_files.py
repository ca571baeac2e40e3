"""File checks: type judged by content, text extracted from PDF and DOCX, empty and unreadable files refused."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from pypdf import PdfWriter

from detection.files import FileTooLarge, exceeds_size_limit, inspect_file, too_many_files

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


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
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
