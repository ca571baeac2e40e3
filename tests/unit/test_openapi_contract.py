"""The committed OpenAPI document is the whole contract: every success answer and the multipart bodies are typed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")

# The two answers that are not JSON: their declared media type is the contract.
RAW_ANSWERS = {
    ("get", "/api/files/{file_id}"): "application/octet-stream",
    ("get", "/api/assignments/{assignment_id}/scores.csv"): "text/csv",
}
MULTIPART = (
    ("post", "/api/assignments/{assignment_id}/submissions"),
    ("post", "/api/assignments/{assignment_id}/calibration-samples"),
)


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "docs" / "openapi.json").read_text())
    return document


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in sorted(_document()["paths"].items())
        for method, operation in item.items()
        if method in METHODS
    ]


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_the_document_has_operations() -> None:
    assert len(_operations()) >= 20


@pytest.mark.parametrize(("method", "path", "operation"), [pytest.param(*op, id=f"{op[0]} {op[1]}") for op in _operations()])
def test_every_success_answer_has_a_schema(method: str, path: str, operation: dict[str, Any]) -> None:
    document = _document()
    typed: dict[str, list[str]] = {}
    for status, response in operation.get("responses", {}).items():
        if not (status.isdigit() and 200 <= int(status) < 300):
            continue
        content = _resolve(document, response).get("content", {})
        typed[status] = [media for media, body in content.items() if isinstance(body.get("schema"), dict) and body["schema"]]
    assert any(typed.values()), f"{method.upper()} {path}: no 2xx response with a schema (found {typed or 'no 2xx response'})"
    expected = RAW_ANSWERS.get((method, path))
    if expected is not None:
        assert any(expected in media for media in typed.values()), f"{method.upper()} {path} should answer {expected}: {typed}"


def test_the_raw_answers_are_in_the_document() -> None:
    operations = {(method, path) for method, path, _ in _operations()}
    assert set(RAW_ANSWERS) <= operations


@pytest.mark.parametrize(("method", "path"), MULTIPART)
def test_multipart_bodies_are_documented_for_both_media_types(method: str, path: str) -> None:
    document = _document()
    operation = document["paths"][path][method]
    body = _resolve(document, operation["requestBody"])
    content = body["content"]
    for media in ("application/json", "multipart/form-data"):
        assert media in content, f"{method.upper()} {path}: no {media} request body"
        schema = _resolve(document, content[media]["schema"])
        assert "text" in schema["properties"]
    assert content["multipart/form-data"]["schema"]["properties"]["files"]["items"]["format"] == "binary"
    if path.endswith("/calibration-samples"):
        assert "scores" in content["application/json"]["schema"]["properties"]
        assert "scores" in content["multipart/form-data"]["schema"]["properties"]
