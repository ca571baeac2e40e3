"""The Data Integrity proof with the `eddsa-rdfc-2022` cryptosuite (W3C vc-di-eddsa).

Sign: canonicalise the proof options (with the document's @context, without proofValue) and the document
(without its proof) by RDFC-1.0; sign SHA-256(proof options) || SHA-256(document) with Ed25519; the proofValue is
multibase base58btc of the 64-byte signature. Verify does the same and checks the signature."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials.errors import CredentialError
from credentials.jsonld import MAX_BLANK_NODES, canonize
from credentials.keys import SigningKey, b58decode, b58encode, resolve_key

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"


@dataclass(frozen=True)
class ProofInputs:
    """What the signature covers, kept for tests and for a person who wants to see the work."""

    proof_canonical: str
    document_canonical: str

    @property
    def proof_hash(self) -> bytes:
        return hashlib.sha256(self.proof_canonical.encode()).digest()

    @property
    def document_hash(self) -> bytes:
        return hashlib.sha256(self.document_canonical.encode()).digest()

    @property
    def data(self) -> bytes:
        return self.proof_hash + self.document_hash


def proof_inputs(document: dict[str, Any], options: dict[str, Any], *, max_blank_nodes: int = MAX_BLANK_NODES) -> ProofInputs:
    """Canonical forms of the proof options and of the unsigned document."""
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in options.items() if k != "proofValue"}
    config["@context"] = unsigned.get("@context")
    # The proof options are one node without an id by design: one blank node there is allowed.
    return ProofInputs(
        proof_canonical=canonize(config, max_blank_nodes=1),
        document_canonical=canonize(unsigned, max_blank_nodes=max_blank_nodes),
    )


def sign(
    document: dict[str, Any],
    key: SigningKey,
    *,
    created: str,
    proof_purpose: str = "assertionMethod",
    forbid_blank_nodes: bool = True,
) -> dict[str, Any]:
    """A copy of `document` with an eddsa-rdfc-2022 DataIntegrityProof by `key`. What we issue has no blank nodes
    (every node has an id), so a document with one is refused unless `forbid_blank_nodes` is off."""
    options = {
        "type": PROOF_TYPE,
        "created": created,
        "verificationMethod": key.verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": proof_purpose,
    }
    return sign_with_options(document, key, options, max_blank_nodes=0 if forbid_blank_nodes else MAX_BLANK_NODES)


def sign_with_options(
    document: dict[str, Any], key: SigningKey, options: dict[str, Any], *, max_blank_nodes: int = MAX_BLANK_NODES
) -> dict[str, Any]:
    inputs = proof_inputs(document, options, max_blank_nodes=max_blank_nodes)
    proof = {**options, "proofValue": "z" + b58encode(key.sign(inputs.data))}
    return {**{k: v for k, v in document.items() if k != "proof"}, "proof": proof}


def _bad(message: str) -> CredentialError:
    return CredentialError("bad_proof", message)


def verify_proof(
    document: dict[str, Any],
    *,
    trusted_keys: Mapping[str, Ed25519PublicKey] | None = None,
    max_blank_nodes: int = MAX_BLANK_NODES,
) -> str:
    """Check the document's proof; return its verification method, or raise CredentialError."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise _bad("The document carries no proof (one DataIntegrityProof object is expected).")
    method, value = _check_options(proof)  # before any canonicalising: a proof of another kind is refused at once
    return _verify_signature(method, value, proof_inputs(document, proof, max_blank_nodes=max_blank_nodes), trusted_keys)


def _check_options(proof: dict[str, Any]) -> tuple[str, str]:
    """The proof's verification method and proofValue, once its type, cryptosuite and purpose are ours."""
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise _bad(f"The proof is not a {PROOF_TYPE} with the {CRYPTOSUITE} cryptosuite.")
    if proof.get("proofPurpose") != "assertionMethod":
        raise _bad("The proof's purpose is not assertionMethod.")
    method, value = proof.get("verificationMethod"), proof.get("proofValue")
    if not isinstance(method, str) or not isinstance(value, str) or not value.startswith("z"):
        raise _bad("The proof has no verification method or no base58btc proofValue.")
    return method, value


def verify_inputs(proof: dict[str, Any], inputs: ProofInputs, trusted_keys: Mapping[str, Ed25519PublicKey] | None) -> str:
    """Check `proof` against canonical forms already made from its document; return its verification method."""
    method, value = _check_options(proof)
    return _verify_signature(method, value, inputs, trusted_keys)


def _verify_signature(method: str, value: str, inputs: ProofInputs, trusted_keys: Mapping[str, Ed25519PublicKey] | None) -> str:
    public = resolve_key(method, trusted_keys)
    signature = b58decode(value[1:])
    if len(signature) != 64:
        raise _bad("The proofValue is not a 64-byte Ed25519 signature.")
    try:
        public.verify(signature, inputs.data)
    except InvalidSignature:
        raise _bad("The signature does not match the document: something signed was changed, or another key signed it.") from None
    return method
