"""The evidence of a case, by kind, as mentors and staff read it on the case page and in the API.

Each kind gets what a person needs to decide it: a similarity case both texts with the matched passages, who
wrote which and when, and who was shown what before submitting; repeated junk the refused attempts; an
unreliable reviewer their figures in words and their reviews beside the work's scores; an uncertain or
under-reviewed score its reviews, interval and what the service did already; an appeal the appealed review
beside the others and the rubric. Only mentors and staff are given this (learners never see another learner's
text or any reviewer); which reviews were of staff samples is told to staff only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation.models import LIVE, Exposure, Review, ReviewClaim
from reviews.courses.access import STAFF
from reviews.courses.models import Assignment
from reviews.integrity.services import matched_passages, with_full_texts
from reviews.moderation.models import Case
from reviews.scoring.gradebook import explain
from reviews.scoring.models import ReviewerStat, Score
from reviews.scoring.services import latest_staff_grades, review_shares
from reviews.submissions.models import STAFF_SAMPLE, RejectedAttempt, Submission

# How the refusals of the junk gate read to a mentor (the learner was told the full sentence at the time).
REASON_WORDS = {
    "empty": "no words at all",
    "too_short": "too short",
    "encoded_blob": "encoded data instead of text",
    "numbers_only": "only numbers",
    "repetitive": "the same words over and over",
    "placeholder": "placeholder text",
    "gibberish": "random letters",
    "prompt_copy": "a copy of the prompt or template",
    "pleading": "asks for a score instead of answering",
    "file_empty": "an empty file",
    "file_no_text": "a file with no readable text",
    "file_too_complex": "a file too complex to read",
}
# At most this many reviews of a flagged reviewer are listed beside the scores.
REVIEWER_REVIEWS_SHOWN = 50


def case_details(session: Session, case: Case, viewer_role: str) -> dict[str, Any]:
    """What the case page shows as evidence (mentors and staff only; the caller has checked the role)."""
    staff = viewer_role == STAFF
    if case.kind == "similarity":
        return _cluster(session, case) if case.subject_type == "cluster" else _pair(session, case)
    if case.kind == "repeated_junk":
        return _rejections(session, case)
    if case.kind == "unreliable_reviewer":
        return _reviewer(session, case, staff=staff)
    if case.submission_id is not None:
        return _work(session, case)
    return {"type": "none"}


def segments(text: str, passages: Iterable[Iterable[int]]) -> list[dict[str, Any]]:
    """``text`` cut into pieces, ``mark`` on those inside a passage (``[start, end)`` character ranges, which may
    overlap or run past the text): the page wraps the marked ones in <mark>, escaping every piece."""
    ranges = sorted((max(0, int(a)), min(len(text), int(b))) for a, b in (tuple(p) for p in passages))
    merged: list[list[int]] = []
    for start, end in ranges:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[dict[str, Any]] = []
    at = 0
    for start, end in merged:
        if start > at:
            out.append({"text": text[at:start], "mark": False})
        out.append({"text": text[start:end], "mark": True})
        at = end
    if at < len(text):
        out.append({"text": text[at:], "mark": False})
    return out


def _people(session: Session, ids: Iterable[str | None]) -> dict[str, dict[str, str]]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name, User.email).where(User.id.in_(wanted)))
    return {row.id: {"id": row.id, "name": row.name or row.email, "email": row.email} for row in rows}


def _person(people: dict[str, dict[str, str]], user_id: str | None) -> dict[str, str] | None:
    if user_id is None:
        return None
    return people.get(user_id, {"id": user_id, "name": "a removed user", "email": ""})


def _duration(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} day" + ("" if days == 1 else "s")] if days else []
    if hours:
        parts.append(f"{hours} h")
    if mins and not days:
        parts.append(f"{mins} min")
    return " ".join(parts)


def _relative(shown_at: datetime, submitted_at: datetime | None) -> tuple[float | None, str]:
    """Seconds from the viewer's own submission to the showing (negative: before it), in words too."""
    if submitted_at is None:
        return None, "the viewer has no work in this case"
    seconds = (shown_at - submitted_at).total_seconds()
    side = "before" if seconds < 0 else "after"
    return seconds, f"{_duration(seconds)} {side} they submitted"


def _exposures(
    session: Session, submissions: dict[str, Submission], labels: dict[str, str], people: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """The exposure log between the case's people: when each author was shown the others' work, relative to
    submitting their own, and what became of that review claim."""
    if not submissions:
        return []
    authors = sorted({s.author_id for s in submissions.values()})
    rows = session.execute(
        select(Exposure, ReviewClaim.status, ReviewClaim.completed_at)
        .outerjoin(ReviewClaim, ReviewClaim.id == Exposure.claim_id)
        .where(Exposure.submission_id.in_(list(submissions)), Exposure.viewer_id.in_(authors))
        .order_by(Exposure.created_at, Exposure.id)
    ).all()
    timeline = []
    for exposure, claim_status, completed_at in rows:
        shown = submissions[exposure.submission_id]
        if shown.author_id == exposure.viewer_id:
            continue
        own = [s.created_at for s in submissions.values() if s.author_id == exposure.viewer_id]
        # Relative to the viewer's submission in this case that came after the showing, if any, else their first.
        after = [t for t in sorted(own) if t >= exposure.created_at]
        reference = after[0] if after else (min(own) if own else None)
        seconds, words = _relative(exposure.created_at, reference)
        if claim_status is None:
            outcome = "shown without a review claim"
        elif completed_at is not None:
            outcome = "they reviewed it"
        elif claim_status == LIVE:
            outcome = "their review claim is open"
        else:
            outcome = f"their review claim ended ({claim_status})"
        timeline.append(
            {
                "viewer": _person(people, exposure.viewer_id),
                "submission_id": shown.id,
                "shown_work": labels.get(shown.id, "work"),
                "author": _person(people, shown.author_id),
                "at": exposure.created_at.isoformat(),
                "seconds_from_submitting": seconds,
                "before_submitting": seconds is not None and seconds < 0,
                "when": words,
                "claim": outcome,
            }
        )
    return timeline


def _side(submission: Submission, text: str, label: str, passages: list[list[int]], people: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "label": label,
        "submission_id": submission.id,
        "author": _person(people, submission.author_id),
        "submitted_at": submission.created_at.isoformat(),
        "attempt": submission.attempt,
        "status": submission.status,
        "text": text,
        "passages": passages,
    }


def _cluster_cases(session: Session, case: Case, submission_ids: set[str]) -> list[dict[str, Any]]:
    """The cluster cases of the assignment that hold any of these submissions (the other members of a cluster)."""
    rows = session.scalars(
        select(Case).where(
            Case.assignment_id == case.assignment_id, Case.kind == "similarity", Case.subject_type == "cluster", Case.id != case.id
        )
    )
    return [
        {"case_id": c.id, "status": c.status, "submission_ids": list(c.subject_ids)}
        for c in rows
        if submission_ids & {str(i) for i in c.subject_ids}
    ]


def _pair(session: Session, case: Case) -> dict[str, Any]:
    evidence = case.evidence
    earlier_id = (evidence.get("earlier") or {}).get("submission_id") or case.subject_ids[0]
    later_id = (evidence.get("later") or {}).get("submission_id") or case.subject_ids[-1]
    also = [m["submission_id"] for m in evidence.get("also_matched", [])]
    loaded = with_full_texts(session, Submission.id.in_([earlier_id, later_id, *also]))
    if earlier_id not in loaded or later_id not in loaded:
        return {"type": "pair", "missing": True}
    (earlier, earlier_text), (later, later_text) = loaded[earlier_id], loaded[later_id]
    spans = evidence.get("spans") or []
    people = _people(session, [s.author_id for s, _ in loaded.values()])
    subs = {key: s for key, (s, _t) in loaded.items()}
    labels = {earlier.id: "the earlier work", later.id: "the later work"} | dict.fromkeys(also, "another matched work")
    clusters = _cluster_cases(session, case, set(subs))
    member_ids = {str(i) for c in clusters for i in c["submission_ids"]}
    members = {s.id: s for s in session.scalars(select(Submission).where(Submission.id.in_(member_ids)))} if member_ids else {}
    people |= _people(session, [s.author_id for s in members.values()])
    for cluster in clusters:
        cluster["members"] = [
            {"submission_id": i, "author": _person(people, members[i].author_id), "submitted_at": members[i].created_at.isoformat()}
            for i in cluster.pop("submission_ids")
            if i in members
        ]
    return {
        "type": "pair",
        "score": evidence.get("score"),
        "containment_earlier": evidence.get("containment_earlier"),
        "containment_later": evidence.get("containment_later"),
        "method": evidence.get("method"),
        "earlier": _side(earlier, earlier_text, "Earlier work", [s["a"] for s in spans], people),
        "later": _side(later, later_text, "Later work", [s["b"] for s in spans], people),
        "exposures": _exposures(session, subs, labels, people),
        "also_matched": [
            {
                "submission_id": m["submission_id"],
                "author": _person(people, m.get("author_id")),
                "submitted_at": m.get("created_at"),
                "score": m.get("score"),
            }
            for m in evidence.get("also_matched", [])
        ],
        "clusters": clusters,
    }


def _cluster(session: Session, case: Case) -> dict[str, Any]:
    ids = [str(i) for i in case.subject_ids]
    loaded = with_full_texts(session, Submission.id.in_(ids))
    subs = {key: s for key, (s, _t) in loaded.items()}
    people = _people(session, [s.author_id for s in subs.values()])
    pairs = sorted(case.evidence.get("pairs", []), key=lambda p: -float(p.get("score") or 0))
    strongest: dict[str, Any] | None = None
    for pair in pairs:
        if pair["a"] in subs and pair["b"] in subs:
            first, second = sorted((subs[pair["a"]], subs[pair["b"]]), key=lambda s: (s.created_at, s.id))
            found = matched_passages(session, first.id, second.id)
            if found is not None:
                text_a, text_b, match = found
                strongest = {
                    "score": round(match.score, 4),
                    "containment_earlier": round(match.containment_a, 4),
                    "containment_later": round(match.containment_b, 4),
                    "earlier": _side(first, text_a, "Earlier work", [[s.a_start, s.a_end] for s in match.spans], people),
                    "later": _side(second, text_b, "Later work", [[s.b_start, s.b_end] for s in match.spans], people),
                }
            break
    order = sorted(subs.values(), key=lambda s: (s.created_at, s.id))
    labels = {s.id: f"member {n}" for n, s in enumerate(order, 1)}
    return {
        "type": "cluster",
        "members": [
            {
                "label": labels[s.id],
                "submission_id": s.id,
                "author": _person(people, s.author_id),
                "submitted_at": s.created_at.isoformat(),
                "attempt": s.attempt,
                "status": s.status,
            }
            for s in order
        ],
        "pairs": [
            {"a": labels.get(p["a"], p["a"]), "b": labels.get(p["b"], p["b"]), "a_id": p["a"], "b_id": p["b"], "score": p.get("score")}
            for p in pairs
        ],
        "strongest_pair": strongest,
        "exposures": _exposures(session, subs, labels, people),
    }


def _rejections(session: Session, case: Case) -> dict[str, Any]:
    learner_id = str(case.subject_ids[0]) if case.subject_ids else None
    rows = list(
        session.scalars(
            select(RejectedAttempt)
            .where(RejectedAttempt.assignment_id == case.assignment_id, RejectedAttempt.author_id == learner_id)
            .order_by(RejectedAttempt.created_at, RejectedAttempt.id)
        )
    )
    accepted = session.scalar(
        select(func.count(Submission.id)).where(Submission.assignment_id == case.assignment_id, Submission.author_id == learner_id)
    )
    people = _people(session, [learner_id])
    return {
        "type": "rejections",
        "learner": _person(people, learner_id),
        "accepted_attempts": int(accepted or 0),
        "rejections": [
            {
                "at": r.created_at.isoformat(),
                "reasons": list(r.reasons),
                "reasons_in_words": [REASON_WORDS.get(str(code), str(code).replace("_", " ")) for code in r.reasons],
            }
            for r in rows
        ],
    }


def _reviewer(session: Session, case: Case, *, staff: bool) -> dict[str, Any]:
    reviewer_id = str(case.subject_ids[0]) if case.subject_ids else ""
    assignment = session.get_one(Assignment, case.assignment_id)
    titles = {c["key"]: (c.get("title") or c["key"], float(c["max_points"])) for c in assignment.criteria}
    stats = {
        s.criterion: s
        for s in session.scalars(
            select(ReviewerStat).where(ReviewerStat.assignment_id == assignment.id, ReviewerStat.reviewer_id == reviewer_id)
        )
    }
    anchored = bool(
        session.scalar(select(func.count(Submission.id)).where(Submission.assignment_id == assignment.id, Submission.kind == STAFF_SAMPLE))
    )
    flagged = case.evidence.get("criteria") or {}
    criteria = []
    for key, (title, max_points) in titles.items():
        stat = stats.get(key)
        if stat is None and key not in flagged:
            continue
        criteria.append(
            {
                "key": key,
                "title": title,
                "max_points": max_points,
                "flagged_for": list((flagged.get(key) or {}).get("reasons", [])),
                "bias": stat.bias if stat else None,
                "reliability": stat.reliability if stat else None,
                "low_effort": stat.low_effort if stat else None,
                "weight": stat.weight if stat else None,
                "grades": stat.grades if stat else 0,
                "words": explain(stat, title, max_points, anchored=anchored) if stat else [],
            }
        )
    rows = session.execute(
        select(Review, Submission.kind, Submission.author_id)
        .join(Submission, Submission.id == Review.submission_id)
        .where(Review.assignment_id == assignment.id, Review.reviewer_id == reviewer_id)
        .order_by(Review.created_at, Review.id)
        .limit(REVIEWER_REVIEWS_SHOWN)
    ).all()
    work_ids = sorted({review.submission_id for review, _, _ in rows})
    scores = {s.submission_id: s for s in session.scalars(select(Score).where(Score.submission_id.in_(work_ids)))} if work_ids else {}
    samples = latest_staff_grades(session, [review.submission_id for review, kind, _ in rows if kind == STAFF_SAMPLE])
    people = _people(session, [reviewer_id, *(author for _, kind, author in rows if kind != STAFF_SAMPLE)])
    reviews = []
    for review, kind, author_id in rows:
        if kind == STAFF_SAMPLE:
            grade = samples.get(review.submission_id)
            reference: dict[str, float | None] = {k: float(v) for k, v in (grade.scores if grade else {}).items()}
        else:
            score = scores.get(review.submission_id)
            reference = {k: (v or {}).get("value") for k, v in (score.criteria if score else {}).items()}
        entry = {
            "review_id": review.id,
            "submission_id": review.submission_id,
            "author": None if kind == STAFF_SAMPLE else _person(people, author_id),
            "at": review.created_at.isoformat(),
            "criteria": [
                {
                    "key": key,
                    "title": title,
                    "given": review.scores.get(key),
                    "score": reference.get(key),
                    "gap": None
                    if review.scores.get(key) is None or reference.get(key) is None
                    else round(float(review.scores[key]) - float(reference[key] or 0), 2),
                }
                for key, (title, _max) in titles.items()
            ],
            "weight": review.weight,
            "discounted": review.discounted,
        }
        if staff:
            entry["staff_sample"] = kind == STAFF_SAMPLE
        reviews.append(entry)
    return {"type": "reviewer", "reviewer": _person(people, reviewer_id), "criteria": criteria, "reviews": reviews}


def _work(session: Session, case: Case) -> dict[str, Any]:
    """A case about one submission: its text, its reviews beside the rubric, its score and what the service did."""
    submission_id = str(case.submission_id)
    loaded = with_full_texts(session, Submission.id == submission_id)
    submission, text = loaded[submission_id]
    assignment = session.get_one(Assignment, submission.assignment_id)
    reviews = list(session.scalars(select(Review).where(Review.submission_id == submission.id).order_by(Review.created_at, Review.id)))
    shares = review_shares(reviews)
    appealed = case.evidence.get("review_id")
    people = _people(session, [submission.author_id, *(r.reviewer_id for r in reviews)])
    score = session.get(Score, submission.id)
    required = assignment.reviews_required
    target = submission.reviews_target or required
    live_claims = session.scalar(
        select(func.count(ReviewClaim.id)).where(ReviewClaim.submission_id == submission.id, ReviewClaim.status == LIVE)
    )
    done: list[str] = []
    if target > required:
        done.append(f"Raised the reviews this work gets from {required} to {target}, because its score was too uncertain.")
    if live_claims:
        done.append(f"{live_claims} review{'s are' if live_claims != 1 else ' is'} being written now.")
    missing = target - submission.reviews_done
    if missing > 0:
        done.append(f"{missing} more review{'s' if missing != 1 else ''} wanted; the work stays in the review queue.")
    if case.kind == "needs_reviews":
        waited = case.evidence.get("waiting_hours")
        done.append(
            f"Sent here after waiting {waited} hours for reviews."
            if waited is not None
            else "Sent here after waiting too long for reviews."
        )
    if case.kind == "low_confidence":
        done.append("Sent here because the score stayed uncertain with the most reviews a work is given.")
    interval = None
    if score is not None and score.value is not None:
        width = None if score.low is None or score.high is None else round(score.high - score.low, 2)
        interval = {
            "value": score.value,
            "low": score.low,
            "high": score.high,
            "width": width,
            "max": assignment.max_total,
            "method": score.method,
        }
    return {
        "type": "work",
        "submission": {
            "submission_id": submission.id,
            "author": _person(people, submission.author_id),
            "submitted_at": submission.created_at.isoformat(),
            "attempt": submission.attempt,
            "status": submission.status,
            "text": text,
        },
        "rubric": [
            {"key": c["key"], "title": c.get("title") or c["key"], "description": c.get("description", ""), "max_points": c["max_points"]}
            for c in assignment.criteria
        ],
        "appealed_review_id": appealed,
        "reviews": [
            {
                "review_id": r.id,
                "reviewer": _person(people, r.reviewer_id),
                "at": r.created_at.isoformat(),
                "appealed": r.id == appealed,
                "scores": r.scores,
                "comments": r.comments,
                "overall_comment": r.overall_comment,
                "discounted": r.discounted,
                "share": shares[r.id],
            }
            for r in reviews
        ],
        "interval": interval,
        "reviews_done": submission.reviews_done,
        "reviews_required": required,
        "reviews_target": target,
        "service_did": done,
    }
