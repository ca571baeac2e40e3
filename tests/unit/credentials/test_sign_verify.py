"""Issue then verify, and every way a credential can be wrong: changed values, undefined terms, contexts we do
not ship, hostile blank nodes, revoked and unknown status, a status list by another issuer, no network."""

from __future__ import annotations

import copy
import socket
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials import (
    CredentialError,
    ResultEntry,
    SigningKey,
    achievement_credential,
    bit_is_set,
    canonize,
    decode_status_list,
    encode_status_list,
    expand_strict,
    new_status_list,
    set_bit,
    sign,
    status_entry,
    status_list_credential,
    verify_credential,
)
from credentials.jsonld import OB_V3, VC_V2

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
KEY = SigningKey.from_seed(bytes(range(32)))
OTHER = SigningKey.from_seed(bytes(range(1, 33)))
LIST_URL = "https://records.example/status/1"


def issuer(key: SigningKey = KEY) -> dict[str, Any]:
    return {"id": key.did, "name": "Example Academy"}


def credential(key: SigningKey = KEY, index: int = 7, **changes: Any) -> dict[str, Any]:
    doc = achievement_credential(
        credential_id="urn:uuid:0b5c0e7e-1b5e-4c39-9a43-2c6bd1d7f0a1",
        issuer=issuer(key),
        valid_from="2026-11-30T10:00:00Z",
        subject_id="urn:uuid:5a1c8f2e-0d4f-4e7b-8a8e-7f3f0f6f2b11",
        subject_name="Ada Lovelace",
        achievement={
            "id": "urn:uuid:9f0e3a2b-6c4d-4b1a-8e7f-1a2b3c4d5e6f",
            "name": "A short story",
            "description": "Write a short story of 1,500 words.",
            "criteria": {"id": "urn:uuid:9f0e3a2b-6c4d-4b1a-8e7f-1a2b3c4d5e6f#criteria", "narrative": "Peer graded."},
        },
        results=[
            ResultEntry("score", "Calibrated score", "RawScore", "8.4", "0", "10"),
            ResultEntry("reviews", "Calibrated peer reviews", "RawScore", "4"),
        ],
        status=status_entry(list_url=LIST_URL, index=index),
    )
    doc.update(changes)
    return sign(doc, key, created="2026-11-30T10:00:01Z")


def status_list(bits: bytearray, key: SigningKey = KEY) -> dict[str, Any]:
    return sign(
        status_list_credential(
            url=LIST_URL, issuer_id=key.did, issuer_name="Example Academy", bits=bits, valid_from="2026-11-01T00:00:00Z"
        ),
        key,
        created="2026-11-01T00:00:00Z",
    )


CLEAR = status_list(new_status_list())


def verify(doc: Any, lists: dict[str, dict[str, Any]] | None = None) -> Any:
    known = {LIST_URL: CLEAR} if lists is None else lists
    return verify_credential(doc, status_lists=known.get, now=NOW)


def test_issue_then_verify_is_valid_with_every_check_passed() -> None:
    result = verify(credential())
    assert result.status == "valid"
    assert [(c.name, c.ok) for c in result.checks] == [
        ("json_ld", True),
        ("schema", True),
        ("signature", True),
        ("key", True),
        ("dates", True),
        ("status", True),
    ]
    assert result.issuer == {"id": KEY.did, "name": "Example Academy"}
    assert result.subject == {"id": "urn:uuid:5a1c8f2e-0d4f-4e7b-8a8e-7f3f0f6f2b11", "name": "Ada Lovelace"}
    assert result.achievement == {"id": "urn:uuid:9f0e3a2b-6c4d-4b1a-8e7f-1a2b3c4d5e6f", "name": "A short story"}
    assert result.verification_method == KEY.verification_method


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    "path, value",
    [
        (("credentialSubject", "result", 0, "value"), "9.9"),
        (("credentialSubject", "achievement", "resultDescription", 0, "valueMax"), "9"),
        (("credentialSubject", "achievement", "name"), "A long novel"),
        (("name",), "Another badge"),
        (("validFrom",), "2026-11-29T10:00:00Z"),
        (("issuer", "name"), "Another Academy"),
        (("issuer", "id"), OTHER.did),
        (("credentialSubject", "id"), "urn:uuid:00000000-0000-4000-8000-000000000000"),
        (("credentialSubject", "name"), "Grace Hopper"),
        (("credentialSubject", "result", 0, "resultDescription"), "urn:uuid:9f0e3a2b-6c4d-4b1a-8e7f-1a2b3c4d5e6f#result-reviews"),
        (("credentialSubject", "achievement", "criteria", "narrative"), "Self graded."),
        (("validUntil",), "2030-01-01T00:00:00Z"),
        (("credentialStatus", "statusListCredential"), "https://records.example/status/2"),
        (("credentialStatus", "statusListIndex"), "8"),
    ],
)
def test_changing_any_signed_value_makes_it_invalid(path: tuple[Any, ...], value: Any) -> None:
    result = verify(_set(credential(), path, value))
    assert result.status == "invalid"
    assert any(c.ok is False and c.name in {"signature", "key"} for c in result.checks), result.checks


def test_a_credential_resigned_by_another_key_names_the_wrong_issuer() -> None:
    forged = sign({k: v for k, v in credential().items() if k != "proof"}, OTHER, created="2026-11-30T10:00:01Z")
    result = verify(forged)
    assert result.status == "invalid"
    assert result.checks[-1].name == "key"


def test_an_undefined_term_is_refused_at_issue_and_at_verify() -> None:
    unsigned = {k: v for k, v in credential().items() if k != "proof"}
    with pytest.raises(CredentialError) as refused:
        sign({**unsigned, "sneaky": "not signed"}, KEY, created="2026-11-30T10:00:01Z")
    assert refused.value.code == "undefined_term"
    nested = _set(unsigned, ("credentialSubject", "result", 0, "grade"), "A+")
    with pytest.raises(CredentialError, match="grade"):
        sign(nested, KEY, created="2026-11-30T10:00:01Z")
    with pytest.raises(CredentialError) as bad_type:
        expand_strict({**unsigned, "type": ["VerifiableCredential", "MadeUpCredential"]})
    assert bad_type.value.code == "undefined_term"
    # Added after signing: the signature would still hold (the term is dropped), so verify refuses it first.
    result = verify({**credential(), "sneaky": "added later"})
    assert result.status == "invalid"
    assert result.checks[0].name == "json_ld" and "sneaky" in result.checks[0].detail


def test_a_context_not_shipped_is_refused_without_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    doc = credential()
    doc["@context"] = [VC_V2, OB_V3, "https://example.org/evil.jsonld"]
    result = verify(doc)
    assert result.status == "invalid"
    assert "example.org/evil.jsonld" in result.checks[0].detail
    with pytest.raises(CredentialError) as refused:
        canonize({"@context": {"@import": "https://example.org/evil.jsonld"}, "@id": "urn:x:1"})
    assert refused.value.code == "context_not_shipped"


def test_a_context_another_caller_cached_does_not_get_past_the_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyld import jsonld
    from pyld.resolved_context import ResolvedContext

    evil = "https://example.org/evil.jsonld"
    forged = {"static": [ResolvedContext({"@vocab": "https://example.org/vocab#"})]}
    monkeypatch.setitem(jsonld._resolved_context_cache, evil, forged)
    doc = {k: v for k, v in credential().items() if k != "proof"}
    with pytest.raises(CredentialError) as refused:
        sign({**doc, "@context": [VC_V2, OB_V3, evil], "sneaky": 1}, KEY, created="2026-11-30T10:00:01Z")
    assert refused.value.code == "context_not_shipped"


def poison_graph(nodes: int) -> dict[str, Any]:
    """Blank nodes all linked to each other with the same predicate: RDFC-1.0's N-degree hashing explores
    permutations of them (the "poison graph" of the canonicalisation spec's security section)."""
    graph = [{"@id": f"_:b{i}", "https://schema.org/knows": [{"@id": f"_:b{j}"} for j in range(nodes) if j != i]} for i in range(nodes)]
    return {"@context": VC_V2, "@graph": graph}


def test_a_hostile_blank_node_document_is_refused_within_a_second() -> None:
    for nodes, code in [(200, "document_too_large"), (40, "too_many_blank_nodes"), (12, "canonicalisation_too_slow")]:
        started = time.monotonic()
        with pytest.raises(CredentialError) as refused:
            canonize(poison_graph(nodes))
        assert time.monotonic() - started < 1.0
        assert refused.value.code == code
    started = time.monotonic()
    result = verify({**poison_graph(12), "proof": credential()["proof"]})
    assert time.monotonic() - started < 1.0
    assert result.status == "invalid"
    assert [(c.name, c.ok) for c in result.checks] == [("json_ld", False)]
    assert "longer than" in result.checks[0].detail
    result = verify({**poison_graph(40), "proof": credential()["proof"]})
    assert "40 blank nodes" in result.checks[0].detail
    with pytest.raises(CredentialError) as huge:
        canonize(poison_graph(80))
    assert huge.value.code == "document_too_large"


@pytest.mark.parametrize("depth", [41, 300, 3000])
def test_a_deeply_nested_document_is_refused_before_any_work(depth: int) -> None:
    node: dict[str, Any] = {"id": "urn:x:end"}
    for level in range(depth):
        node = {"id": f"urn:x:{level}", "https://schema.org/knows": node}
    result = verify({**credential(), "credentialSubject": node})
    assert [(c.name, c.ok) for c in result.checks] == [("json_ld", False)]
    assert "nested more than 40 levels" in result.checks[0].detail


def test_what_we_issue_has_no_blank_nodes() -> None:
    unsigned = {k: v for k, v in credential().items() if k != "proof"}
    assert "_:" not in canonize(unsigned, max_blank_nodes=0)
    with pytest.raises(CredentialError) as refused:
        sign(_set(unsigned, ("credentialSubject", "achievement", "criteria"), {"narrative": "no id"}), KEY, created="2026-11-30T10:00:01Z")
    assert refused.value.code == "has_blank_nodes"


def test_dates_outside_validity_are_invalid() -> None:
    early = verify_credential(credential(), status_lists={LIST_URL: CLEAR}.get, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert early.status == "invalid" and early.checks[-2].name == "dates"
    expired = credential(validUntil="2026-12-01T00:00:00Z")
    assert verify(expired).status == "invalid"
    lasting = credential(validUntil="2027-12-01T00:00:00Z")
    assert verify(lasting).status == "valid"
    assert verify(_set(lasting, ("validUntil",), "2028-12-01T00:00:00Z")).status == "invalid"


def test_status_list_bits_round_trip_in_the_specs_order() -> None:
    bits = new_status_list()
    assert len(bits) * 8 == 131072
    set_bit(bits, 0, True)
    set_bit(bits, 13, True)
    assert bits[0] == 0x80 and bits[1] == 0x04
    decoded = decode_status_list(encode_status_list(bits))
    assert decoded == bits and bit_is_set(decoded, 13) and not bit_is_set(decoded, 12)
    set_bit(decoded, 13, False)
    assert not bit_is_set(decoded, 13)
    assert encode_status_list(bits).startswith("u") and "=" not in encode_status_list(bits)


def test_a_set_bit_revokes_and_a_missing_list_is_status_unknown() -> None:
    bits = new_status_list()
    set_bit(bits, 7, True)
    revoked = verify(credential(), {LIST_URL: status_list(bits)})
    assert revoked.status == "revoked"
    assert verify(credential(index=8), {LIST_URL: status_list(bits)}).status == "valid"
    unknown = verify(credential(), {})
    assert unknown.status == "status_unknown"
    assert unknown.checks[-1].ok is None and "could not be had" in unknown.checks[-1].detail


def test_a_status_list_by_another_issuer_or_tampered_is_invalid() -> None:
    assert verify(credential(), {LIST_URL: status_list(new_status_list(), OTHER)}).status == "invalid"
    tampered = copy.deepcopy(CLEAR)
    bits = new_status_list()
    set_bit(bits, 9, True)
    tampered["credentialSubject"]["encodedList"] = encode_status_list(bits)
    assert verify(credential(), {LIST_URL: tampered}).status == "invalid"


def test_a_gzip_bomb_status_list_is_refused() -> None:
    import base64
    import gzip

    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(17 * 1024 * 1024))).decode().rstrip("=")
    with pytest.raises(CredentialError) as refused:
        decode_status_list(bomb)
    assert refused.value.code == "bad_status_list"


@pytest.mark.parametrize("garbage", [None, [], "text", {"@context": 5}, {"@context": VC_V2}, {"@context": VC_V2, "proof": 1}])
def test_garbage_is_reported_invalid_not_raised(garbage: Any) -> None:
    assert verify(garbage).status == "invalid"


def test_verify_of_a_full_credential_and_its_list_uses_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    assert verify(credential()).status == "valid"


def test_issue_and_verify_are_fast_once_the_contexts_are_cached() -> None:
    unsigned = {k: v for k, v in credential().items() if k != "proof"}
    signed = credential()

    def p95(action: Any) -> float:
        took = []
        for _ in range(40):
            started = time.perf_counter()
            action()
            took.append(time.perf_counter() - started)
        return sorted(took)[int(len(took) * 0.95)]

    assert p95(lambda: sign(unsigned, KEY, created="2026-11-30T10:00:01Z")) < 0.1
    assert p95(lambda: verify(signed)) < 0.1


def test_the_private_key_never_shows_in_its_repr() -> None:
    assert KEY.private_multibase not in repr(KEY) and KEY.did in repr(KEY)
    assert SigningKey.from_private_multibase(KEY.private_multibase).did == KEY.did
