"""Quantities as a person reads them."""

from __future__ import annotations


def human_size(size: int | float) -> str:
    """A size in bytes as a person says it: "900 bytes", "12 KB", "1.5 MB" (1 KB = 1,024 bytes)."""
    size = max(0, int(size))
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    for unit in ("KB", "MB", "GB"):
        size_in = size / 1024
        if size_in < 1024 or unit == "GB":
            text = f"{size_in:.1f}".removesuffix(".0") if size_in < 10 else f"{size_in:.0f}"
            return f"{text} {unit}"
        size = int(size_in)
    raise AssertionError("unreachable")
