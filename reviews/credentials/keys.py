"""The issuer's keys: the private key from the environment (never the database, never a log line), the public
keys in ``issuer_keys`` (the current one signs; retired ones keep verifying what they signed)."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

import credentials
from reviews.credentials.models import IssuerKey
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError


class KeyConfigError(DomainError):
    """The signing key cannot be had or used; the message says what to set or run."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


@dataclass(frozen=True)
class Signer:
    """What issuing needs: the private key (its repr shows only the DID) and its registered public row."""

    key: credentials.SigningKey
    issuer_key_id: str
    did: str
    name: str
    # Retired keys whose private half is still configured (FAIRPEER_RETIRED_SIGNING_KEY_FILES), by issuer key id:
    # each status list is signed by the key that owns it, so revoking what a retired key signed needs that key.
    retired: Mapping[str, credentials.SigningKey] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Signer(did={self.did!r})"

    def key_for(self, issuer_key_id: str) -> credentials.SigningKey:
        if issuer_key_id == self.issuer_key_id:
            return self.key
        if issuer_key_id in self.retired:
            return self.retired[issuer_key_id]
        raise KeyConfigError(
            "retired_key_unavailable",
            "A credential signed by a retired key must be revoked, and its status list can only be signed again by that "
            "key. Add the retired key's file to FAIRPEER_RETIRED_SIGNING_KEY_FILES (comma-separated) and the work is done "
            "on the next try.",
        )

    @property
    def issuer(self) -> dict[str, Any]:
        return {"id": self.did, "name": self.name}


def read_key_file(path: Path) -> str:
    """The private multibase string in ``path``; a file others may read is refused (the key would no longer be secret)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyConfigError(
            "signing_key_missing",
            f"The signing key file {path} does not exist. Run `fairpeer keys create --out {path}` or point "
            "FAIRPEER_SIGNING_KEY_FILE at the key file.",
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyConfigError(
            "signing_key_exposed",
            f"The signing key file {path} may be read by other users (mode {stat.S_IMODE(mode):o}). "
            f"Run `chmod 600 {path}` and start again.",
        )
    return path.read_text().strip()


def configured_key(config: Mapping[str, Any], *, use_default: bool = True) -> credentials.SigningKey | None:
    """The private key the configuration names: FAIRPEER_SIGNING_KEY, else FAIRPEER_SIGNING_KEY_FILE, else (the
    embedded default) the instance folder's key file when it exists; None when there is none."""
    secret = config.get("SIGNING_KEY")
    if secret is not None:
        raw = secret.reveal() if hasattr(secret, "reveal") else str(secret)
    elif config.get("SIGNING_KEY_FILE"):
        raw = read_key_file(Path(config["SIGNING_KEY_FILE"]))
    elif use_default and config.get("DEFAULT_SIGNING_KEY_FILE") and Path(config["DEFAULT_SIGNING_KEY_FILE"]).exists():
        raw = read_key_file(Path(config["DEFAULT_SIGNING_KEY_FILE"]))
    else:
        return None
    return _parse(raw)


def _parse(raw: str) -> credentials.SigningKey:
    try:
        return credentials.SigningKey.from_private_multibase(raw)
    except (credentials.CredentialError, ValueError):
        raise KeyConfigError(
            "signing_key_invalid",
            "The configured signing key is not an Ed25519 private key in multibase form (it starts with z3u2). "
            "Make one with `fairpeer keys create --out FILE`.",
        ) from None


def write_key_file(path: Path, key: credentials.SigningKey) -> None:
    """Write the private key to a new file only its owner may read; an existing file is never overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyConfigError("signing_key_exists", f"{path} exists already; choose another file with --out.") from None
    with os.fdopen(fd, "w") as out:
        out.write(key.private_multibase + "\n")
    os.chmod(path, 0o600)  # whatever the umask said


def current_key(session: Session) -> IssuerKey | None:
    """The newest registered key that is not retired: the one that signs."""
    return session.scalars(
        select(IssuerKey).where(IssuerKey.retired_at.is_(None)).order_by(IssuerKey.created_at.desc(), IssuerKey.id.desc()).limit(1)
    ).first()


def list_keys(session: Session) -> list[IssuerKey]:
    return list(session.scalars(select(IssuerKey).order_by(IssuerKey.created_at, IssuerKey.id)))


def register_key(session: Session, key: credentials.SigningKey, *, retire_others: bool) -> IssuerKey:
    """Record ``key``'s public half (never the private one). ``retire_others``: it becomes the only current key;
    the retired ones still verify what they signed."""
    now = utcnow()
    if retire_others:
        for old in session.scalars(select(IssuerKey).where(IssuerKey.retired_at.is_(None))):
            old.retired_at = now
    row = session.scalars(select(IssuerKey).where(IssuerKey.public_multibase == key.public_multibase)).first()
    if row is None:
        row = IssuerKey(public_multibase=key.public_multibase, did=key.did, created_at=now)
        session.add(row)
    else:
        row.retired_at = None
    session.flush()
    return row


def signer(session: Session, config: Mapping[str, Any]) -> Signer:
    """The configured private key, checked against the registered keys: it must be registered and not retired,
    or nothing is signed (a stale key file after a rotation would otherwise issue under a retired key)."""
    key = configured_key(config)
    if key is None:
        raise KeyConfigError(
            "signing_key_missing",
            "No signing key is configured. Run `fairpeer keys create --out FILE` and set FAIRPEER_SIGNING_KEY_FILE to that file.",
        )
    row = session.scalars(select(IssuerKey).where(IssuerKey.public_multibase == key.public_multibase)).first()
    if row is None:
        raise KeyConfigError(
            "signing_key_unregistered",
            f"The configured signing key ({key.did}) is not registered with this service, so nothing was issued. "
            "Register it with `fairpeer keys create` or `fairpeer keys rotate`, or configure the current key.",
        )
    if row.retired_at is not None:
        raise KeyConfigError(
            "signing_key_retired",
            f"The configured signing key ({key.did}) was retired on {row.retired_at:%Y-%m-%d}, so nothing was issued. "
            "Point FAIRPEER_SIGNING_KEY_FILE at the current key (`fairpeer keys list` shows it).",
        )
    retired: dict[str, credentials.SigningKey] = {}
    for name in [p.strip() for p in str(config.get("RETIRED_SIGNING_KEY_FILES") or "").split(",") if p.strip()]:
        old = _parse(read_key_file(Path(name)))
        old_row = session.scalars(select(IssuerKey).where(IssuerKey.public_multibase == old.public_multibase)).first()
        if old_row is not None:
            retired[old_row.id] = old
    return Signer(key, row.id, key.did, str(config.get("ISSUER_NAME") or "fairpeer"), retired)


def trusted_keys(session: Session) -> dict[str, Ed25519PublicKey]:
    """Every key this service ever registered, by verification method (did#multibase), retired ones included."""
    return {f"{row.did}#{row.public_multibase}": credentials.public_key_from_multibase(row.public_multibase) for row in list_keys(session)}


def registered_since(session: Session, did: str) -> IssuerKey | None:
    return session.scalars(select(IssuerKey).where(IssuerKey.did == did)).first()


def create_key(session: Session, out: Path, *, rotate: bool) -> tuple[credentials.SigningKey, list[IssuerKey]]:
    """A new key written to ``out`` (mode 0600) and registered as the current one. Without ``rotate`` it is refused
    while a current key exists; with it, the keys current until now are retired (they keep verifying what they
    signed) and returned."""
    existing = current_key(session)
    if existing is not None and not rotate:
        raise KeyConfigError(
            "signing_key_exists",
            f"A current signing key is registered already ({existing.did}). Use `fairpeer keys rotate` to replace it.",
        )
    retiring = list(session.scalars(select(IssuerKey).where(IssuerKey.retired_at.is_(None)))) if rotate else []
    key = credentials.SigningKey.generate()
    write_key_file(out, key)
    register_key(session, key, retire_others=rotate)
    return key, retiring


def ensure_default_key(session: Session, config: Mapping[str, Any]) -> str | None:
    """The embedded default (``fairpeer init``): with no key configured, make one in the instance folder (mode 0600)
    and register it; returns a sentence saying what was done, or None when a key is configured."""
    if config.get("SIGNING_KEY") is not None or config.get("SIGNING_KEY_FILE"):
        return None
    path = Path(str(config["DEFAULT_SIGNING_KEY_FILE"]))
    if path.exists():
        key = _parse(read_key_file(path))
        row = session.scalars(select(IssuerKey).where(IssuerKey.public_multibase == key.public_multibase)).first()
        if row is not None:
            return None
        if current_key(session) is not None:
            return (
                f"signing key: {path} is not this database's current key, so credentials will not be issued; "
                "set FAIRPEER_SIGNING_KEY_FILE to the current key (`fairpeer keys list`)."
            )
        register_key(session, key, retire_others=False)
        return f"signing key: registered {key.did} from {path}"
    if current_key(session) is not None:
        return "signing key: none configured here; set FAIRPEER_SIGNING_KEY_FILE to the current key's file to issue credentials."
    key = credentials.SigningKey.generate()
    write_key_file(path, key)
    register_key(session, key, retire_others=False)
    return f"signing key: none configured, so made one in {path} (readable by you only): {key.did}"
