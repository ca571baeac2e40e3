"""The fingerprint index in the production database (PostgreSQL; SQLite for the embedded default)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from reviews.integrity.models import IndexedDocument, IndexedFingerprint
from reviews.integrity.similarity import FingerprintIndex

_SIGN = 1 << 63
_CHUNK = 5000


def to_signed(h: int) -> int:
    """Fingerprints are unsigned 64-bit; SQL BIGINT is signed: the same bits, read as two's complement."""
    return h - (1 << 64) if h >= _SIGN else h


def to_unsigned(h: int) -> int:
    return h + (1 << 64) if h < 0 else h


class SqlFingerprintIndex(FingerprintIndex):
    """Postings keyed by (scope, hash); the caller's session and transaction, so an index update commits with
    the check that made it."""

    def __init__(self, session: Session, scope: str) -> None:
        self.session, self.scope = session, scope

    def add(self, doc_id: str, hashes: Iterable[int]) -> None:
        self.remove(doc_id)
        values = sorted({to_signed(h) for h in hashes})
        for start in range(0, len(values), _CHUNK):
            chunk = values[start:start + _CHUNK]
            self.session.execute(insert(IndexedFingerprint), [{"scope": self.scope, "hash": h, "submission_id": doc_id} for h in chunk])
        self.session.add(IndexedDocument(scope=self.scope, submission_id=doc_id, fingerprints=len(values)))
        self.session.flush()

    def remove(self, doc_id: str) -> None:
        self.session.execute(delete(IndexedFingerprint).where(IndexedFingerprint.scope == self.scope, IndexedFingerprint.submission_id == doc_id))
        self.session.execute(delete(IndexedDocument).where(IndexedDocument.scope == self.scope, IndexedDocument.submission_id == doc_id))

    def contains(self, doc_id: str) -> bool:
        return self.session.get(IndexedDocument, (self.scope, doc_id)) is not None

    def document_count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(IndexedDocument).where(IndexedDocument.scope == self.scope)) or 0)

    def document_frequency(self, hashes: Iterable[int]) -> dict[int, int]:
        values = [to_signed(h) for h in set(hashes)]
        out: dict[int, int] = {}
        for start in range(0, len(values), _CHUNK):
            rows = self.session.execute(
                select(IndexedFingerprint.hash, func.count())
                .where(IndexedFingerprint.scope == self.scope, IndexedFingerprint.hash.in_(values[start:start + _CHUNK]))
                .group_by(IndexedFingerprint.hash)
            )
            out.update({to_unsigned(h): int(n) for h, n in rows})
        return out

    def postings(self, hashes: Iterable[int], *, max_documents: int | None = None) -> dict[int, list[str]]:
        frequent: set[int] = set()
        wanted = list(set(hashes))
        if max_documents is not None:
            frequent = {h for h, n in self.document_frequency(wanted).items() if n > max_documents}
        values = [to_signed(h) for h in wanted if h not in frequent]
        found: dict[int, list[str]] = {}
        for start in range(0, len(values), _CHUNK):
            rows = self.session.execute(
                select(IndexedFingerprint.hash, IndexedFingerprint.submission_id)
                .where(IndexedFingerprint.scope == self.scope, IndexedFingerprint.hash.in_(values[start:start + _CHUNK]))
                .order_by(IndexedFingerprint.hash, IndexedFingerprint.submission_id)
            )
            for h, doc_id in rows:
                found.setdefault(to_unsigned(h), []).append(doc_id)
        return found
