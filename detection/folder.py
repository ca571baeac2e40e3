"""`fairpeer similarity DIR [--prompt FILE] --json`: the near-duplicate detector over a folder of files (docs/api.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detection.files import FileTooLarge, inspect_file
from detection.fingerprints import CODE, PROSE, kind_for_filename
from detection.similarity import CodeScoring, compare_all

# Large enough for any real submission; a sweep skips bigger files rather than reading them whole.
MAX_FILE_BYTES = 50 * 1024 * 1024


def read_submission_file(path: Path) -> str | None:
    """The text of a file as the service would see it: text files decoded, PDF and DOCX extracted; None for a file
    with no usable text (images, binaries, empty files)."""
    data = path.read_bytes()
    try:
        _kind, text, problems = inspect_file(path.name, data, max_bytes=MAX_FILE_BYTES)
    except FileTooLarge:
        return None
    if problems or not text:
        return None
    return text


def read_submissions(directory: str | Path, *, skip: Path | None = None) -> tuple[list[tuple[str, str]], dict[str, str], dict[str, str]]:
    """The submissions under ``directory`` (hidden files and folders skipped), with their kinds: a file directly in
    it is a submission of its own, named by its file name; every folder below that directly holds files is one
    submission, named by its path, whose text is its readable files joined in name order (source files only when
    it holds any, so a README does not dilute a program). Returns the (name, text) pairs, the kind of each and the
    language (file extension) of each folder of source files."""
    root = Path(directory)
    folders: dict[Path, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        if skip is not None and path.resolve() == skip.resolve():
            continue
        folders.setdefault(relative.parent, []).append(path)
    texts: list[tuple[str, str]] = []
    kinds: dict[str, str] = {}
    languages: dict[str, str] = {}
    for folder, paths in sorted(folders.items(), key=lambda item: item[0].as_posix()):
        if folder == Path("."):
            for path in paths:
                text = read_submission_file(path)
                if text is not None:
                    texts.append((path.name, text))
                    kinds[path.name] = kind_for_filename(path.name)
            continue
        code = [p for p in paths if kind_for_filename(p.name) == CODE]
        parts = [t for t in (read_submission_file(p) for p in sorted(code or paths, key=lambda p: p.name)) if t is not None]
        if parts:
            name = folder.as_posix()
            texts.append((name, "\n".join(parts)))
            # The language (which decides what ``#`` means) is that of the folder's first source file.
            kinds[name] = CODE if code else PROSE
            if code:
                languages[name] = code[0].suffix.lower().lstrip(".")
    return texts, kinds, languages


def sweep(
    texts: list[tuple[str, str]],
    kinds: dict[str, str],
    languages: dict[str, str] | None = None,
    prompt_text: str | None = None,
    *,
    scoring: CodeScoring | None = None,
) -> list[dict[str, Any]]:
    """The pairs ``fairpeer similarity`` reports for these submissions: every pair with a score above 0."""
    pairs = compare_all(texts, prompt_text, kinds=kinds, languages=languages, scoring=scoring)
    return [
        {
            "a": pair.a,
            "b": pair.b,
            "score": round(pair.match.score, 6),
            "containment_a": round(pair.match.containment_a, 6),
            "containment_b": round(pair.match.containment_b, 6),
            "kind": kinds[pair.a],
            "spans": [span.as_json() for span in pair.match.spans],
        }
        for pair in pairs
        if round(pair.match.score, 6) > 0
    ]


def similarity_dir(directory: str | Path, prompt_path: str | Path | None = None) -> dict[str, Any]:
    """``{"pairs": [{"a", "b", "score", "containment_a", "containment_b", "kind", "spans"}, ...]}`` over the
    submissions under ``directory`` (:func:`read_submissions`): names relative to it with ``/`` separators, every
    pair with a score above 0, highest first. Each file is read as source code or prose by its extension;
    ``prompt_path`` is template text whose matches do not count."""
    prompt_text = None
    if prompt_path is not None:
        prompt_text = read_submission_file(Path(prompt_path))
    texts, kinds, languages = read_submissions(directory, skip=Path(prompt_path) if prompt_path is not None else None)
    return {"pairs": sweep(texts, kinds, languages, prompt_text)}


__all__ = ["CODE", "PROSE", "read_submission_file", "read_submissions", "similarity_dir", "sweep"]
