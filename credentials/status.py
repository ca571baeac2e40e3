"""W3C Bitstring Status List v1.0: a revocation list as a signed credential holding a compressed bitstring.

The list is at least 16 KiB (131,072 entries) so that one credential's bit says little about who it belongs to;
`encodedList` is the GZIP-compressed bitstring as multibase base64url without padding ("u..."). Index 0 is the
left-most (most significant) bit of the first byte."""

from __future__ import annotations

import base64
import gzip
import io
from typing import Any

from credentials.errors import CredentialError
from credentials.jsonld import VC_V2

STATUS_LIST_BITS = 131072
# A decoded list larger than this is refused (a gzip bomb offered for verification).
MAX_STATUS_LIST_BYTES = 16 * 1024 * 1024


def new_status_list(bits: int = STATUS_LIST_BITS) -> bytearray:
    return bytearray((bits + 7) // 8)


def encode_status_list(bits: bytes | bytearray) -> str:
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_status_list(text: str) -> bytearray:
    if not isinstance(text, str) or not text.startswith("u"):
        raise CredentialError("bad_status_list", "The status list's encodedList is not multibase base64url ('u...').")
    body = text[1:]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as stream:
            data = stream.read(MAX_STATUS_LIST_BYTES + 1)
    except (ValueError, OSError, EOFError) as error:
        raise CredentialError("bad_status_list", f"The status list cannot be decoded: {error}.") from None
    if len(data) > MAX_STATUS_LIST_BYTES:
        raise CredentialError("bad_status_list", "The status list is larger than any list this service reads.")
    return bytearray(data)


def _position(bits: bytes | bytearray, index: int) -> tuple[int, int]:
    """(byte, mask) of bit `index`: the left-most bit of the first byte is index 0."""
    if not 0 <= index < len(bits) * 8:
        raise CredentialError("bad_status_list", f"The status index {index} is outside the list of {len(bits) * 8}.")
    return index // 8, 0x80 >> (index % 8)


def bit_is_set(bits: bytes | bytearray, index: int) -> bool:
    byte, mask = _position(bits, index)
    return bool(bits[byte] & mask)


def set_bit(bits: bytearray, index: int, value: bool) -> None:
    byte, mask = _position(bits, index)
    bits[byte] = (bits[byte] | mask) if value else (bits[byte] & ~mask & 0xFF)


def status_entry(*, list_url: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    """The credentialStatus of a credential whose bit `index` lives in the list at `list_url`."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    *, url: str, issuer_id: str, issuer_name: str, bits: bytes | bytearray, valid_from: str, purpose: str = "revocation"
) -> dict[str, Any]:
    """The unsigned status list credential published at `url` (the VC 2.0 context alone: the issuer is an id and
    a name, no Open Badges Profile)."""
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": issuer_id, "name": issuer_name},
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_status_list(bits),
        },
    }
