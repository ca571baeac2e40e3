"""Copy detection in the service: index every accepted submission, compare a new one with the others, and open
cases with the matched spans and the provenance (was the later author shown the earlier work first?)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detection.fingerprints import CODE, PROSE, kind_for_filename
from detection.similarity import (
    CANDIDATE_POSTINGS,
    CODE_WEIGHTING,
    CommonWeighting,
    Document,
    Match,
    candidate_pairs,
    collection_weights,
    compare,
    prepare,
    rank_candidates,
    template_hashes,
    weights_from_frequencies,
)
from reviews.allocation.models import Exposure
from reviews.courses.models import Assignment
from reviews.integrity.index import SqlFingerprintIndex
from reviews.kernel.db import utcnow
from reviews.moderation.services import open_case
from reviews.submissions.models import CANCELLED, LEARNER_WORK, RejectedAttempt, StoredFile, Submission

# Candidates compared in full per new submission (the index ranks them by shared fingerprints).
MAX_CANDIDATES = 10


def scope_of(assignment: Assignment) -> str:
    """One index per assignment, shared by the runs of the same assignment across course runs (its lineage)."""
    return f"lineage:{assignment.lineage}" if assignment.lineage else f"assignment:{assignment.id}"


def _comparable_assignments(session: Session, assignment: Assignment) -> list[str]:
    if not assignment.lineage:
        return [assignment.id]
    return list(session.scalars(select(Assignment.id).where(Assignment.lineage == assignment.lineage)))


def with_full_texts(session: Session, *criteria: Any) -> dict[str, tuple[Submission, str]]:
    """The submissions matching ``criteria``, each with the text the copy check compares (:class:`Work`: the text
    box and its files' text, or a program's source files), read in one query; match spans point into it."""
    return {key: (submission, work.text) for key, (submission, work) in works(session, *criteria).items()}


@dataclass(frozen=True)
class Work:
    """What the copy check compares of a submission, read as ``fairpeer similarity`` reads a folder: source code
    when every attached file is a program's source (the files joined in name order, the text box left out; the
    language is the first file's extension), else prose (the text box and the text of its files)."""

    text: str
    kind: str = PROSE
    language: str = ""


def work_of(text: str, files: list[tuple[str, str]]) -> Work:
    """The :class:`Work` of a submission with this text and these (file name, extracted text) files."""
    if files and all(kind_for_filename(name) == CODE for name, _extracted in files):
        ordered = sorted(files, key=lambda file: file[0])
        language = PurePath(ordered[0][0]).suffix.lower().lstrip(".")
        return Work("\n".join(extracted for _name, extracted in ordered if extracted), CODE, language)
    return Work("\n".join([text, *(extracted for _name, extracted in files if extracted)]))


def works(session: Session, *criteria: Any) -> dict[str, tuple[Submission, Work]]:
    """The submissions matching ``criteria``, each with its :class:`Work`, read in one query."""
    rows = session.execute(
        select(Submission, StoredFile.filename, StoredFile.extracted_text)
        .outerjoin(StoredFile, StoredFile.submission_id == Submission.id)
        .where(*criteria)
        .order_by(StoredFile.created_at, StoredFile.id)
    )
    found: dict[str, tuple[Submission, list[tuple[str, str]]]] = {}
    for submission, filename, extracted in rows:
        files = found.setdefault(submission.id, (submission, []))[1]
        if filename is not None:
            files.append((filename, extracted or ""))
    return {key: (submission, work_of(submission.text, files)) for key, (submission, files) in found.items()}


def _prepared(doc_id: str, work: Work, kind: str | None = None, language: str | None = None) -> Document:
    """The work prepared for comparison (as ``kind`` and ``language`` when given: an exact copy sent as another
    kind of file is compared as the new submission is)."""
    return prepare(doc_id, work.text, kind or work.kind, language=work.language if language is None else language)


def _scope(assignment: Assignment, kind: str) -> str:
    """Programs are indexed apart from prose: their fingerprints are k-grams of another token stream, and the
    common-fingerprint weights are relative to the number of programs."""
    return scope_of(assignment) + (":code" if kind == CODE else "")


def _weighting(kind: str) -> CommonWeighting:
    """As the batch sweep weighs common fingerprints (smooth IDF for code), with candidates looked up through
    fingerprints held by at most CANDIDATE_POSTINGS submissions (an absolute count, not a share: a cluster of
    copies in a small assignment is not mistaken for a common idiom)."""
    base = CODE_WEIGHTING if kind == CODE else CommonWeighting()
    return replace(base, max_postings=CANDIDATE_POSTINGS)


def _indexed(document: Document) -> frozenset[int]:
    """What a document puts in the index: a program every k-gram (and note), so that the weights of all its k-grams
    are known, as in the batch sweep; prose its winnowed fingerprints."""
    return document.all_hashes if document.kind == CODE else document.hashes


def provenance(session: Session, viewer_id: str, submission_id: str, before: Any) -> dict[str, Any]:
    """Whether the viewer had been shown that submission before ``before``, and when first."""
    shown = session.scalar(
        select(Exposure.created_at)
        .where(Exposure.viewer_id == viewer_id, Exposure.submission_id == submission_id, Exposure.created_at <= before)
        .order_by(Exposure.created_at)
        .limit(1)
    )
    return {"shown_before_submitting": shown is not None, "first_shown_at": shown.isoformat() if shown else None}


def _excluded(assignment: Assignment, kind: str = PROSE, language: str = "") -> frozenset[int]:
    if kind == CODE:
        # A program's template is the starter code and the prompt (as `fairpeer similarity --prompt`); no rubric.
        return _template_hashes((assignment.prompt, assignment.template), CODE, language)
    rubric = " ".join(f"{c['title']} {c.get('description', '')}" for c in assignment.criteria)
    return _template_hashes((assignment.prompt, assignment.template, rubric))


@lru_cache(maxsize=256)
def _template_hashes(texts: tuple[str | None, ...], kind: str = PROSE, language: str = "") -> frozenset[int]:
    """Kept per text: every check of an assignment's submissions excludes the same template."""
    return template_hashes(texts, kind, language=language)


def _evidence(session: Session, earlier: Submission, later: Submission, match: Match, method: str) -> dict[str, Any]:
    return {
        "score": round(match.score, 4),
        "containment_earlier": round(match.containment_a, 4),
        "containment_later": round(match.containment_b, 4),
        "method": method,
        "earlier": {"submission_id": earlier.id, "author_id": earlier.author_id, "created_at": earlier.created_at.isoformat()},
        "later": {"submission_id": later.id, "author_id": later.author_id, "created_at": later.created_at.isoformat()},
        "provenance": provenance(session, later.author_id, earlier.id, later.created_at),
        # Character ranges: "a" in the earlier submission's text, "b" in the later one's.
        "spans": [span.as_json() for span in match.spans[:50]],
    }


def _open_similarity_case(session: Session, assignment: Assignment, later: Submission, found: list[tuple[Submission, Match, str]]) -> None:
    """One case per copy: the closest earlier work is its pair, the other earlier works it matched are listed
    (one copy of two earlier attempts, or of two learners, used to open a case for each)."""
    found = sorted(found, key=lambda item: (-item[1].score, item[0].created_at, item[0].id))
    earlier, match, method = found[0]
    evidence = _evidence(session, earlier, later, match, method)
    evidence["also_matched"] = [
        {"submission_id": other.id, "author_id": other.author_id, "created_at": other.created_at.isoformat(), "score": round(m.score, 4)}
        for other, m, _method in found[1:]
    ]
    open_case(
        session,
        course_id=assignment.course_id,
        assignment_id=assignment.id,
        kind="similarity",
        subject_type="submission",
        subject_ids=[earlier.id, later.id, *(other.id for other, _m, _method in found[1:])],
        submission_id=later.id,
        evidence=evidence,
        dedupe_key=f"similarity:{later.id}",
    )


def matched_passages(session: Session, earlier_id: str, later_id: str) -> tuple[str, str, Match] | None:
    """Both full texts of a pair (as the check compared them) and their match, with the matched spans."""
    loaded = works(session, Submission.id.in_([earlier_id, later_id]))
    if earlier_id not in loaded or later_id not in loaded:
        return None
    (earlier, earlier_work), (_later, later_work) = loaded[earlier_id], loaded[later_id]
    assignment = session.get_one(Assignment, earlier.assignment_id)
    kind, language = later_work.kind, later_work.language
    match = compare(
        _prepared(earlier_id, earlier_work, kind, language),
        _prepared(later_id, later_work),
        excluded=_excluded(assignment, kind, language),
    )
    return earlier_work.text, later_work.text, match


def check_submission(session: Session, submission_id: str, threshold: float = 0.35) -> int:
    """Compare a new submission with every earlier one by other learners (exact copies by hash, near copies
    through the fingerprint index), open one ``similarity`` case for the matches at or above ``threshold``, and
    index it. Idempotent: a checked submission is stamped, and its case is keyed by the submission.

    A program (:class:`Work`) is compared as ``fairpeer similarity`` compares it within the submissions so far:
    greedy string tiling with the notes, its k-grams weighted by smooth IDF over the programs of the assignment
    (this one included), scored by the mean and max of the two containments."""
    loaded = works(session, Submission.id == submission_id).get(submission_id)
    if loaded is None:
        return 0
    submission, work = loaded
    if submission.similarity_checked_at is not None or submission.kind != LEARNER_WORK:
        return 0
    assignment = session.get_one(Assignment, submission.assignment_id)
    document = _prepared(submission.id, work)
    excluded = _excluded(assignment, work.kind, work.language)
    index = SqlFingerprintIndex(session, _scope(assignment, work.kind))
    found: dict[str, tuple[Submission, Match, str]] = {}

    exact = works(
        session,
        Submission.assignment_id.in_(_comparable_assignments(session, assignment)),
        Submission.content_hash == submission.content_hash,
        Submission.author_id != submission.author_id,
        Submission.kind == LEARNER_WORK,
        Submission.id != submission.id,
        Submission.created_at <= submission.created_at,
    )
    for earlier, earlier_work in sorted(exact.values(), key=lambda loaded: (loaded[0].created_at, loaded[0].id)):
        earlier_document = _prepared(earlier.id, earlier_work, work.kind, work.language)
        found[earlier.id] = (earlier, compare(earlier_document, document, excluded=excluded), "exact")

    # One lookup serves both the candidates (postings of the uncommon fingerprints) and the weights of the common
    # ones: what find_candidates and common_weights would find, in one query on PostgreSQL.
    weighting = _weighting(work.kind)
    indexed = _indexed(document)
    lookup = index.lookup(indexed, weighting, excluded=excluded)
    candidates = rank_candidates(lookup.postings, document.id, limit=MAX_CANDIDATES)
    if candidates:
        others = {
            key: (s, _prepared(key, earlier_work, work.kind, work.language))
            for key, (s, earlier_work) in works(session, Submission.id.in_([c.doc_id for c in candidates])).items()
            if s.author_id != submission.author_id and s.kind == LEARNER_WORK and s.created_at <= submission.created_at
        }
        if work.kind == CODE:
            compared = [d for _s, d in others.values()]
            weights = _code_weights(index, document, compared, lookup.frequencies, lookup.documents, excluded, weighting)
        else:
            weights = weights_from_frequencies(lookup.frequencies, lookup.documents, weighting)
        for candidate in candidates:
            if candidate.doc_id not in others or candidate.doc_id in found:
                continue
            earlier, earlier_document = others[candidate.doc_id]
            match = compare(earlier_document, document, excluded=excluded, weights=weights)
            if match.score >= threshold:
                found[earlier.id] = (earlier, match, match.method)

    if found:
        _open_similarity_case(session, assignment, submission, list(found.values()))
    index.add(submission.id, indexed - excluded)
    submission.similarity_checked_at = utcnow()
    return len(found)


def _code_weights(
    index: SqlFingerprintIndex,
    document: Document,
    earlier: list[Document],
    frequencies: dict[int, int],
    indexed: int,
    excluded: frozenset[int],
    weighting: CommonWeighting,
) -> dict[int, float]:
    """The weights a sweep of the indexed programs and this one gives the k-grams of this program and of the
    earlier ones it is compared with: every k-gram's count of programs holding it (the new one included)."""
    counts = dict(frequencies)
    unknown = set().union(*(d.all_hashes for d in earlier)) - counts.keys() - document.all_hashes - excluded
    if unknown:
        counts.update(index.document_frequency(unknown))
    for h in document.all_hashes - excluded:
        counts[h] = counts.get(h, 0) + 1
    return weights_from_frequencies(counts, indexed + 1, weighting)


def group_copies(session: Session, assignment_id: str, threshold: float = 0.35) -> list[list[str]]:
    """Re-check every pair of the assignment's latest submissions and group copies into clusters: one case per
    cluster of three or more (pairs have their own cases). Pairs are scored as the batch sweep scores them
    (``compare_all``: prose with prose, programs with programs, each kind weighted over its own collection, every
    pair of up to ``ALL_PAIRS_LIMIT``). Idempotent: a cluster's case is keyed by its first member and updated
    while it is open."""
    assignment = session.get_one(Assignment, assignment_id)
    loaded = works(session, Submission.assignment_id == assignment.id, Submission.kind == LEARNER_WORK, Submission.status != CANCELLED)
    subs = sorted((s for s, _work in loaded.values()), key=lambda s: (s.created_at, s.id))
    authors = {s.id: s.author_id for s in subs}
    parent = {s.id: s.id for s in subs}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    pair_scores: dict[tuple[str, str], float] = {}
    for kind in (PROSE, CODE):
        group = [_prepared(s.id, loaded[s.id][1]) for s in subs if loaded[s.id][1].kind == kind]
        if len(group) < 2:
            continue
        language = next((loaded[d.id][1].language for d in group), "")
        excluded = _excluded(assignment, kind, language)
        weights = collection_weights(group, excluded, CODE_WEIGHTING if kind == CODE else CommonWeighting())
        for a, b in candidate_pairs(group, excluded):
            if authors[a.id] == authors[b.id]:
                continue
            score = compare(a, b, excluded=excluded, weights=weights).score
            pair_scores[(a.id, b.id)] = score
            if score >= threshold:
                parent[root(b.id)] = root(a.id)
    groups: dict[str, list[str]] = {}
    for s in subs:
        groups.setdefault(root(s.id), []).append(s.id)
    clusters = [members for members in groups.values() if len({authors[m] for m in members}) >= 3]
    order = {s.id: i for i, s in enumerate(subs)}
    for members in clusters:
        members.sort(key=order.__getitem__)
        evidence = {
            "members": [{"submission_id": m, "author_id": authors[m]} for m in members],
            "pairs": [
                {"a": a, "b": b, "score": round(s, 4)}
                for (a, b), s in sorted(pair_scores.items())
                if a in members and b in members and s >= threshold
            ],
        }
        case = open_case(
            session,
            course_id=assignment.course_id,
            assignment_id=assignment.id,
            kind="similarity",
            subject_type="cluster",
            subject_ids=members,
            submission_id=None,
            evidence=evidence,
            dedupe_key=f"similarity-cluster:{members[0]}",
        )
        if case.status != "resolved" and case.subject_ids != members:
            case.subject_ids, case.evidence = members, evidence
    return clusters


def note_rejection(session: Session, assignment: Assignment, author_id: str, *, limit: int = 3, window_hours: float = 24) -> bool:
    """A learner who keeps submitting junk: ``limit`` rejections within ``window_hours`` open one
    ``repeated_junk`` case (subject: the learner). Returns whether a case exists for them now."""
    since = utcnow() - timedelta(hours=window_hours)
    rows = session.execute(
        select(RejectedAttempt.reasons, RejectedAttempt.created_at)
        .where(RejectedAttempt.assignment_id == assignment.id, RejectedAttempt.author_id == author_id, RejectedAttempt.created_at >= since)
        .order_by(RejectedAttempt.created_at)
    ).all()
    if len(rows) < limit:
        return False
    count = session.scalar(
        select(func.count(RejectedAttempt.id)).where(RejectedAttempt.assignment_id == assignment.id, RejectedAttempt.author_id == author_id)
    )
    open_case(
        session,
        course_id=assignment.course_id,
        assignment_id=assignment.id,
        kind="repeated_junk",
        subject_type="learner",
        subject_ids=[author_id],
        submission_id=None,
        evidence={"rejections": [{"reasons": reasons, "at": at.isoformat()} for reasons, at in rows], "total_rejections": int(count or 0)},
        dedupe_key=f"repeated_junk:{assignment.id}:{author_id}",
    )
    return True
