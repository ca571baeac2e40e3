"""File checks for submissions. The lead's service calls
``inspect_file(filename, data, *, max_bytes) -> (kind, extracted_text, rejections)`` — keep that signature."""

from __future__ import annotations

from reviews.integrity.gate import Rejection


def inspect_file(filename: str, data: bytes, *, max_bytes: int) -> tuple[str, str, list[Rejection]]:
    """The file's kind judged by content, its extractable text, and reasons to refuse it."""
    if not data:
        return "empty", "", [Rejection("file_empty", f"The file {filename!r} is empty. Attach the file with your work in it.")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "binary", "", []
    return "text", text, []
