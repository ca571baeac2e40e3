"""The outside probe, as attacks on every operation (SQLite; the same set runs on PostgreSQL through gunicorn in
tests/integration/test_hostile_input_postgres.py): a NUL or a lone surrogate in any string, file name, query
parameter or path id; JSON nested 100,000 or 1,000 deep; 5,000-digit numbers; NaN and Infinity; dates at the
calendar's edges. Every one is answered 4xx with its own code, never 500 (docs/api.md, Errors)."""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reviews.app import FEATURES
from reviews.kernel import schemas as kernel_schemas
from reviews.kernel.inputs import MAX_JSON_BYTES, NO_SUCH_ID, IdConverter, NumberConverter, is_clean
from tests.conftest import ASSIGNMENT, World, essay
from tests.hostile import Attack, Scene, attacks, build_scene, check, operations


@pytest.fixture
def scene(world: World) -> Scene:
    return build_scene(world)


def send(client: FlaskClient, token: str, attack: Attack) -> Any:
    headers = {"Authorization": f"Bearer {token}", **attack.headers}
    if attack.content_type:
        headers["Content-Type"] = attack.content_type
    return client.open(attack.path, method=attack.operation.method, data=attack.body, headers=headers)


# ---------------------------------------------------------------- every operation, every hostile input


def test_every_operation_answers_every_hostile_input_with_4xx(scene: Scene) -> None:
    world = scene.world
    audit = f"/api/courses/{world.course_id}/audit"
    before = world.staff.get(audit).get_json()["events"]
    ops = operations(world.app.url_map)
    assert len(ops) >= 40, [op.rule for op in ops]
    sent = 0
    for attack in attacks(ops, scene.ids, scene.bodies):
        caller = scene.callers[attack.caller]
        response = send(world.client, caller.token, attack)
        twin = None
        if attack.same_as is not None:
            unknown = send(world.client, caller.token, attack.same_as)
            twin = (unknown.status_code, unknown.get_data())
            sent += 1
        check(attack, response.status_code, response.get_data(), twin)
        sent += 1
    assert sent > 1200, sent
    # Nothing hostile got in: the course's audit trail records nothing new.
    assert world.staff.get(audit).get_json()["events"] == before


def test_every_hostile_path_id_reaches_the_view_as_no_id(app: Flask) -> None:
    """Each rule's arguments use the id converter (a segment that can be no id becomes one that names nothing) or the
    number converter (a number too large for the database matches no route)."""
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if rule.endpoint != "static":
                assert isinstance(converter, IdConverter | NumberConverter), (rule.rule, name)
    converter = IdConverter(app.url_map)
    for hostile in ["a\x00b", "\ud800", "x\udfff", "x" * 201]:
        assert converter.to_python(hostile) == NO_SUCH_ID
    assert converter.to_python("EnUj_ShmJ12n2t_IjwCmWA") == "EnUj_ShmJ12n2t_IjwCmWA"
    client = app.test_client()
    for path in ["/status/99999999999999999999", "/status/2147483648", "/shared/abc/projects/99999999999999999999", "/status/-1"]:
        assert client.get(path).status_code == 404, path


def test_sane_input_at_the_limits_still_goes_through(world: World) -> None:
    """The bounds refuse only what no honest client sends: an escaped surrogate pair is one character, 64 levels
    parse, 100 digits are a number, and deadlines in 2000 and 2200 are deadlines."""
    emoji = world.admin.post("/api/courses", data='{"title": "Plans \\ud83d\\ude00"}', headers={"Content-Type": "application/json"})
    assert emoji.status_code == 201, emoji.get_json()
    assert emoji.get_json()["title"] == "Plans \U0001f600"
    nested = "[" * 63 + "]" * 63
    r = world.admin.post("/api/courses", data=f'{{"title": "T", "extra": {nested}}}', headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "extra" in r.get_json()["error"]["details"]["fields"], r.get_json()
    hundred = "0." + "1" * 99
    for due, review_due in [("2000-01-01T00:00:00Z", "2200-12-31T23:59:59Z"), ("2000-01-01T05:00:00+05:00", "2200-12-31T12:00:00-11:00")]:
        body = f'{{"title": "Dated", "rubric": {json.dumps(ASSIGNMENT["rubric"])}, "calibration_share": {hundred}, "reviews_to_give": 5, '
        body += f'"due_at": "{due}", "review_due_at": "{review_due}"}}'
        created = world.staff.post(f"/api/courses/{world.course_id}/assignments", data=body, headers={"Content-Type": "application/json"})
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["due_at"].startswith("2000-01-01T00:00:00")
    text = essay(3) + " \U0001f600"
    assert world.submit(world.learners[0], text=text).status_code == 201


def test_a_json_body_over_the_bound_is_refused_before_it_is_read(world: World) -> None:
    r = world.admin.post("/api/courses", data=b'{"title": "' + b"x" * MAX_JSON_BYTES + b'"}', headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.get_data()[:300]
    error = r.get_json()["error"]
    assert error["code"] == "file_too_large" and error["details"]["max_bytes"] == MAX_JSON_BYTES
    # The longest text a submission may hold, every character escaped (\u00e9: 6 bytes each), is well within it.
    text = essay(4) + " " + "é" * (world.app.config["MAX_TEXT_CHARS"] - len(essay(4)) - 1)
    body = json.dumps({"text": text}).encode()
    assert len(body) > 6 * 190_000 and len(body) < MAX_JSON_BYTES
    sent = world.learners[0].post(
        f"/api/assignments/{world.assignment_id}/submissions", data=body, headers={"Content-Type": "application/json"}
    )
    assert sent.status_code == 201 or sent.get_json()["error"]["code"] == "submission_rejected", sent.get_json()


def test_the_multipart_readers_and_pages_refuse_hostile_text(world: World) -> None:
    learner = world.learners[0]
    url = f"/api/assignments/{world.assignment_id}/submissions"
    for data in [
        {"text": essay(0) + "\x00"},
        {"text": essay(0), "files": (io.BytesIO(b"notes"), "a\x00.txt")},
        {"text": essay(0), "scores": "[" * 1000 + "]" * 1000},
    ]:
        r = learner.post(url, data=data, content_type="multipart/form-data")
        assert r.status_code == 422, r.get_json()
        assert r.get_json()["error"]["code"] == "invalid_request"
    # A part whose name cannot be read (werkzeug keys it None) is no hostile text: judged as any other body.
    nameless = b'--b\r\nContent-Disposition: form-data; name="\t\x7f%0A\xc2\xa2"\r\n\r\n[null]\r\n--b--\r\n'
    r = learner.post(url, data=nameless, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "submission_rejected", r.get_json()
    r = learner.post(url, json={"text": essay(0) + "\ud800"})
    assert r.status_code == 422 and "text" in r.get_json()["error"]["details"]["fields"]
    assert learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["attempts"] == 0
    # A page form answers the same rule as an HTML page (before its CSRF check: nothing is done either way).
    page = world.client.post(
        f"/assignments/{world.assignment_id}/submit", data={"text": "a\x00b", "csrf": "x"}, headers={"Accept": "text/html"}
    )
    assert page.status_code == 422 and b"NUL" in page.data
    queue = world.client.get(f"/courses/{world.course_id}/escalations?status=open%00", headers={"Accept": "text/html"})
    assert queue.status_code == 422


# ---------------------------------------------------------------- the schemas, as a property


def schema_classes() -> list[type[ma.Schema]]:
    """Every marshmallow schema the service declares (request bodies and queries in routes.py, answers in schemas.py)."""
    modules = [kernel_schemas, importlib.import_module("reviews.kernel.api")]
    for feature in FEATURES:
        for kind in ("routes", "schemas"):
            try:
                modules.append(importlib.import_module(f"reviews.{feature}.{kind}"))
            except ModuleNotFoundError:
                continue
    found = {
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ma.Schema) and value.__module__ == module.__name__
    }
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__name__}")


def request_schemas(app: Flask) -> set[type[ma.Schema]]:
    """The schemas the API loads requests with (smorest's ``arguments``)."""
    out = set()
    for view in app.view_functions.values():
        for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
            schema = parameter["schema"]
            out.add(schema if isinstance(schema, type) else type(schema))
    return out


Build = Callable[[str], Any]


def _sample(field: ma.fields.Field | None) -> Any:
    return 1.0 if isinstance(field, ma.fields.Number) else "x"


def text_spots(field: ma.fields.Field, where: str) -> Iterator[tuple[str, Build]]:
    """(where, build): every place text goes in a field, and how to put a text there."""
    if isinstance(field, ma.fields.String):
        yield where, lambda text: text
    elif isinstance(field, ma.fields.Nested):
        nested = field.schema
        for spot, build in schema_spots(nested):
            wrap = (lambda b: lambda text: [b(text)]) if field.many else (lambda b: b)
            yield f"{where}.{spot}", wrap(build)
    elif isinstance(field, ma.fields.List):
        for spot, build in text_spots(field.inner, f"{where}.0"):
            yield spot, (lambda b: lambda text: [b(text)])(build)
    elif isinstance(field, ma.fields.Dict):
        if field.key_field is not None:
            for spot, build in text_spots(field.key_field, f"{where}.<key>"):
                yield spot, (lambda b: lambda text: {b(text): _sample(field.value_field)})(build)
        if field.value_field is not None:
            for spot, build in text_spots(field.value_field, f"{where}.k"):
                yield spot, (lambda b: lambda text: {"k": b(text)})(build)


def schema_spots(schema: ma.Schema) -> Iterator[tuple[str, Build]]:
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        for spot, build in text_spots(field, key):
            yield spot, (lambda k, b: lambda text: {k: b(text)})(key, build)


def all_text_fields(field: ma.fields.Field) -> Iterator[ma.fields.Field]:
    if isinstance(field, ma.fields.String):
        yield field
    elif isinstance(field, ma.fields.Nested):
        for inner in field.schema.load_fields.values():
            yield from all_text_fields(inner)
    elif isinstance(field, ma.fields.List):
        yield from all_text_fields(field.inner)
    elif isinstance(field, ma.fields.Dict):
        for inner in (field.key_field, field.value_field):
            if inner is not None:
                yield from all_text_fields(inner)


# Request schemas live beside their routes (answers' schemas, in schemas.py, are checked by the test below).
SPOTS = [(cls, spot, build) for cls in schema_classes() if cls.__module__.endswith(".routes") for spot, build in schema_spots(cls())]


def test_every_schema_takes_text_through_the_kernel_field(app: Flask) -> None:
    """marshmallow's own String (and Email) let a NUL and a lone surrogate through to the database."""
    classes = schema_classes()
    assert request_schemas(app) <= set(classes)
    plain = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in classes
        for name, field in cls().load_fields.items()
        for text_field in all_text_fields(field)
        if not isinstance(text_field, kernel_schemas.String | kernel_schemas.Email)
    ]
    assert not plain, f"use reviews.kernel.schemas.String (or Email), not marshmallow's: {plain}"
    assert request_schemas(app) <= {cls for cls in classes if cls.__module__.endswith(".routes")} and len(SPOTS) > 20


HOSTILE_CHARS = st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"])
TEXTS = st.lists(st.one_of(st.text(max_size=6), HOSTILE_CHARS, st.characters(categories=["Cs", "Cc"])), max_size=8).map("".join)


@pytest.mark.parametrize(("schema", "spot", "build"), SPOTS, ids=[f"{cls.__name__}.{spot}" for cls, spot, _ in SPOTS])
@settings(derandomize=True, max_examples=15, deadline=None, database=None)
@given(text=TEXTS)
@example(text="\x00")
@example(text="\ud800")
@example(text="ok \ud83d\ude00 \U0001f600")
def test_schemas_load_clean_text_or_refuse_it(schema: type[ma.Schema], spot: str, build: Build, text: str) -> None:
    """Any text in any string field (value, list item, dict key or value, nested): a clean load, or a ValidationError
    that names the field; never another exception, never a NUL or a lone surrogate loaded."""
    data = build(text)
    try:
        loaded = schema().load(data, partial=True)
    except ma.ValidationError as refused:
        top = spot.split(".")[0]
        assert top in refused.messages, (spot, refused.messages)
        if not is_clean(text):
            assert "NUL character" in json.dumps(refused.messages), (spot, refused.messages)
        return
    assert is_clean(text), (spot, repr(text), loaded)
    assert all(is_clean(value) for value in strings_in(loaded)), (spot, loaded)


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from strings_in(key)
            yield from strings_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from strings_in(inner)
