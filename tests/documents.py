"""Word documents built for the tests: ordinary ones, and ones whose body is streamed through the compressor so
that a huge body (a zip bomb) never sits in memory."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import docx

W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


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


def docx_with_body(paragraphs: Iterator[bytes], *, declared_size: int | None = None) -> bytes:
    """A real DOCX (python-docx's own parts) whose word/document.xml body is ``paragraphs``, streamed through the
    compressor so that a huge body never sits in memory; ``declared_size`` makes the central directory lie."""
    source = zipfile.ZipFile(io.BytesIO(make_docx(["placeholder"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info, source.read(info.filename))
                continue
            with archive.open("word/document.xml", "w", force_zip64=True) as part:
                part.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ' + W + b"><w:body>")
                for chunk in paragraphs:
                    part.write(chunk)
                part.write(b"</w:body></w:document>")
            if declared_size is not None:
                archive.getinfo("word/document.xml").file_size = declared_size
    return out.getvalue()
