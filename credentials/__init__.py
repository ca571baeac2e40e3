"""Signed credentials, offline: Open Badges 3.0 / VC 2.0 documents with eddsa-rdfc-2022 proofs, did:key issuers
and bitstring status lists. Imports nothing of the service."""

from credentials.badge import ResultEntry, achievement_credential
from credentials.errors import CredentialError
from credentials.jsonld import canonize, expand_strict
from credentials.keys import SigningKey, public_key_from_multibase, resolve_key
from credentials.proof import proof_inputs, sign, verify_proof
from credentials.status import (
    STATUS_LIST_BITS,
    bit_is_set,
    decode_status_list,
    encode_status_list,
    new_status_list,
    set_bit,
    status_entry,
    status_list_credential,
)
from credentials.verify import INVALID, REVOKED, STATUS_UNKNOWN, VALID, Check, Verification, verify_credential

__all__ = [
    "INVALID",
    "REVOKED",
    "STATUS_LIST_BITS",
    "STATUS_UNKNOWN",
    "VALID",
    "Check",
    "CredentialError",
    "ResultEntry",
    "SigningKey",
    "Verification",
    "achievement_credential",
    "bit_is_set",
    "canonize",
    "decode_status_list",
    "encode_status_list",
    "expand_strict",
    "new_status_list",
    "proof_inputs",
    "public_key_from_multibase",
    "resolve_key",
    "set_bit",
    "sign",
    "status_entry",
    "status_list_credential",
    "verify_credential",
    "verify_proof",
]
