"""The committed OpenAPI document is the whole contract: every success answer and the request bodies are typed, every
error answer is the common Error object, and a response schema documents the answer without re-serialising it."""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import re
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
    ("post", "/api/escalations/{case_id}/release"),
    ("post", "/api/escalations/{case_id}/renew"),
    ("post", "/api/escalations/{case_id}/takeover"),
    ("post", "/api/notifications/read"),
    ("post", "/api/notifications/{notification_id}/read"),
    ("post", "/api/users/{user_id}/sign-in-links"),
    ("post", "/api/users/{user_id}/token"),
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


# Rule-based refusals (Blueprint.refusals): what the code can refuse with is what the document says.

# Codes every operation may answer through its default error response: the caller's access and the JSON parser.
DEFAULT_ANSWERS = {"unauthenticated", "forbidden", "not_found", "invalid_json"}
# A refusal raised by name: DomainError("code", ...) or one of reviews.kernel.errors' helpers (and rejected()).
RAISED = re.compile(r'DomainError\(\s*"(\w+)"|\b(conflict|invalid|forbidden|not_found|rejected)\(')
HELPER_CODES = {"conflict": "conflict", "invalid": "invalid_request", "forbidden": "forbidden", "not_found": "not_found"}
HELPER_CODES["rejected"] = "submission_rejected"
REASON = re.compile(r'RejectionReason\(\s*"(\w+)"')
SUBMIT = ("post", "/api/assignments/{assignment_id}/submissions")
SAMPLE = ("post", "/api/assignments/{assignment_id}/calibration-samples")
# Per operation, the functions (module, name) it calls that refuse by a rule: every code they raise is documented.
RAISERS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    SUBMIT: (
        ("reviews.submissions.routes", "_read_body"),
        ("reviews.submissions.services", "submit"),
        ("reviews.submissions.services", "_check_files"),
    ),
    SAMPLE: (
        ("reviews.submissions.routes", "_read_body"),
        ("reviews.submissions.services", "add_calibration_sample"),
        ("reviews.submissions.services", "_check_files"),
        ("reviews.courses.rubric", "validate_scores"),
    ),
    ("post", "/api/assignments/{assignment_id}/review-claims"): (("reviews.allocation.services", "claim_next_review"),),
    ("post", "/api/review-claims/{claim_id}/review"): (
        ("reviews.allocation.services", "submit_review"),
        ("reviews.allocation.services", "validate_review"),
    ),
    ("post", "/api/escalations/{case_id}/claim"): (("reviews.moderation.services", "claim_case"),),
    ("post", "/api/escalations/{case_id}/resolve"): (
        ("reviews.moderation.actions", "resolve"),
        ("reviews.moderation.actions", "_submission_of"),
        ("reviews.moderation.services", "require_claimant"),
    ),
    ("post", "/api/courses/{course_id}/assignments"): (("reviews.courses.services", "validate_assignment_settings"),),
    ("post", "/api/courses"): (("reviews.courses.services", "create_course"),),
    ("post", "/api/courses/{course_id}/members"): (("reviews.courses.services", "add_member"),),
    ("post", "/api/users"): (("reviews.accounts.services", "create_user"),),
    ("post", "/api/users/{user_id}/sign-in-links"): (("reviews.accounts.routes", "_staff_link_course"),),
    ("post", "/api/users/{user_id}/token"): (("reviews.accounts.services", "replace_token"), ("reviews.accounts.services", "issue_token")),
    ("post", "/api/submissions/{submission_id}/staff-grade"): (("reviews.courses.rubric", "validate_scores"),),
    ("post", "/api/submissions/{submission_id}/reports"): (("reviews.moderation.services", "report_submission"),),
}


def _raised_codes(module: str, name: str) -> set[str]:
    source = inspect.getsource(getattr(importlib.import_module(module), name))
    return {literal or HELPER_CODES[helper] for literal, helper in RAISED.findall(source)}


def _reason_codes(sources: list[str]) -> set[str]:
    return {code for source in sources for code in REASON.findall(source)}


def _gate_and_file_reasons() -> set[str]:
    """Every reason a learner's attempt can be refused with: the gate's and the file checks' (all of detection/)."""
    from reviews.submissions import services

    sources = [path.read_text() for path in sorted((ROOT / "detection").rglob("*.py"))]
    return _reason_codes([*sources, inspect.getsource(services._check_files)])


def _short_text_reasons() -> set[str]:
    """Every reason the short-text gate refuses a message or a review's comment with (reviews/integrity/short_text.py)."""
    source = (ROOT / "reviews" / "integrity" / "short_text.py").read_text()
    return _reason_codes([source]) | set(re.findall(r'ReviewRefusal\(\s*"(\w+)"', source))


def _sample_reasons() -> set[str]:
    """A calibration sample meets the file checks and its own emptiness rule, never the gate."""
    from reviews.submissions import services

    sources = [(ROOT / "detection" / "files.py").read_text()]
    return _reason_codes([*sources, inspect.getsource(services._check_files), inspect.getsource(services.add_calibration_sample)])


def _described(document: dict[str, Any], method: str, path: str, status: int) -> str:
    response = document["paths"][path][method]["responses"].get(str(status))
    return _resolve(document, response).get("description", "") if response else ""


def _named(description: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", description))


def _undocumented(document: dict[str, Any], method: str, path: str, codes: set[str]) -> list[str]:
    from reviews.kernel.errors import STATUS

    return [
        f"{method.upper()} {path}: {STATUS[code]} does not name `{code}`"
        for code in sorted(codes - DEFAULT_ANSWERS)
        if code not in _named(_described(document, method, path, STATUS[code]))
    ]


def _undocumented_reasons(document: dict[str, Any]) -> list[str]:
    expected = {SUBMIT: _gate_and_file_reasons(), SAMPLE: _sample_reasons()}
    return [
        f"{method.upper()} {path}: 422 does not name the reason `{code}`"
        for (method, path), codes in expected.items()
        for code in sorted(codes - _named(_described(document, method, path, 422)))
    ]


def _unknown_codes(document: dict[str, Any]) -> list[str]:
    """Codes named in an error answer's description that are neither a STATUS code nor a reason the code gives."""
    from reviews.kernel.errors import STATUS

    known = set(STATUS) | _gate_and_file_reasons() | _sample_reasons() | _short_text_reasons()
    return [
        f"{method.upper()} {path}: {status} names `{name}`, which is no error code nor rejection reason"
        for method, path, operation in _operations(document)
        for status, response in operation.get("responses", {}).items()
        if not _is_success(status)
        for name in sorted(_named(_resolve(document, response).get("description", "")) - known)
    ]


def test_the_reason_scan_finds_every_reason() -> None:
    """The scan is the list: were it to find nothing, the checks below would pass on nothing."""
    listed = {"empty", "too_short", "repetitive", "placeholder", "gibberish", "prompt_copy", "pleading", "encoded_blob"}
    listed |= {"file_empty", "file_type", "file_no_text", "file_too_complex", "too_many_files"}
    assert _gate_and_file_reasons() >= listed
    assert _sample_reasons() >= {"empty", "too_many_files", "file_type", "file_too_complex"}
    assert _short_text_reasons() >= {"blank", "punctuation_only", "filler", "too_few_words", "score_unexplained", "overall_required"}
    assert _raised_codes("reviews.submissions.services", "submit") >= {"past_due", "attempts_exhausted", "cooldown", "submission_rejected"}
    api_md = (ROOT / "docs" / "api.md").read_text()
    paragraph = api_md[api_md.index("`submission_rejected` carries") :].split("\n\n")[0]
    assert _gate_and_file_reasons() <= _named(paragraph), "docs/api.md (Errors) should list every submission_rejected reason"


def test_every_rejection_reason_is_documented() -> None:
    problems = _undocumented_reasons(_document())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("method", "path"), sorted(RAISERS))
def test_every_rule_an_operation_calls_is_documented(method: str, path: str) -> None:
    codes = set().union(*(_raised_codes(module, name) for module, name in RAISERS[(method, path)]))
    problems = _undocumented(_document(), method, path, codes)
    assert not problems, "\n".join(problems)


def _wrappers(view: Any) -> list[Any]:
    chain = []
    while view is not None:
        chain.append(view)
        view = getattr(view, "__wrapped__", None)
    return chain


def test_idempotent_and_rate_limited_operations_document_their_refusals(app: Flask) -> None:
    """Every view behind ``idempotent`` documents 409 conflict; every view behind a rate limit, 429 rate_limited."""
    import flask_limiter

    from reviews.kernel.idempotency import idempotent

    idempotent_code = idempotent(lambda: None).__code__
    limiter_dir = Path(flask_limiter.__file__).parent
    document, expected = _document(), {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        if path not in document["paths"]:
            continue  # a page, not the API
        chain = _wrappers(app.view_functions[rule.endpoint])
        codes = {"conflict"} if any(f.__code__ is idempotent_code for f in chain) else set()
        if any(limiter_dir in Path(f.__code__.co_filename).parents for f in chain):
            codes.add("rate_limited")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if codes:
                expected[(method.lower(), path)] = codes
    assert len(expected) >= 12 and sum("rate_limited" in c for c in expected.values()) >= 3
    problems = [problem for (method, path), codes in expected.items() for problem in _undocumented(document, method, path, codes)]
    assert not problems, "\n".join(problems)


def test_every_code_a_description_names_is_known() -> None:
    problems = _unknown_codes(_document())
    assert not problems, "\n".join(problems)


def test_the_refusal_checks_catch_what_is_missing() -> None:
    document = _document()
    assert not _undocumented_reasons(document) and not _unknown_codes(document)
    edited = copy.deepcopy(document)
    submit = edited["paths"][SUBMIT[1]]["post"]["responses"]
    submit["422"]["description"] = submit["422"]["description"].replace("`pleading`", "pleading")
    submit["409"]["description"] += "\n- `made_up`: a code nobody answers."
    assert any("422 does not name the reason `pleading`" in p for p in _undocumented_reasons(edited))
    assert any("names `made_up`" in p for p in _unknown_codes(edited))
    claims = ("post", "/api/assignments/{assignment_id}/review-claims")
    edited["paths"][claims[1]]["post"]["responses"].pop("429")
    assert _undocumented(edited, *claims, {"rate_limited", "not_found"}) == [f"POST {claims[1]}: 429 does not name `rate_limited`"]


def test_refusals_document_only_and_merge_with_the_generic_422() -> None:
    """Above or below @arguments, the rule list is the 422's description, after the shape; the answer is the view's."""
    from reviews.kernel.api import SHAPE_OR_RULE, Api, Blueprint

    class Body(ma.Schema):
        n = ma.fields.Integer(required=True)

    blp = Blueprint("refusals_probe", __name__, url_prefix="/probe")

    @blp.route("/above", methods=["POST"])
    @blp.refusals(422, invalid_request="n is odd.")
    @blp.arguments(Body)
    @blp.response(201)
    @blp.refusals(409, conflict="One.")
    @blp.refusals(409, already_claimed="Two.")
    def above(body: dict[str, Any]) -> Any:
        return {"n": body["n"]}

    @blp.route("/below", methods=["POST"])
    @blp.arguments(Body)
    @blp.response(201)
    @blp.refusals(422, submission_rejected="Junk.")
    def below(body: dict[str, Any]) -> Any:
        return {"n": body["n"]}

    with pytest.raises(ValueError, match="answers 429, not 409"):
        blp.refusals(409, cooldown="Wait.")

    app = Flask("refusals_probe")
    app.config.update(API_TITLE="probe", API_VERSION="1", OPENAPI_VERSION="3.1.0")
    api = Api(app)
    api.register_blueprint(blp)
    answer = app.test_client().post("/probe/above", json={"n": 3})
    assert (answer.status_code, answer.get_json()) == (201, {"n": 3})
    with app.app_context():
        spec = json.loads(json.dumps(api.spec.to_dict()))
    above_responses = spec["paths"]["/probe/above"]["post"]["responses"]
    assert above_responses["422"]["description"] == f"{SHAPE_OR_RULE}\n- `invalid_request`: n is odd."
    assert above_responses["409"]["description"] == "Conflict:\n- `conflict`: One.\n- `already_claimed`: Two."
    below_422 = spec["paths"]["/probe/below"]["post"]["responses"]["422"]
    assert below_422["description"] == f"{SHAPE_OR_RULE}\n- `submission_rejected`: Junk."
    for response in (above_responses["422"], above_responses["409"], below_422):
        assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_SCHEMA}
