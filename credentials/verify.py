"""Verify a credential offline and say, check by check, what was found.

The checks, in order: `json_ld` (shipped contexts only, every term defined, blank nodes capped), `schema` (the
shape of an Open Badges credential or a status list credential), `signature`, `key` (the proof's key belongs to
the issuer), `dates` (validFrom has come, validUntil has not passed), `status` (its bit in the issuer's status
list, which must itself verify and come from the same issuer). Any failed check makes it invalid; a set bit
revoked; a status list that cannot be had leaves it "status_unknown", never valid. A bad document is reported,
never raised."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials.errors import CredentialError
from credentials.jsonld import expand_strict
from credentials.keys import controller_of
from credentials.proof import proof_inputs, verify_inputs
from credentials.status import bit_is_set, decode_status_list

VALID, REVOKED, INVALID, STATUS_UNKNOWN = "valid", "revoked", "invalid", "status_unknown"

StatusLists = Callable[[str], dict[str, Any] | None]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: could not be checked
    detail: str


@dataclass
class Verification:
    status: str
    checks: list[Check] = field(default_factory=list)
    # What the document says, for a page (before or whatever the checks found): each an {"id", "name"} of strings.
    issuer: dict[str, Any] | None = None
    verification_method: str | None = None
    subject: dict[str, Any] | None = None
    achievement: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "checks": [asdict(check) for check in self.checks]}


def _named(node: Any) -> dict[str, Any] | None:
    """The id and name of a node as strings (an IRI alone is an id); None when it has neither."""
    if isinstance(node, str):
        return {"id": node, "name": None}
    if not isinstance(node, dict):
        return None
    found = {key: node.get(key) if isinstance(node.get(key), str) else None for key in ("id", "name")}
    return found if any(found.values()) else None


def parse_time(value: Any) -> datetime | None:
    """An XML Schema dateTime with a time zone, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _types(node: Any) -> list[str]:
    kinds = node.get("type") if isinstance(node, dict) else None
    return [kinds] if isinstance(kinds, str) else [k for k in kinds or [] if isinstance(k, str)]


def issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    found = issuer.get("id") if isinstance(issuer, dict) else issuer
    return found if isinstance(found, str) else None


def _schema_problem(document: dict[str, Any]) -> str | None:
    kinds = _types(document)
    if "VerifiableCredential" not in kinds:
        return "Its type does not include VerifiableCredential."
    if not isinstance(document.get("id"), str):
        return "It has no id."
    if issuer_id(document) is None:
        return "It names no issuer."
    if parse_time(document.get("validFrom")) is None:
        return "Its validFrom is missing or not a date and time with a time zone."
    if "validUntil" in document and parse_time(document.get("validUntil")) is None:
        return "Its validUntil is not a date and time with a time zone."
    subject = document.get("credentialSubject")
    if "BitstringStatusListCredential" in kinds:
        if not isinstance(subject, dict) or "BitstringStatusList" not in _types(subject):
            return "A status list credential's subject must be a BitstringStatusList."
        return None
    if "OpenBadgeCredential" not in kinds and "AchievementCredential" not in kinds:
        return "Its type does not include OpenBadgeCredential."
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if not isinstance(achievement, dict):
        return "Its subject has no achievement."
    for key in ("id", "name", "criteria"):
        if key not in achievement:
            return f"Its achievement has no {key}."
    return None


def _check_signed(document: dict[str, Any], trusted_keys: Mapping[str, Ed25519PublicKey] | None) -> tuple[list[Check], str | None]:
    """json_ld, schema, signature and key checks; the verification method when the signature holds."""
    checks: list[Check] = []
    proof = document.get("proof")
    inputs = None
    try:
        # The document without its proof and the proof's options are all of it but the proofValue: their
        # canonical forms check every term once and are then what the signature is checked against.
        if isinstance(proof, dict):
            inputs = proof_inputs(document, proof)
        else:
            expand_strict(document)
    except CredentialError as error:
        return [Check("json_ld", False, error.message)], None
    checks.append(Check("json_ld", True, "Only the contexts this service ships; every term is defined."))
    problem = _schema_problem(document)
    if problem:
        return [*checks, Check("schema", False, problem)], None
    checks.append(Check("schema", True, "It has the shape of an Open Badges 3.0 credential."))
    try:
        if not isinstance(proof, dict) or inputs is None:
            raise CredentialError("bad_proof", "The document carries no proof (one DataIntegrityProof object is expected).")
        method = verify_inputs(proof, inputs, trusted_keys)
    except CredentialError as error:
        return [*checks, Check("signature", False, error.message)], None
    checks.append(Check("signature", True, "The eddsa-rdfc-2022 signature matches every signed value."))
    if controller_of(method) != issuer_id(document):
        return [*checks, Check("key", False, "The key that signed it does not belong to the issuer it names.")], None
    checks.append(Check("key", True, f"Signed by the issuer's own key {method}."))
    return checks, method


def _check_dates(document: dict[str, Any], now: datetime) -> Check:
    valid_from, valid_until = parse_time(document.get("validFrom")), parse_time(document.get("validUntil"))
    if valid_from and valid_from > now:
        return Check("dates", False, f"It is not valid before {document['validFrom']}.")
    if valid_until and valid_until <= now:
        return Check("dates", False, f"It expired at {document['validUntil']}.")
    return Check("dates", True, "It is within its dates of validity.")


def _check_status(
    document: dict[str, Any], status_lists: StatusLists, now: datetime, trusted_keys: Mapping[str, Ed25519PublicKey] | None
) -> tuple[Check, bool]:
    """(the status check, revoked?)."""
    entry = document.get("credentialStatus")
    if entry is None:
        return Check("status", True, "It carries no status list: it cannot be revoked."), False
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        return Check("status", False, "Its credentialStatus is not a BitstringStatusListEntry."), False
    url, index = entry.get("statusListCredential"), entry.get("statusListIndex")
    if not isinstance(url, str) or not isinstance(index, str) or not index.isdigit():
        return Check("status", False, "Its status entry has no list URL or no index."), False
    listing = status_lists(url)
    if listing is None:
        return Check("status", None, f"The status list {url} could not be had, so revocation could not be checked."), False
    checks, _ = _check_signed(listing, trusted_keys)
    failed = next((check for check in checks if not check.ok), None)
    if failed or "BitstringStatusListCredential" not in _types(listing):
        why = failed.detail if failed else "It is not a BitstringStatusListCredential."
        return Check("status", False, f"The status list does not verify: {why}"), False
    if issuer_id(listing) != issuer_id(document):
        return Check("status", False, "The status list was published by another issuer."), False
    if not _check_dates(listing, now).ok:
        return Check("status", False, "The status list is outside its dates of validity."), False
    subject = listing["credentialSubject"]
    if subject.get("statusPurpose") != entry.get("statusPurpose"):
        return Check("status", False, "The status list is for another purpose than the credential's entry."), False
    try:
        revoked = bit_is_set(decode_status_list(subject.get("encodedList")), int(index))
    except CredentialError as error:
        return Check("status", False, error.message), False
    if revoked:
        return Check("status", False, f"The issuer has revoked it (bit {index} of {url} is set)."), True
    return Check("status", True, f"Not revoked (bit {index} of {url} is clear)."), False


def verify_credential(
    document: Any,
    *,
    status_lists: StatusLists,
    now: datetime | None = None,
    trusted_keys: Mapping[str, Ed25519PublicKey] | None = None,
) -> Verification:
    """Every check of one credential; `status_lists(url)` gives the status list credential or None."""
    now = now or datetime.now(UTC)
    if not isinstance(document, dict):
        return Verification(INVALID, [Check("json_ld", False, "A credential is a JSON object.")])
    subject = document.get("credentialSubject")
    said = Verification(
        INVALID,
        issuer=_named(document.get("issuer")),
        subject=_named(subject),
        achievement=_named(subject.get("achievement")) if isinstance(subject, dict) else None,
    )
    checks, method = _check_signed(document, trusted_keys)
    said.checks = checks
    if method is None:
        return said
    dates = _check_dates(document, now)
    checks.append(dates)
    status_check, revoked = _check_status(document, status_lists, now, trusted_keys)
    checks.append(status_check)
    if not dates.ok or (status_check.ok is False and not revoked):
        verdict = INVALID
    elif revoked:
        verdict = REVOKED
    elif status_check.ok is None:
        verdict = STATUS_UNKNOWN
    else:
        verdict = VALID
    said.status, said.verification_method = verdict, method
    return said
