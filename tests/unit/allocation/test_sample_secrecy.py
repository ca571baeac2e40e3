"""The attack on blind samples: a learner who reads all of the code, and knows every public fact about their
own claims, still cannot tell which claim was a staff sample.

The predictors below reimplement every rule a learner can read (the old unkeyed hash of the assignment title
and their email, the same hash over the ids, the position rule itself) and use every fact a learner sees
(assignment title and id, their email and id, claim ids, expiry times, the order of their claims). Played through
the API by many learners, each predictor's hit rate must be what guessing gives (one in three). The same harness
is shown to catch the old schedule, and today's rule with the deployment's key, so it is not blind.
Response times are checked at their source rather than with a stopwatch (too noisy to assert on): a sample claim
runs the same SQL as a peer claim.

Late reviews: a staff sample and peer work get the same answer when their claim expired, inside the grace
period and after it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scipy.stats import binomtest, chisquare
from sqlalchemy import event, func, select, update

from reviews.accounts.models import User
from reviews.allocation import services
from reviews.allocation.models import COMPLETED, LIVE, Review, ReviewClaim
from reviews.allocation.services import claim_grace, expire_claims, sample_schedule_key
from reviews.courses.models import Assignment
from reviews.kernel.db import db, utcnow
from reviews.submissions.models import Submission
from tests.conftest import ASSIGNMENT, Caller, World, build_world, essay

FIRST = 3  # exactly one sample among a learner's first three claims
SETTINGS: dict[str, Any] = {"calibration_share": 0.25, "reviews_required": 2, "reviews_to_give": FIRST, "min_words": 10}
TITLES = ("Plan a small project", "Plan a second project")
LEARNERS = 45  # in each of the two assignments: 90 learners' schedules in all
ALPHA = 0.001


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Background work (recalibration, similarity) is queued and left alone: allocation is what is attacked, and
    hundreds of recalibrations in the request would only make the attack slow."""
    return {"BACKGROUND_MODE": "embedded"}


def sample_text(title: str) -> str:
    return f"Reference answer for {title}: a fenced scope, weather risks covered and four dated milestones, all of it."


@dataclass
class Seen:
    """Everything one learner knows about their first three claims in one assignment, and (for scoring only) the
    truth: at which of them they were served the sample."""

    title: str
    assignment_id: str
    email: str
    reviewer_id: str
    claim_ids: list[str]
    expires_at: list[datetime]
    sample_at: int


@dataclass
class Played:
    seen: list[Seen]
    # The SQL each claim request ran, by whether it served the sample: what its response time is made of.
    statements: dict[bool, set[tuple[str, ...]]]


def play(app: Flask, client: FlaskClient, learners: int = LEARNERS) -> Played:
    """Two assignments, one staff sample each; every learner submits, then claims and reviews three items."""
    world = build_world(app, client, n_learners=learners, title=TITLES[0], **SETTINGS)
    assignments = [world.assignment_id]
    for title in TITLES[1:]:
        created = world.staff.post(f"/api/courses/{world.course_id}/assignments", json={**ASSIGNMENT, **SETTINGS, "title": title})
        assert created.status_code == 201, created.get_json()
        assignments.append(created.get_json()["id"])
    ran: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        ran.append(statement)

    engine = app.extensions["fairpeer.db"][0]
    played = Played([], {True: set(), False: set()})
    for n, (title, assignment_id) in enumerate(zip(TITLES, assignments, strict=True)):
        text = sample_text(title)
        added = world.staff.post(
            f"/api/assignments/{assignment_id}/calibration-samples", json={"text": text, "scores": {"scope": 4, "risks": 4}}
        )
        assert added.status_code == 201, added.get_json()
        for i, learner in enumerate(world.learners):
            submitted = learner.post(f"/api/assignments/{assignment_id}/submissions", json={"text": essay(1000 * n + i)})
            assert submitted.status_code == 201, submitted.get_json()
        claims: dict[str, list[tuple[str, datetime, bool]]] = {learner.id: [] for learner in world.learners}
        for _ in range(FIRST):  # round after round, as a class would
            for learner in world.learners:
                ran.clear()
                event.listen(engine, "before_cursor_execute", record)
                try:
                    response = learner.post(f"/api/assignments/{assignment_id}/review-claims")
                finally:
                    event.remove(engine, "before_cursor_execute", record)
                assert response.status_code == 201, response.get_json()
                body = response.get_json()
                was_sample = body["item"]["text"] == text
                played.statements[was_sample].add(tuple(ran))
                claims[learner.id].append((body["claim_id"], datetime.fromisoformat(body["expires_at"]), was_sample))
                assert world.review(learner, body["claim_id"]).status_code == 201
        for learner in world.learners:
            mine = claims[learner.id]
            flags = [was_sample for *_, was_sample in mine]
            assert sum(flags) == 1, "exactly one sample among the first three claims"
            ids = [claim_id for claim_id, *_ in mine]
            played.seen.append(Seen(title, assignment_id, learner.email, learner.id, ids, [e for _, e, _ in mine], flags.index(True)))
    return played


# ---------------------------------------------------------------- what a learner can compute


def _position(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big") % FIRST


def old_schedule(s: Seen) -> int:
    """The schedule before the fix: sha256(title NUL email), public facts only."""
    return _position(hashlib.sha256(f"{s.title}\x00{s.email}".encode()).digest())


def ids_unkeyed(s: Seen) -> int:
    """Today's rule over today's inputs (assignment id, own id) with the key left out."""
    return _position(hashlib.sha256(f"{s.assignment_id}\x00{s.reviewer_id}".encode()).digest())


def keyed_with(key: bytes) -> Callable[[Seen], int]:
    """Today's rule, reimplemented exactly, with a key the learner would have to know."""

    def predict(s: Seen) -> int:
        return _position(hmac.new(key, f"{s.assignment_id}\x00{s.reviewer_id}".encode(), hashlib.sha256).digest())

    return predict


def smallest_claim_id(s: Seen) -> int:
    return s.claim_ids.index(min(s.claim_ids))


def hashed_claim_ids(s: Seen) -> int:
    return _position(hashlib.sha256("".join(s.claim_ids).encode()).digest())


def expiry_microseconds(s: Seen) -> int:
    return max(range(FIRST), key=lambda i: s.expires_at[i].microsecond)


PREDICTORS: dict[str, Callable[[Seen], int]] = {
    "old unkeyed hash of title and email": old_schedule,
    "unkeyed hash of the ids": ids_unkeyed,
    "today's rule keyed as an empty SECRET_KEY would key it": keyed_with(
        hmac.new(b"", services._SAMPLE_SCHEDULE_PURPOSE, hashlib.sha256).digest()
    ),
    "smallest claim id": smallest_claim_id,
    "hash of the claim ids": hashed_claim_ids,
    "expiry microseconds": expiry_microseconds,
}


def hits(seen: list[Seen], predict: Callable[[Seen], int]) -> int:
    return sum(predict(s) == s.sample_at for s in seen)


def chance(seen: list[Seen], predict: Callable[[Seen], int]) -> float:
    """Two-sided: a predictor that is right too rarely also tells the learner something (where the sample is not)."""
    return float(binomtest(hits(seen, predict), len(seen), 1 / FIRST).pvalue)


# ---------------------------------------------------------------- the attack


def test_a_learner_who_knows_every_public_rule_cannot_predict_the_sample(app: Flask, client: FlaskClient) -> None:
    played = play(app, client)
    seen = played.seen
    assert len(seen) == len(TITLES) * LEARNERS
    # Each p-value is Bonferroni-corrected for the number of questions asked (every predictor, and the positions'
    # spread below), so the whole family, not each, errs once in 1/ALPHA runs when there is nothing to find.
    questions = len(PREDICTORS) + 1
    report = {name: (hits(seen, predict), min(1.0, chance(seen, predict) * questions)) for name, predict in PREDICTORS.items()}
    for name, (hit, p) in report.items():
        assert p > ALPHA, f"{name} predicts the sample: {hit}/{len(seen)} hits, corrected p = {p:.2g}; all: {report}"
    # Nor is any position favoured: a learner who always guesses the same one does no better than chance.
    counts = [sum(s.sample_at == i for s in seen) for i in range(FIRST)]
    assert chisquare(counts).pvalue * questions > ALPHA, counts
    # The predictors were aimed right: the old formula, computed for these very learners, is not what was served
    # (it would have been right every time before the fix).
    assert hits(seen, old_schedule) < len(seen)
    # The rule was reimplemented right, and the secret is all that hides the samples: given the deployment's key
    # (which no learner has), the same predictor is right every time.
    deployment = keyed_with(sample_schedule_key(app.config["SECRET_KEY"]))
    assert hits(seen, deployment) == len(seen) and chance(seen, deployment) < 1e-30
    # How long a claim takes says nothing either: a sample is taken by the very SQL that takes peer work (the kind
    # is a parameter), so no statement, and no statement's compile or cache-key work, belongs to samples alone.
    assert played.statements[True] and played.statements[True] <= played.statements[False], played.statements


def test_the_harness_catches_the_old_public_schedule(app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not hollow: put the old schedule (public facts, no secret) back, and the same attack wins every time."""

    def old_wants_sample(assignment: Assignment, reviewer_id: str, claim_index: int, *, key: bytes) -> bool:
        reviewer = db.session.get_one(User, reviewer_id)
        h = int.from_bytes(hashlib.sha256(f"{assignment.title}\x00{reviewer.email}".encode()).digest()[:8], "big")
        return claim_index < FIRST and claim_index == h % FIRST

    monkeypatch.setattr(services, "wants_sample", old_wants_sample)
    seen = play(app, client, learners=10).seen
    assert hits(seen, old_schedule) == len(seen)
    assert chance(seen, old_schedule) < 1e-9


def test_the_schedule_key_is_derived_for_this_one_use_and_never_empty() -> None:
    secret = "a deployment's secret"
    key = sample_schedule_key(secret)
    assert key != secret.encode() and len(key) == 32
    assert key == sample_schedule_key(secret.encode()) and key != sample_schedule_key(secret + "!")
    with pytest.raises(RuntimeError):
        sample_schedule_key("")


# ---------------------------------------------------------------- late reviews: one rule for both kinds


@pytest.fixture
def late_world(app: Flask, client: FlaskClient) -> Iterator[World]:
    world = build_world(app, client, n_learners=8, calibration_share=0.25, reviews_required=1, reviews_to_give=FIRST)
    added = world.staff.post(
        f"/api/assignments/{world.assignment_id}/calibration-samples",
        json={"text": sample_text("late"), "scores": {"scope": 4, "risks": 4}},
    )
    assert added.status_code == 201, added.get_json()
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    yield world


def _claim_until(world: World, learner: Caller, want_sample: bool) -> dict[str, Any]:
    """The learner's first claim of the wanted kind, reviewing the others on the way (one sample in three claims)."""
    for _ in range(FIRST):
        claim = world.claim(learner)
        assert claim.status_code == 201, claim.get_json()
        body: dict[str, Any] = claim.get_json()
        if (body["item"]["text"] == sample_text("late")) == want_sample:
            return body
        assert world.review(learner, body["claim_id"]).status_code == 201
    raise AssertionError("no claim of the wanted kind among the first three")


def _expire(app: Flask, claim_id: str, ago: timedelta) -> None:
    with app.app_context():
        db.session.execute(update(ReviewClaim).where(ReviewClaim.id == claim_id).values(expires_at=utcnow() - ago))
        db.session.commit()


def _answer(response: Any) -> tuple[int, str | None, str | None]:
    body = response.get_json()
    error = body.get("error") if isinstance(body, dict) else None
    return response.status_code, error and error["code"], error and error["message"]


@pytest.mark.parametrize("swept", [False, True], ids=["expiry-not-yet-swept", "expiry-swept"])
def test_a_late_review_gets_the_same_answer_for_a_sample_and_for_peer_work(app: Flask, late_world: World, swept: bool) -> None:
    world = late_world
    with app.app_context():
        grace = claim_grace(app.config)
    assert grace == timedelta(minutes=app.config["CLAIM_LEASE_MINUTES"])  # unset: the lease length
    on_sample_in, on_peer_in, on_sample_out, on_peer_out = world.learners[:4]
    claims = {
        "sample in grace": _claim_until(world, on_sample_in, want_sample=True),
        "peer in grace": _claim_until(world, on_peer_in, want_sample=False),
        "sample after grace": _claim_until(world, on_sample_out, want_sample=True),
        "peer after grace": _claim_until(world, on_peer_out, want_sample=False),
    }
    for name, body in claims.items():
        _expire(app, body["claim_id"], grace - timedelta(minutes=1) if "in grace" in name else grace + timedelta(minutes=1))
    if swept:
        with app.app_context():
            assert expire_claims(db.session) == 4
            db.session.commit()
        # Meanwhile the others take and review what is left, until the peer item has its review from someone else.
        with app.app_context():
            item_id = db.session.get_one(ReviewClaim, claims["peer in grace"]["claim_id"]).submission_id
        for _ in range(4):
            with app.app_context():
                item = db.session.get_one(Submission, item_id)
                if item.reviews_done >= (item.reviews_target or 1):
                    break
            for learner in world.learners[4:]:
                claim = world.claim(learner)
                if claim.status_code == 201:
                    assert world.review(learner, claim.get_json()["claim_id"]).status_code == 201
        with app.app_context():
            item = db.session.get_one(Submission, item_id)
            assert item.reviews_done >= (item.reviews_target or 1), "the peer item got its reviews from someone else"
    answers = {
        name: _answer(world.review(learner, body["claim_id"]))
        for (name, body), learner in zip(claims.items(), (on_sample_in, on_peer_in, on_sample_out, on_peer_out), strict=True)
    }
    assert answers["sample in grace"] == answers["peer in grace"] == (201, None, None), answers
    assert answers["sample after grace"] == answers["peer after grace"], answers
    assert answers["peer after grace"][:2] == (409, "claim_expired"), answers
    # The bookkeeping holds: every item's load is its live claims plus its completed reviews; nothing went negative.
    with app.app_context():
        for submission in db.session.scalars(select(Submission)):
            live = db.session.scalar(
                select(func.count(ReviewClaim.id)).where(
                    ReviewClaim.submission_id == submission.id, ReviewClaim.status == LIVE, ReviewClaim.expires_at >= utcnow()
                )
            )
            stale = db.session.scalar(
                select(func.count(ReviewClaim.id)).where(
                    ReviewClaim.submission_id == submission.id, ReviewClaim.status == LIVE, ReviewClaim.expires_at < utcnow()
                )
            )
            done = db.session.scalar(select(func.count(Review.id)).where(Review.submission_id == submission.id))
            completed = db.session.scalar(
                select(func.count(ReviewClaim.id)).where(ReviewClaim.submission_id == submission.id, ReviewClaim.status == COMPLETED)
            )
            assert submission.reviews_done == done == completed
            # Not yet swept, an expired claim still holds its place until expire_claims gives it back.
            assert submission.review_load == (live or 0) + (stale or 0) + done, submission.id
        if swept:
            assert expire_claims(db.session) == 0  # the refused ones were already given back
