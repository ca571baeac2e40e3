"""The committed OpenAPI document is the whole contract: every success answer and the request bodies are typed, every
error answer is the common Error object, and a response schema documents the answer without re-serialising it."""

from __future__ import annotations

import copy
import importlib
import json
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask

ROOT = Path(__file__).resolve().parents[3]
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
WRITES = ("post", "put", "patch")
FEATURES = ("accounts", "courses", "submissions", "allocation", "scoring", "moderation", "records")
ERROR_SCHEMA = "#/components/schemas/Error"
# Success answers that carry no body: their status is their whole meaning.
BODILESS_STATUSES = {"204", "301", "302", "303", "304", "307", "308"}

# The two answers that are not JSON: their declared media type is the contract.
RAW_ANSWERS = {
    ("get", "/api/files/{file_id}"): "application/octet-stream",
    ("get", "/api/assignments/{assignment_id}/scores.csv"): "text/csv",
}
MULTIPART = (
    ("post", "/api/assignments/{assignment_id}/submissions"),
    ("post", "/api/assignments/{assignment_id}/calibration-samples"),
)
# Writes whose whole input is their path: every other write documents its body.
NO_REQUEST_BODY = {
    ("post", "/api/assignments/{assignment_id}/review-claims"),
    ("post", "/api/assignments/{assignment_id}/release"),
    ("post", "/api/escalations/{case_id}/claim"),
    ("post", "/api/users/{user_id}/sign-in-links"),
}


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "docs" / "openapi.json").read_text())
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in sorted(document["paths"].items())
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


def _is_success(status: str) -> bool:
    return status.isdigit() and 200 <= int(status) < 400


def _success_problems(document: dict[str, Any], method: str, path: str, operation: dict[str, Any]) -> list[str]:
    where = f"{method.upper()} {path}"
    typed: dict[str, list[str]] = {}
    problems = []
    for status, response in operation.get("responses", {}).items():
        if not _is_success(status):
            continue
        content = _resolve(document, response).get("content", {})
        if status in BODILESS_STATUSES:
            if content:
                problems.append(f"{where}: {status} declares a body {sorted(content)}")
            typed[status] = ["(no body)"]
            continue
        typed[status] = [media for media, body in content.items() if isinstance(body.get("schema"), dict) and body["schema"]]
        if not typed[status]:
            problems.append(f"{where}: {status} has no content with a schema")
    if not typed:
        problems.append(f"{where}: no success response")
    expected = RAW_ANSWERS.get((method, path))
    if expected is not None and not any(expected in media for media in typed.values()):
        problems.append(f"{where} should answer {expected}: {typed}")
    return problems


def _error_problems(document: dict[str, Any], method: str, path: str, operation: dict[str, Any]) -> list[str]:
    problems = []
    responses = operation.get("responses", {})
    if "default" not in responses:
        problems.append(f"{method.upper()} {path}: no default (error) response")
    for status, response in responses.items():
        if _is_success(status):
            continue
        schema = _resolve(document, response).get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("$ref") != ERROR_SCHEMA:
            problems.append(f"{method.upper()} {path}: {status} is not the common Error object ({schema or 'no JSON schema'})")
    return problems


def _body_problems(document: dict[str, Any], method: str, path: str, operation: dict[str, Any]) -> list[str]:
    where = f"{method.upper()} {path}"
    body = _resolve(document, operation["requestBody"]) if "requestBody" in operation else None
    content = body.get("content", {}) if body else {}
    problems = []
    if method in WRITES and (method, path) not in NO_REQUEST_BODY and not content:
        problems.append(f"{where}: no request body documented")
    for media, entry in content.items():
        if not (isinstance(entry.get("schema"), dict) and entry["schema"]):
            problems.append(f"{where}: request body {media} has no schema")
    if ((method, path) in MULTIPART) != ("multipart/form-data" in content):
        problems.append(f"{where}: multipart/form-data body {'missing' if (method, path) in MULTIPART else 'not listed in MULTIPART'}")
    return problems


def _problems(document: dict[str, Any]) -> list[str]:
    return [
        problem
        for method, path, operation in _operations(document)
        for check in (_success_problems, _error_problems, _body_problems)
        for problem in check(document, method, path, operation)
    ]


def test_the_document_has_operations() -> None:
    assert len(_operations(_document())) >= 20


@pytest.mark.parametrize(("method", "path", "operation"), [pytest.param(*op, id=f"{op[0]} {op[1]}") for op in _operations(_document())])
def test_every_operation_is_typed(method: str, path: str, operation: dict[str, Any]) -> None:
    document = _document()
    problems = [
        *_success_problems(document, method, path, operation),
        *_error_problems(document, method, path, operation),
        *_body_problems(document, method, path, operation),
    ]
    assert not problems, "\n".join(problems)


def test_every_generated_operation_is_typed(app: Flask) -> None:
    """The same walk over the app's own document, so a missing decorator fails here before docs/openapi.json is made."""
    from reviews.kernel.api import spec_dict

    with app.app_context():
        generated = json.loads(json.dumps(spec_dict()))
    assert len(_operations(generated)) >= 20
    assert not _problems(generated), "\n".join(_problems(generated))


def test_the_walk_catches_what_is_missing() -> None:
    document = _document()
    assert not _problems(document)
    untyped = copy.deepcopy(document)
    untyped["paths"]["/api/submissions/{submission_id}"]["get"]["responses"]["200"].pop("content")
    assert any("GET /api/submissions/{submission_id}: 200 has no content" in p for p in _problems(untyped))
    bodiless = copy.deepcopy(document)
    bodiless["paths"]["/api/assignments/{assignment_id}/submissions"]["post"].pop("requestBody")
    assert any("multipart/form-data body missing" in p for p in _problems(bodiless))
    unbodied = copy.deepcopy(document)
    unbodied["paths"]["/api/courses"]["post"].pop("requestBody")
    assert any("POST /api/courses: no request body" in p for p in _problems(unbodied))
    raw = copy.deepcopy(document)
    raw["paths"]["/api/files/{file_id}"]["get"]["responses"]["200"]["content"] = {"application/json": {"schema": {"type": "object"}}}
    assert any("should answer application/octet-stream" in p for p in _problems(raw))
    plain_error = copy.deepcopy(document)
    plain_error["paths"]["/api/escalations/{case_id}/claim"]["post"]["responses"]["409"]["content"]["application/json"]["schema"] = {}
    assert any("409 is not the common Error object" in p for p in _problems(plain_error))


def test_the_raw_answers_are_in_the_document() -> None:
    operations = {(method, path) for method, path, _ in _operations(_document())}
    assert set(RAW_ANSWERS) <= operations
    assert set(MULTIPART) <= operations
    assert operations >= NO_REQUEST_BODY


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


@pytest.mark.parametrize("feature", FEATURES)
def test_every_api_blueprint_documents_without_dumping(feature: str) -> None:
    from reviews.kernel.api import Blueprint

    blp = importlib.import_module(f"reviews.{feature}.routes").blp
    assert isinstance(blp, Blueprint), f"reviews.{feature}.routes: use reviews.kernel.api.Blueprint, not flask_smorest's"


def test_a_response_schema_documents_the_answer_and_leaves_it_byte_for_byte() -> None:
    """smorest alone would dump through the schema: 0 would become 0.0 and an unlisted key would vanish."""
    from reviews.kernel.api import Api, Blueprint

    class Answer(ma.Schema):
        hours = ma.fields.Float(required=True)
        count = ma.fields.Integer(required=True)

    blp = Blueprint("probe", __name__, url_prefix="/probe")

    @blp.route("/created", methods=["POST"])
    @blp.response(201, Answer)
    def created() -> Any:
        return {"hours": 0, "count": 2.5, "unlisted": "kept"}

    @blp.route("/again", methods=["POST"])
    @blp.alt_response(200, schema=Answer, success=True)
    @blp.response(201, Answer)
    def again() -> Any:
        return {"hours": 1, "count": 3}, 200

    app = Flask("probe")
    app.config.update(API_TITLE="probe", API_VERSION="1", OPENAPI_VERSION="3.1.0")
    api = Api(app)
    api.register_blueprint(blp)
    client = app.test_client()

    first = client.post("/probe/created")
    assert first.status_code == 201
    assert json.loads(first.get_data()) == {"hours": 0, "count": 2.5, "unlisted": "kept"}
    assert b'"hours":0,' in first.get_data().replace(b" ", b"")
    second = client.post("/probe/again")
    assert (second.status_code, second.get_json()) == (200, {"hours": 1, "count": 3})

    with app.app_context():
        spec = json.loads(json.dumps(api.spec.to_dict()))
    for path, status in (("/probe/created", "201"), ("/probe/again", "201"), ("/probe/again", "200")):
        schema = spec["paths"][path]["post"]["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Answer"}, (path, status, schema)
    assert spec["components"]["schemas"]["Answer"]["properties"]["hours"]["type"] == "number"
