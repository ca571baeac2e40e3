"""The fingerprint index in the production database (PostgreSQL; SQLite for the embedded default)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from detection.similarity import CommonWeighting, FingerprintIndex
from reviews.integrity.models import IndexedDocument, IndexedFingerprint

_SIGN = 1 << 63
_CHUNK = 5000


def to_signed(h: int) -> int:
    """Fingerprints are unsigned 64-bit; SQL BIGINT is signed: the same bits, read as two's complement."""
    return h - (1 << 64) if h >= _SIGN else h


def to_unsigned(h: int) -> int:
    return h + (1 << 64) if h < 0 else h


@dataclass(frozen=True)
class Lookup:
    """What comparing one document with a collection needs to know of the collection, for the document's hashes.

    ``frequencies``: for each hash held by any indexed document, how many hold it. ``postings``: for each hash not
    excluded and held by at most ``weighting.candidate_limit(documents)`` documents, their ids, the hashes in
    ascending order of their signed value and the ids in ascending order (as :meth:`SqlFingerprintIndex.postings`
    lists them). ``documents``: the number of indexed documents, or, when counting them all is not needed, a lower
    bound of it so large that none of these hashes is common in that many: every weight and every candidate
    derived from it is then exactly what the full count gives."""

    documents: int
    frequencies: dict[int, int] = field(default_factory=dict)
    postings: dict[int, list[str]] = field(default_factory=dict)


# One round trip for a document's lookup (PostgreSQL): how many documents hold each hash, the collection size
# counted only as far as the most frequent of them needs (so it costs no more than that hash's postings, however
# large the collection; counted in full with ``exact``, as smooth IDF needs: a LIMIT of NULL is none), and the
# postings of the hashes held by at most the candidate limit (an absolute count when
# the weighting sets one, else the common share). Reads only the primary keys.
_LOOKUP = text(
    """
    WITH frequencies AS (
        SELECT hash, count(*) AS df
        FROM fingerprints
        WHERE scope = :scope AND hash = ANY(CAST(:hashes AS BIGINT[]))
        GROUP BY hash
    ), bound AS (
        SELECT CASE WHEN CAST(:exact AS BOOLEAN) THEN NULL
            ELSE floor(coalesce(max(df), 0) / CAST(:share AS DOUBLE PRECISION))::BIGINT + 2 END AS cap
        FROM frequencies
    ), collection AS (
        SELECT count(*) AS n, (SELECT cap FROM bound) AS cap
        FROM (SELECT 1 FROM fingerprint_documents WHERE scope = :scope LIMIT (SELECT cap FROM bound)) AS documents
    )
    SELECT f.hash, f.df, c.n, c.cap,
        CASE WHEN f.hash = ANY(CAST(:wanted AS BIGINT[]))
            AND f.df <= CASE WHEN CAST(:max_postings AS DOUBLE PRECISION) > 0
                THEN greatest(CAST(:floor AS DOUBLE PRECISION), CAST(:max_postings AS DOUBLE PRECISION))
                ELSE greatest(CAST(:floor AS DOUBLE PRECISION), CAST(:share AS DOUBLE PRECISION) * greatest(c.n, 1)) END
        THEN (SELECT array_agg(p.submission_id ORDER BY p.submission_id) FROM fingerprints AS p WHERE p.scope = :scope AND p.hash = f.hash)
        END AS holders
    FROM frequencies AS f
    CROSS JOIN collection AS c
    ORDER BY f.hash
    """
)

# Adding and removing a document on PostgreSQL, both tables at once. A document not indexed yet (the usual case)
# is added by one statement; one indexed before is removed first.
_ADD_NEW = text(
    """
    WITH document AS (
        INSERT INTO fingerprint_documents (scope, submission_id, fingerprints) VALUES (:scope, :submission_id, :fingerprints)
        ON CONFLICT (scope, submission_id) DO NOTHING
        RETURNING submission_id
    ), postings AS (
        INSERT INTO fingerprints (scope, hash, submission_id)
        SELECT :scope, h, :submission_id FROM unnest(CAST(:hashes AS BIGINT[])) AS h WHERE EXISTS (SELECT 1 FROM document)
    )
    SELECT count(*) FROM document
    """
)
_ADD = text(
    """
    WITH document AS (
        INSERT INTO fingerprint_documents (scope, submission_id, fingerprints) VALUES (:scope, :submission_id, :fingerprints)
    )
    INSERT INTO fingerprints (scope, hash, submission_id)
    SELECT :scope, h, :submission_id FROM unnest(CAST(:hashes AS BIGINT[])) AS h
    """
)
_REMOVE = text(
    """
    WITH document AS (
        DELETE FROM fingerprint_documents WHERE scope = :scope AND submission_id = :submission_id
    )
    DELETE FROM fingerprints WHERE scope = :scope AND submission_id = :submission_id
    """
)


class SqlFingerprintIndex(FingerprintIndex):
    """Postings keyed by (scope, hash); the caller's session and transaction, so an index update commits with
    the check that made it."""

    def __init__(self, session: Session, scope: str) -> None:
        self.session, self.scope = session, scope

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def add(self, doc_id: str, hashes: Iterable[int]) -> None:
        values = sorted({to_signed(h) for h in hashes})
        if self._postgres:
            self.session.flush()  # a textual statement does not autoflush: pending rows it may refer to go first
            params = {"scope": self.scope, "submission_id": doc_id, "fingerprints": len(values), "hashes": values}
            if not self.session.execute(_ADD_NEW, params).scalar_one():
                self.remove(doc_id)
                self.session.execute(_ADD, params)
            return
        self.remove(doc_id)
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            self.session.execute(insert(IndexedFingerprint), [{"scope": self.scope, "hash": h, "submission_id": doc_id} for h in chunk])
        self.session.add(IndexedDocument(scope=self.scope, submission_id=doc_id, fingerprints=len(values)))
        self.session.flush()

    def remove(self, doc_id: str) -> None:
        if self._postgres:
            self.session.flush()  # a textual statement does not autoflush: pending rows it may refer to go first
            self.session.execute(_REMOVE, {"scope": self.scope, "submission_id": doc_id})
            return
        self.session.execute(
            delete(IndexedFingerprint).where(IndexedFingerprint.scope == self.scope, IndexedFingerprint.submission_id == doc_id)
        )
        self.session.execute(delete(IndexedDocument).where(IndexedDocument.scope == self.scope, IndexedDocument.submission_id == doc_id))

    def document_count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(IndexedDocument).where(IndexedDocument.scope == self.scope)) or 0)

    def document_frequency(self, hashes: Iterable[int]) -> dict[int, int]:
        values = [to_signed(h) for h in set(hashes)]
        out: dict[int, int] = {}
        for start in range(0, len(values), _CHUNK):
            rows = self.session.execute(
                select(IndexedFingerprint.hash, func.count())
                .where(IndexedFingerprint.scope == self.scope, IndexedFingerprint.hash.in_(values[start : start + _CHUNK]))
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
                .where(IndexedFingerprint.scope == self.scope, IndexedFingerprint.hash.in_(values[start : start + _CHUNK]))
                .order_by(IndexedFingerprint.hash, IndexedFingerprint.submission_id)
            )
            for h, doc_id in rows:
                found.setdefault(to_unsigned(h), []).append(doc_id)
        return found

    def lookup(self, hashes: Iterable[int], weighting: CommonWeighting, *, excluded: frozenset[int] = frozenset()) -> Lookup:
        """The :class:`Lookup` of a document's ``hashes`` (postings for those not ``excluded``): one query on
        PostgreSQL, whose cost grows with the postings of the hashes rather than with the collection."""
        given = set(hashes)
        if self._postgres and weighting.share > 0:
            found = self._lookup_postgres(given, weighting, excluded)
            if found is not None:
                return found
        documents = self.document_count()
        return Lookup(
            documents,
            self.document_frequency(given),
            self.postings(given - excluded, max_documents=weighting.candidate_limit(documents)),
        )

    def _lookup_postgres(self, given: set[int], weighting: CommonWeighting, excluded: frozenset[int]) -> Lookup | None:
        rows = self.session.execute(
            _LOOKUP,
            {
                "scope": self.scope,
                "hashes": [to_signed(h) for h in given],
                "wanted": [to_signed(h) for h in given - excluded],
                "share": float(weighting.share),
                "floor": float(weighting.floor),
                "max_postings": float(weighting.max_postings),
                # Smooth IDF weighs every shared hash by the collection's exact size: no bound settles it.
                "exact": weighting.smooth,
            },
        ).all()
        if not rows:
            return Lookup(0)  # no hash is indexed: no weights and no candidates, whatever the collection's size
        documents = int(rows[0][2])
        frequencies: dict[int, int] = {}
        postings: dict[int, list[str]] = {}
        for h, df, _, _, holders in rows:
            key = to_unsigned(h)
            frequencies[key] = int(df)
            if holders:
                postings[key] = list(holders)
        if weighting.smooth:
            return Lookup(documents, frequencies, postings)  # counted in full
        most, cap = max(frequencies.values()), int(rows[0][3])
        if documents >= cap and not (weighting.weight(most, documents) == 1.0 and weighting.candidate_limit(documents) >= most):
            return None  # the bound would not settle every weight: count them all
        return Lookup(documents, frequencies, postings)
