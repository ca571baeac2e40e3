"""1EdTech's Open Badges 3.0 eddsa-rdfc-2022 test vector, reproduced exactly: both canonical forms, both hashes,
the signature and the proofValue (Ed25519 is deterministic). The expected values are copied from the vector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credentials import SigningKey, proof_inputs, verify_credential
from credentials.keys import public_key_from_multibase, public_multibase
from credentials.proof import sign_with_options

DATA = Path(__file__).parent / "data"
VECTOR = json.loads((DATA / "ob-eddsa-rdfc-2022-vector.json").read_text())
SIGNED = VECTOR["signed_credential"]
UNSIGNED = {k: v for k, v in SIGNED.items() if k != "proof"}
OPTIONS = {k: v for k, v in SIGNED["proof"].items() if k != "proofValue"}
KEY = SigningKey.from_seed(bytes.fromhex(VECTOR["private_key_hex"])[:32])


def test_the_key_pair_and_its_multikey() -> None:
    assert KEY.public_multibase == VECTOR["public_key_multibase"]
    assert public_multibase(public_key_from_multibase(VECTOR["public_key_multibase"])) == VECTOR["public_key_multibase"]
    assert KEY.public_multibase.startswith("z6Mk")


def test_both_canonical_forms_byte_for_byte() -> None:
    inputs = proof_inputs(UNSIGNED, OPTIONS)
    assert inputs.document_canonical == (DATA / "ob-document-canon.nq").read_text()
    assert inputs.proof_canonical == (DATA / "ob-proof-canon.nq").read_text()


def test_both_hashes_and_the_signature() -> None:
    inputs = proof_inputs(UNSIGNED, OPTIONS)
    assert inputs.document_hash.hex() == VECTOR["document_hash_hex"]
    assert inputs.proof_hash.hex() == VECTOR["proof_hash_hex"]
    assert KEY.sign(inputs.data).hex() == VECTOR["signature_hex"]


def test_the_proof_value_is_reproduced() -> None:
    resigned = sign_with_options(UNSIGNED, KEY, OPTIONS)
    assert resigned["proof"]["proofValue"] == SIGNED["proof"]["proofValue"]
    assert resigned == SIGNED


def test_the_vectors_credential_verifies_with_its_key() -> None:
    # The vector's issuer is an https URL, not a did:key: a verifier offline trusts that key only by name.
    method = SIGNED["proof"]["verificationMethod"]
    result = verify_credential(SIGNED, status_lists=lambda url: None, trusted_keys={method: KEY.public})
    assert result.status == "valid", result.checks
    untrusted = verify_credential(SIGNED, status_lists=lambda url: None)
    assert untrusted.status == "invalid"
    assert [c.name for c in untrusted.checks if c.ok is False] == ["signature"]
    assert "cannot be resolved without the network" in untrusted.checks[-1].detail


@pytest.mark.parametrize("field", ["name", "validFrom"])
def test_the_vectors_credential_changed_fails(field: str) -> None:
    method = SIGNED["proof"]["verificationMethod"]
    changed = {**SIGNED, field: "2011-01-01T00:00:00Z" if field == "validFrom" else "Teamwork Badge!"}
    assert verify_credential(changed, status_lists=lambda url: None, trusted_keys={method: KEY.public}).status == "invalid"
