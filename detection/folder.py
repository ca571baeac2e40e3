"""`fairpeer similarity DIR [--prompt FILE] --json`: the near-duplicate detector over a folder of files (docs/api.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detection.files import TEXT, FileTooLarge, decode_text, inspect_file
from detection.fingerprints import CODE, PROSE, kind_for_filename
from detection.similarity import compare_all

# Large enough for any real submission; a sweep skips bigger files rather than reading them whole.
MAX_FILE_BYTES = 50 * 1024 * 1024


def read_submission_file(path: Path) -> str | None:
    """The text of a file as the service would see it: text files decoded, PDF and DOCX extracted; None for a file
    with no usable text (images, binaries, empty files)."""
    data = path.read_bytes()
    try:
        kind, text, problems = inspect_file(path.name, data, max_bytes=MAX_FILE_BYTES)
    except FileTooLarge:
        return None
    if problems or not text:
        return None
    return text if kind != TEXT else decode_text(data)


def similarity_dir(directory: str | Path, prompt_path: str | Path | None = None) -> dict[str, Any]:
    """``{"pairs": [{"a", "b", "score", "spans"}, ...]}`` over every file under ``directory`` (hidden files and
    folders skipped): paths relative to it with ``/`` separators, every pair with a score above 0, highest first.
    Each file is read as source code or prose by its extension; ``prompt_path`` is template text whose matches
    do not count."""
    root = Path(directory)
    prompt_text = None
    if prompt_path is not None:
        prompt_text = read_submission_file(Path(prompt_path))
    texts: list[tuple[str, str]] = []
    kinds: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        if prompt_path is not None and path.resolve() == Path(prompt_path).resolve():
            continue
        text = read_submission_file(path)
        if text is None:
            continue
        name = relative.as_posix()
        texts.append((name, text))
        kinds[name] = kind_for_filename(name)
    pairs = compare_all(texts, prompt_text, kinds=kinds)
    return {
        "pairs": [
            {
                "a": pair.a,
                "b": pair.b,
                "score": round(pair.match.score, 6),
                "kind": kinds[pair.a],
                "spans": [span.as_json() for span in pair.match.spans],
            }
            for pair in pairs
            if round(pair.match.score, 6) > 0
        ]
    }


__all__ = ["CODE", "PROSE", "read_submission_file", "similarity_dir"]
