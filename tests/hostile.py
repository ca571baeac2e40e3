"""The outside probe's hostile inputs, as requests against every operation of the app's URL map.

Shared by the unit sweep (the Flask test client on SQLite, tests/unit/service/test_hostile_input.py) and the
integration sweep (gunicorn over HTTP on PostgreSQL, tests/integration/test_hostile_input_postgres.py): the same
bytes go out both ways. Each ``Attack`` says what must come back: a status (and, on the API, an error code and the
field the details must name), or, for a hostile path id, exactly the answer to an id that does not exist.
"""

from __future__ import annotations

import io
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from werkzeug.routing import Map

from tests.conftest import ASSIGNMENT, Caller, World, essay

NUL_TEXTS = ["a\x00b", "\x00"]
SURROGATE_TEXTS = ["\ud800", "x\udfffy", "\udc00\ud800"]
HOSTILE_TEXTS = NUL_TEXTS + SURROGATE_TEXTS
# Path segments as sent (percent-encoded): a NUL, the UTF-8 bytes of a surrogate, an absurd length.
HOSTILE_IDS = ["a%00b", "%00", "%ED%A0%80", "x" * 1000]
UNKNOWN_ID = "nope"
# The calendar's edges, and moments just outside the years a deadline may take (2000 to 2200).
EDGE_DATES = [
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00Z",
    "1999-12-31T23:59:59Z",
    "2200-12-31T23:59:59-01:00",
    "1970-01-01T00:00:00Z",
]
MULTIPART_PATHS = ("/submissions", "/calibration-samples")
DATE_FIELDS = ("due_at", "review_due_at")


def deep(levels: int, inner: bytes = b"") -> bytes:
    return b"[" * levels + inner + b"]" * levels


# Bodies that must be refused before parsing: 400 invalid_json on every operation.
BOUNDS_BODIES: list[tuple[str, bytes]] = [
    ("100,000-deep array", deep(100_000)),
    ("100,000-deep object", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    ("100,000 unclosed brackets", b"[" * 100_000),
    ("1,000-deep in fields", b'{"title": ' + deep(1000) + b', "text": ' + deep(1000) + b', "scores": {"scope": ' + deep(1000) + b"}}"),
    ("65-deep", deep(65, b"1")),
    ("5,000-digit integer", b'{"title": ' + b"9" * 5000 + b', "score": 1, "limit": 1}'),
    ("5,000-digit negative integer", b'{"scores": {"scope": -' + b"9" * 5000 + b"}}"),
    ("5,000-digit fraction", b'{"score": 0.' + b"3" * 5000 + b"}"),
    ("5,000-digit exponent", b'{"score": 1e' + b"9" * 5000 + b"}"),
    ("NaN", b'{"score": NaN, "scores": {"scope": NaN}}'),
    ("Infinity", b'{"score": Infinity}'),
    ("-Infinity", b'{"scores": {"scope": -Infinity, "risks": 1}}'),
    ("1e999", b'{"score": 1e999, "calibration_share": 1e999}'),
    ("-1.5E+400", b'{"scores": {"scope": -1.5E+400}}'),
]


@dataclass(frozen=True)
class Operation:
    endpoint: str
    method: str
    rule: str
    arguments: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.rule.startswith("/api") or self.rule == "/healthz"

    def path(self, ids: dict[str, str], override: str | None = None) -> str:
        path = self.rule
        for arg in self.arguments:
            path = path.replace(f"<{arg}>", override if override is not None else urllib.parse.quote(ids.get(arg, UNKNOWN_ID), safe=""))
        return path


def operations(url_map: Map) -> list[Operation]:
    """Every operation (rule and method) of the app, but static files."""
    found = []
    for rule in url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append(Operation(rule.endpoint, method, rule.rule, tuple(sorted(rule.arguments))))
    return found


@dataclass
class Attack:
    label: str
    operation: Operation
    caller: str
    path: str
    body: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    statuses: tuple[int, ...] = ()
    code: str | None = None  # the error code an API answer carries (pages answer HTML: the status says it)
    names: str | None = None  # a field the error's details must name
    same_as: Attack | None = None  # a hostile id: answered exactly as this request with an unknown id
    over_http: bool = True  # False: http.client cannot send it (a NUL in a header)

    def describe(self) -> str:
        return f"{self.label}: {self.operation.method} {self.path[:120]} as {self.caller}"


def json_body(value: Any) -> bytes:
    """As a JSON client sends it: a lone surrogate as its escape (\\ud800), a NUL as \\u0000."""
    return json.dumps(value).encode()


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart body; file names go as RFC 2231 ``filename*`` (a raw NUL cannot stand in a header line)."""
    boundary = "hostile-boundary-7f3a"
    out = b""
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode("utf-8", "surrogatepass") + b"\r\n"
    for name, filename, data in files:
        quoted = urllib.parse.quote(filename.encode("utf-8", "surrogatepass"), safe="")
        out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename*=UTF-8''{quoted}\r\n".encode()
        out += b"Content-Type: text/plain\r\n\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def string_mutations(body: Any, texts: list[str]) -> Iterator[tuple[str, str, Any]]:
    """(where, top-level field, body) with each string value and each key of a nested object replaced by each text."""

    def walk(value: Any, top: str | None, where: str) -> Iterator[tuple[str, str, Any]]:
        if isinstance(value, str):
            for text in texts:
                yield where, top or where, text
        elif isinstance(value, dict):
            for key, inner in value.items():
                inner_where = f"{where}.{key}" if where else key
                if top is not None:  # a key of a nested object (comments, scores): hostile keys too
                    for text in texts:
                        yield f"{inner_where} (key)", top, {**value, text: inner}
                for spot, field_name, replaced in walk(inner, top or key, inner_where):
                    yield spot, field_name, {**value, key: replaced}
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                for spot, field_name, replaced in walk(inner, top, f"{where}.{i}"):
                    yield spot, field_name, [*value[:i], replaced, *value[i + 1 :]]

    yield from walk(body, None, "")


def _form_status(op: Operation, multipart_form: bool) -> int:
    """A form's text is judged after its media type: the API takes multipart only where files go (else 415)."""
    writes_api = op.rule.startswith("/api") and op.method in ("POST", "PUT", "PATCH")
    return 415 if writes_api and not (multipart_form and op.rule.endswith(MULTIPART_PATHS)) else 422


def attacks(ops: list[Operation], ids: dict[str, str], bodies: dict[str, tuple[str, Any]]) -> list[Attack]:
    """The hostile set: ``ids`` are real ids by path argument, ``bodies`` the caller and a valid body by endpoint."""
    out: list[Attack] = []
    for op in ops:
        caller, valid = bodies.get(op.endpoint, ("admin", None))
        real = op.path(ids)
        # Bounds on the raw JSON body, whatever the operation.
        for label, raw in BOUNDS_BODIES:
            out.append(Attack(label, op, caller, real, raw, "application/json", statuses=(400,), code="invalid_json"))
        # Text outside a JSON body: the query string, a form, a file name, the Idempotency-Key header.
        out.append(Attack("NUL in a query parameter", op, caller, f"{real}?probe=a%00b", statuses=(422,), code="invalid_request"))
        out.append(Attack("NUL in a query parameter's name", op, caller, f"{real}?pro%00be=1", statuses=(422,), code="invalid_request"))
        status = _form_status(op, multipart_form=True)
        code = "invalid_request" if status == 422 else "unsupported_media_type"
        for label, fields, files in [
            ("NUL in a form field", [("text", "a\x00b"), ("message", "fine")], []),
            ("NUL in a file name", [("text", "fine")], [("files", "a\x00b.txt", b"notes")]),
        ]:
            raw, content_type = multipart(fields, files)
            out.append(Attack(label, op, caller, real, raw, content_type, statuses=(status,), code=code))
        status = _form_status(op, multipart_form=False)
        code = "invalid_request" if status == 422 else "unsupported_media_type"
        out.append(
            Attack(
                "NUL in a url-encoded form field",
                op,
                caller,
                real,
                b"text=a%00b&csrf=x",
                "application/x-www-form-urlencoded",
                statuses=(status,),
                code=code,
            )
        )
        out.append(
            Attack(
                "NUL in Idempotency-Key",
                op,
                caller,
                real,
                headers={"Idempotency-Key": "key\x00"},
                statuses=(422,),
                code="invalid_request",
                over_http=False,
            )
        )
        # Hostile path ids: answered exactly as an id that does not exist (404 not_found on the API).
        if op.arguments:
            raw = json_body(valid) if valid is not None else None
            content_type = "application/json" if valid is not None else None
            for hostile in HOSTILE_IDS:
                unknown = Attack("unknown id", op, caller, op.path({}, UNKNOWN_ID), raw, content_type)
                statuses = (404,) if op.is_api else ()
                code = "not_found" if op.is_api else None
                label = f"path id {hostile[:12]!r}"
                out.append(
                    Attack(label, op, caller, op.path({}, hostile), raw, content_type, statuses=statuses, code=code, same_as=unknown)
                )
        # Hostile text in every string of a valid body (values, and keys of nested objects).
        if valid is not None:
            for where, top, mutated in string_mutations(valid, ["a\x00b", "x\udfffy"]):
                out.append(
                    Attack(
                        f"hostile text at {where}",
                        op,
                        caller,
                        real,
                        json_body(mutated),
                        "application/json",
                        statuses=(422,),
                        code="invalid_request",
                        names=top,
                    )
                )
            # Moments at the calendar's edges, or outside the years a deadline may take.
            for name in DATE_FIELDS:
                if name in valid:
                    for moment in EDGE_DATES:
                        dated = json_body({**valid, name: moment})
                        out.append(
                            Attack(
                                f"{name} {moment}",
                                op,
                                caller,
                                real,
                                dated,
                                "application/json",
                                statuses=(422,),
                                code="invalid_request",
                                names=name,
                            )
                        )
            # A surrogate as raw UTF-8 bytes (not an escape): no strict decoder takes it; a lenient one gives a lone surrogate.
            surrogate = _first_string_replaced(valid, "\ud800")
            if surrogate is not valid:  # a body with a string to put it in
                raw = json.dumps(surrogate, ensure_ascii=False).encode("utf-8", "surrogatepass")
                out.append(Attack("raw surrogate bytes", op, caller, real, raw, "application/json", statuses=(400, 422)))
        # The multipart readers' own JSON (scores, a string field) is bounded as a body is, and named when refused.
        if op.method == "POST" and op.rule.endswith(MULTIPART_PATHS):
            for label, scores in [
                ("1,000-deep", deep(1000).decode()),
                ("5,000-digit", '{"scope": ' + "9" * 5000 + "}"),
                ("NaN", '{"scope": NaN, "risks": 1}'),
                ("1e999", '{"scope": 1e999, "risks": 1}'),
            ]:
                raw, content_type = multipart([("text", "A fine text about a plan."), ("scores", scores)], [])
                out.append(
                    Attack(
                        f"multipart scores {label}",
                        op,
                        caller,
                        real,
                        raw,
                        content_type,
                        statuses=(422,),
                        code="invalid_request",
                        names="scores",
                    )
                )
    return out


def _first_string_replaced(value: Any, text: str) -> Any:
    for _where, _top, mutated in string_mutations(value, [text]):
        return mutated
    return value


# ---------------------------------------------------------------- the scene: a real id for every path argument


@dataclass
class Scene:
    world: World
    ids: dict[str, str]
    callers: dict[str, Caller]
    bodies: dict[str, tuple[str, Any]]


def valid_bodies(world: World) -> dict[str, tuple[str, Any]]:
    """Who calls each operation that takes a JSON body, and a body it accepts (every string field filled)."""
    return {
        "accounts.create_user": ("admin", {"email": "new.person@example.org", "name": "New person"}),
        "courses.create_course": ("admin", {"title": "A course", "slug": "a-course"}),
        "courses.update_course": ("staff", {"title": "Planning 102", "case_lease_hours": 6}),
        "courses.add_member": ("staff", {"user_id": world.outsider.id, "role": "learner"}),
        "courses.create_assignment": (
            "staff",
            {
                **ASSIGNMENT,
                "template": "Start from here.",
                "lineage": "plan-2030",
                "due_at": "2030-06-30T23:59:00Z",
                "review_due_at": "2030-07-07T23:59:00+02:00",
            },
        ),
        "submissions.submit": ("author", {"text": essay(7)}),
        "submissions.add_sample": ("staff", {"text": essay(8), "scores": {"scope": 1, "risks": 2}}),
        "submissions.report_submission": (
            "author",
            {"kind": "other", "message": "Please look.", "review_id": "nope", "criterion_key": "scope"},
        ),
        "allocation.submit_review": (
            "reviewer",
            {"scores": {"scope": 3, "risks": 2}, "comments": {"scope": "Clear."}, "overall_comment": "Solid."},
        ),
        "allocation.report_claimed_item": ("reviewer", {"kind": "junk", "message": "It looks like junk."}),
        "scoring.staff_grade": ("staff", {"scores": {"scope": 1, "risks": 1}, "note": "Fair."}),
        "scoring.correct_sample": ("staff", {"scores": {"scope": 2, "risks": 3}}),
        "courses.update_assignment": ("staff", {"title": "Plan a bigger project", "template": "Start here.", "lineage": "plan-2031"}),
        "moderation.resolve_case": ("mentor", {"action": "dismiss", "note": "Nothing to do.", "review_id": "nope"}),
        "moderation.bulk_cases": ("mentor", {"action": "dismiss", "case_ids": ["nope"], "note": "Duplicates."}),
        "moderation.reopen_case": ("staff", {"note": "Looking at it again."}),
        "moderation.respond_to_case": ("author", {"message": "I wrote every part of it myself."}),
        "moderation.contest_case": ("author", {"message": "The decision ignored my draft history."}),
        "training.grade_training_sample": (
            "author",
            {"sample_id": "nope", "scores": {"scope": 1, "risks": 2}, "comments": {"scope": "Thin."}},
        ),
        "training.add_training_sample": (
            "staff",
            {"text": essay(9), "scores": {"scope": 2, "risks": 1}, "comments": {"scope": "Clear aim.", "risks": "Risks unnamed."}},
        ),
        "training.update_training_sample": ("staff", {"text": essay(10), "comments": {"scope": "A clearer aim."}}),
        "scoring.rate_review": ("author", {"rating": 4, "note": "It showed me the missing step."}),
        "records.put_project_note": ("author", {"annotation": "I planned the garden day.", "shared": True, "text_public": False}),
        "records.create_share": ("author", {"allow_indexing": False}),
    }


def build_scene(world: World) -> Scene:
    """Learner 0's work (with a file) is claimed by learner 1 and reported by its author: a live id of every kind."""
    author, reviewer = world.learners[:2]
    sent = author.post(
        f"/api/assignments/{world.assignment_id}/submissions",
        data={"text": essay(0), "files": (io.BytesIO(b"Appendix: the volunteers' rota."), "appendix.txt")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201, sent.get_json()
    assert world.submit(reviewer, n=1).status_code == 201
    claimed = world.claim(reviewer)
    assert claimed.status_code == 201, claimed.get_json()
    claim = claimed.get_json()
    report = author.post(f"/api/submissions/{sent.get_json()['id']}/reports", json={"kind": "other", "message": "Please look."})
    assert report.status_code == 201, report.get_json()
    ids = {
        "course_id": world.course_id,
        "assignment_id": world.assignment_id,
        "submission_id": sent.get_json()["id"],
        "claim_id": claim["claim_id"],
        "file_id": claim["item"]["files"][0]["id"],
        "case_id": report.get_json()["case_id"],
        "user_id": author.id,
        "secret": "guess",
    }
    callers = {"admin": world.admin, "staff": world.staff, "mentor": world.mentor, "author": author, "reviewer": reviewer}
    return Scene(world, ids, callers, valid_bodies(world))


def check(attack: Attack, status: int, body: bytes, twin: tuple[int, bytes] | None = None) -> None:
    """What every attack must get back: 4xx, its status and code, the field named, or the unknown id's answer."""
    where = attack.describe()
    assert 400 <= status < 500, (where, status, body[:300])
    if attack.statuses:
        assert status in attack.statuses, (where, status, body[:300])
    if attack.operation.is_api:
        error = json.loads(body)["error"]
        assert isinstance(error["message"], str) and len(error["message"]) > 10, where
        if attack.code:
            assert error["code"] == attack.code, (where, error)
        if attack.names:
            named = error["details"].get("fields", {})
            assert any(key == attack.names or key.startswith(f"{attack.names}.") for key in named), (where, error)
    if twin is not None:
        assert status == twin[0], (where, status, twin[0])
        if attack.operation.is_api:
            assert body == twin[1], (where, body[:300], twin[1][:300])
