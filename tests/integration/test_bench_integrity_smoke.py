"""A small run of bench/integrity.py against PostgreSQL (the ``latency`` and ``index_rate_per_s`` keys), and the
equivalences its speed rests on: the index's one-query lookup finds what ``find_candidates`` and ``common_weights``
find, on PostgreSQL and on SQLite."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from detection.fingerprints import PROSE, fingerprints_of, settings_for, tokens_for
from detection.similarity import (
    CommonWeighting,
    InMemoryIndex,
    common_weights,
    find_candidates,
    prepare,
    rank_candidates,
    weights_from_frequencies,
)
from reviews.integrity.index import SqlFingerprintIndex
from reviews.kernel.db import make_engine, normalise_url, utcnow
from reviews.kernel.migrate import alembic_config, upgrade
from reviews.models import Assignment, Course, Submission, User

ROOT = Path(__file__).resolve().parents[2]


def _schema(url: str) -> list[tuple[str, str]]:
    """The fingerprints table's constraints and indexes, as PostgreSQL defines them."""
    with psycopg.connect(url) as conn:
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'fingerprints'::regclass"
        ).fetchall()
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'fingerprints'").fetchall()
    return sorted(constraints + indexes)


def _bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "bench/integrity.py", "--json", *args],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"} if env is None else env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )


@pytest.mark.integration
def test_integrity_bench_measures_the_check_in_postgres(pg_url: str) -> None:
    before = _schema(pg_url)
    done = _bench("--quick", "--latency-only", "--sizes", "200,1000", env={**os.environ, "DATABASE_URL": pg_url})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["latency"]) == {"200", "1000"}, result
    for size, figures in result["latency"].items():
        assert figures["p50_ms"] > 0 and figures["p95_ms"] >= figures["p50_ms"], (size, figures)
        assert figures["unwarmed_p95_ms"] > 0, (size, figures)
        assert figures["copied"] > 0 and figures["copied_recall"] == 1.0, (size, figures)
        assert figures["honest_flagged"] == 0, (size, figures)
    assert result["index_rate_per_s"] > 0
    assert result["latency_ratio_p95"] > 0
    assert result["latency_storage"].startswith("PostgreSQL")
    # The bench left the database as it found it: empty, with the very keys the migrations made.
    assert _schema(pg_url) == before
    with psycopg.connect(pg_url) as conn:
        assert conn.execute(
            "SELECT (SELECT count(*) FROM submissions) + (SELECT count(*) FROM fingerprints) + (SELECT count(*) FROM users)"
        ).fetchone() == (0,)
    command.check(alembic_config(pg_url))


@pytest.mark.integration
def test_integrity_bench_refuses_a_database_that_holds_data(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO courses (id, created_at, title, slug) VALUES ('c1', now(), 'Real course', 'real')")
    done = _bench("--quick", "--latency-only", "--sizes", "10", "--database-url", pg_url)
    assert done.returncode != 0 and "already holds courses" in done.stderr, done.stderr[-2000:]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT title FROM courses").fetchall() == [("Real course",)]


def test_integrity_bench_without_postgres_says_latency_needs_it() -> None:
    done = _bench("--quick", "--latency-only", "--sizes", "50")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["latency"] is None and result["index_rate_per_s"] is None
    assert "PostgreSQL" in result["latency_note"]
    assert result["latency_in_memory"]["50"]["p95_ms"] > 0


# ---------------------------------------------------------------- the lookup the check uses, against the generic path

_WORDS = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "it",
    "that",
    "was",
    "for",
    "on",
    "are",
    "as",
    "with",
    "his",
    "they",
    "at",
    "be",
    "this",
    "have",
    "from",
    "or",
    "one",
    "had",
    "by",
]


def _text(rng: random.Random, n: int = 80) -> str:
    """Words from a small vocabulary, so that many k-grams are common to many texts."""
    return " ".join(rng.choice(_WORDS) for _ in range(n))


@pytest.fixture(params=["sqlite", "postgresql"])
def index_session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'index.db'}"
        upgrade(url)
        engine = make_engine(url)
    else:
        url = request.getfixturevalue("pg_url")
        engine = create_engine(normalise_url(url))
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def test_lookup_finds_what_find_candidates_and_common_weights_find(index_session: Session) -> None:
    session = index_session
    course = Course(title="Course", slug="course")
    session.add(course)
    session.flush()
    assignment = Assignment(course_id=course.id, title="Essay", rubric={"criteria": []})
    session.add(assignment)
    session.flush()
    rng = random.Random(5)
    sql_index = SqlFingerprintIndex(session, f"assignment:{assignment.id}")
    memory = InMemoryIndex()
    excluded = frozenset(prepare("template", _text(random.Random(9), 30)).kgrams)
    for i in range(40):
        author = User(email=f"learner{i}@example.org", name=f"Learner {i}")
        session.add(author)
        session.flush()
        text = _text(rng)
        submission = Submission(assignment_id=assignment.id, author_id=author.id, text=text, content_hash=str(i), created_at=utcnow())
        session.add(submission)
        session.flush()
        hashes = prepare(submission.id, text).hashes - excluded
        sql_index.add(submission.id, hashes)
        memory.add(submission.id, hashes)
    session.flush()
    sql_index.add(submission.id, hashes)  # adding again replaces
    assert sql_index.document_count() == memory.document_count() == 40
    for q in range(12):
        document = prepare("new", _text(rng, 60 + q))
        # The default weighting, and ones under which many fingerprints are common (the collection is counted in full).
        for weighting in (CommonWeighting(), CommonWeighting(share=0.05, floor=1), CommonWeighting(share=0.01, floor=0)):
            lookup = sql_index.lookup(document.hashes, weighting, excluded=excluded)
            assert weights_from_frequencies(lookup.frequencies, lookup.documents, weighting) == common_weights(
                sql_index, document.hashes, weighting
            )
            assert weights_from_frequencies(lookup.frequencies, lookup.documents, weighting) == common_weights(
                memory, document.hashes, weighting
            )
            found = rank_candidates(lookup.postings, document.id, limit=10)
            assert found == find_candidates(sql_index, document, excluded=excluded, weighting=weighting, limit=10)
            everyone = rank_candidates(lookup.postings, document.id, limit=100)
            in_memory = find_candidates(memory, document, excluded=excluded, weighting=weighting, limit=100)
            assert sorted(everyone, key=lambda c: c.doc_id) == sorted(in_memory, key=lambda c: c.doc_id)
    nothing = sql_index.lookup({1, 2, 3}, CommonWeighting())
    assert (nothing.frequencies, nothing.postings) == ({}, {})
    session.rollback()


def test_prepare_winnows_the_fingerprints_fingerprints_of_gives() -> None:
    rng = random.Random(11)
    for text in ["", "one", "one two three", _text(rng, 3), _text(rng, 7), _text(rng, 300), "Ünïcode wörds\u200b and ﬁne ligatures " * 5]:
        assert prepare("d", text).fingerprints == fingerprints_of(tokens_for(text, PROSE), settings_for(PROSE))
