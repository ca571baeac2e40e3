"""Ed25519 keys as Multikey strings and `did:key` identifiers, resolved offline.

A public key is written as multibase base58btc (`z...`) of the multicodec ed25519-pub prefix 0xed01 and its 32
bytes: `z6Mk...`; its `did:key` is `did:key:` + that string and its verification method `did:key:z6Mk...#z6Mk...`
(the did:key method, W3C CCG). A private key is multicodec ed25519-priv 0x1300 + the 32-byte seed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from credentials.errors import CredentialError

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"  # 0x1300 as an unsigned varint


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise CredentialError("bad_key", "The value is not base58btc: it holds a character base58 does not use.")
        number = number * 58 + _B58_INDEX[char]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def _multibase(prefix: bytes, raw: bytes) -> str:
    return "z" + b58encode(prefix + raw)


def _from_multibase(text: str, prefix: bytes, what: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("z"):
        raise CredentialError("bad_key", f"The {what} must be multibase base58btc (it starts with 'z').")
    raw = b58decode(text[1:])
    if not raw.startswith(prefix) or len(raw) != len(prefix) + 32:
        raise CredentialError("bad_key", f"The {what} is not an Ed25519 key in Multikey form.")
    return raw[len(prefix) :]


def public_key_from_multibase(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_from_multibase(text, ED25519_PUB, "public key"))


def public_multibase(key: Ed25519PublicKey) -> str:
    return _multibase(ED25519_PUB, key.public_bytes(Encoding.Raw, PublicFormat.Raw))


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key pair. Its repr never shows the private part."""

    private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        if len(seed) != 32:
            raise CredentialError("bad_key", "An Ed25519 private key is 32 bytes.")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_private_multibase(cls, text: str) -> SigningKey:
        return cls.from_seed(_from_multibase(text.strip(), ED25519_PRIV, "private key"))

    @property
    def private_multibase(self) -> str:
        return _multibase(ED25519_PRIV, self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def public_multibase(self) -> str:
        return public_multibase(self.public)

    @property
    def did(self) -> str:
        return "did:key:" + self.public_multibase

    @property
    def verification_method(self) -> str:
        return f"{self.did}#{self.public_multibase}"

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey({self.did})"


def controller_of(verification_method: str) -> str:
    """The DID or URL that controls a verification method: what comes before its fragment."""
    return verification_method.split("#", 1)[0]


def resolve_key(verification_method: str, trusted_keys: Mapping[str, Ed25519PublicKey] | None = None) -> Ed25519PublicKey:
    """The public key behind a verification method: a `did:key` resolves by itself (offline); any other method
    only when the caller trusts it by name."""
    if trusted_keys and verification_method in trusted_keys:
        return trusted_keys[verification_method]
    if verification_method.startswith("did:key:"):
        did_part, _, fragment = verification_method.partition("#")
        multibase = did_part.removeprefix("did:key:")
        if fragment and fragment != multibase:
            raise CredentialError("bad_key", "The did:key verification method names a key other than its own.")
        return public_key_from_multibase(multibase)
    raise CredentialError(
        "bad_key",
        f"The key {verification_method} cannot be resolved without the network; only did:key issuers (and keys "
        "registered with this service) can be checked here.",
    )
