"""Claims under real concurrency on PostgreSQL: many learners claiming and reviewing at the same moment."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from reviews.allocation.models import COMPLETED, LIVE, Exposure, ReviewClaim
from reviews.kernel.db import db
from reviews.submissions.models import LEARNER_WORK, Submission
from tests.conftest import Caller, build_world, register_test_signing_key
from tests.integration.scenario import author_of

pytestmark = pytest.mark.integration

THREADS = 16
REVIEWS_REQUIRED = 2
ATTEMPTS_PER_LEARNER = 6  # more than the pool can give everyone: the caps must hold under contention


def test_concurrent_claims_respect_caps_and_never_repeat(pg_url: str, make_web_app: Callable[..., Flask]) -> None:
    # Background work inline: each review's recalibration runs in the request thread, concurrently with the claims;
    # released scores are then issued credentials, signed with the tests' key.
    register_test_signing_key(pg_url)
    app = make_web_app(pg_url)
    world = build_world(
        app, app.test_client(), n_learners=THREADS, reviews_required=REVIEWS_REQUIRED, reviews_to_give=4, calibration_share=0.0
    )
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    extra = app.config["OVER_REVIEW_EXTRA"]
    start = threading.Barrier(THREADS)
    outcomes: dict[int, list[tuple[str, int, Any]]] = {i: [] for i in range(THREADS)}

    def learner_works(i: int) -> None:
        me = world.learners[i]
        caller = Caller(app.test_client(), me.id, me.token, me.email)  # one client per thread
        log = outcomes[i]
        try:
            start.wait(timeout=60)
            for _ in range(ATTEMPTS_PER_LEARNER):
                claim = caller.post(f"/api/assignments/{world.assignment_id}/review-claims")
                body = claim.get_json()
                log.append(("claim", claim.status_code, body))
                if claim.status_code != 201:
                    return
                review = caller.post(
                    f"/api/review-claims/{body['claim_id']}/review",
                    json={
                        "scores": {"scope": (i + author_of(body["item"]["text"])) % 5, "risks": i % 5},
                        # The review gate asks a reason of any criterion scored 0.
                        "comments": {"scope": "The scope leaves out who does what.", "risks": "No risk has an owner named."},
                        "overall_comment": "A plan that needs owners.",
                    },
                )
                log.append(("review", review.status_code, review.get_json()))
                if review.status_code != 201:
                    return
        except Exception as exc:
            log.append(("exception", 0, repr(exc)))

    threads = [threading.Thread(target=learner_works, args=(i,), name=f"learner-{i}") for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a learner's requests hung"

    unexpected = {
        i: [(kind, status, body) for kind, status, body in log if (kind, status) not in {("claim", 201), ("review", 201), ("claim", 404)}]
        for i, log in outcomes.items()
    }
    unexpected = {i: problems for i, problems in unexpected.items() if problems}
    assert not unexpected, f"requests failed under concurrency: {unexpected}"
    for log in outcomes.values():
        ends = [body["error"]["code"] for kind, status, body in log if status == 404]
        assert ends in ([], ["nothing_to_review"])

    with app.app_context():
        authors = dict(db.session.execute(select(Submission.id, Submission.author_id).where(Submission.kind == LEARNER_WORK)).all())
        loads = dict(db.session.execute(select(Submission.id, Submission.review_load)).all())
        claims = db.session.execute(select(ReviewClaim.submission_id, ReviewClaim.reviewer_id, ReviewClaim.status)).all()
        exposures = db.session.execute(select(Exposure.submission_id, Exposure.viewer_id)).all()
    completed = sum(1 for log in outcomes.values() for kind, status, _ in log if (kind, status) == ("review", 201))
    assert completed == sum(1 for c in claims if c.status == COMPLETED) > THREADS * REVIEWS_REQUIRED // 2

    counted = Counter(c.submission_id for c in claims if c.status in (LIVE, COMPLETED))
    over = {sid: n for sid, n in counted.items() if n > REVIEWS_REQUIRED + extra}
    assert not over, f"submissions claimed beyond reviews_required + the over-review cap ({REVIEWS_REQUIRED + extra}): {over}"
    drift = {sid: (loads[sid], counted.get(sid, 0)) for sid in authors if loads[sid] != counted.get(sid, 0)}
    assert not drift, f"review_load differs from the live + completed claims: {drift}"
    own = [c for c in claims if authors[c.submission_id] == c.reviewer_id]
    assert not own, f"learners were given their own work: {own}"
    repeated = [pair for pair, n in Counter((c.submission_id, c.reviewer_id) for c in claims).items() if n > 1]
    assert not repeated, f"learners were given the same item twice: {repeated}"
    assert Counter((e.submission_id, e.viewer_id) for e in exposures) == Counter((c.submission_id, c.reviewer_id) for c in claims)


def test_one_learner_asking_many_times_at_once_gets_one_claim(pg_url: str, make_web_app: Callable[..., Flask]) -> None:
    """docs/api.md: asking again while a claim is live returns it; that must hold when the asks arrive together."""
    app = make_web_app(pg_url)
    world = build_world(app, app.test_client(), n_learners=8, reviews_required=2, reviews_to_give=2, calibration_share=0.0)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    me = world.learners[0]
    asks = 6
    start = threading.Barrier(asks)
    answers: list[tuple[int, Any]] = []

    def ask() -> None:
        caller = Caller(app.test_client(), me.id, me.token, me.email)
        start.wait(timeout=60)
        response = caller.post(f"/api/assignments/{world.assignment_id}/review-claims")
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=ask) for _ in range(asks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(status for status, _ in answers) == [200] * (asks - 1) + [201], answers
    assert len({body["claim_id"] for _, body in answers}) == 1, answers
    with app.app_context():
        live = db.session.scalars(select(ReviewClaim.id).where(ReviewClaim.reviewer_id == me.id, ReviewClaim.status == LIVE)).all()
        shown = db.session.scalars(select(Exposure.submission_id).where(Exposure.viewer_id == me.id)).all()
    assert len(live) == 1 and len(shown) == 1, f"one learner holds {len(live)} live claims and was shown {len(shown)} items"


def test_claims_are_served_while_a_recalibration_writes(
    pg_url: str, make_web_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recalibration's write phase (here the first run, which creates every submission's Score row) must not
    hide the pool from claimers: claims lock submissions with SKIP LOCKED, so any lock a run takes on them
    turns into a spurious nothing_to_review, and allocation that depends on when runs happen."""
    from reviews.scoring import services as scoring
    from reviews.scoring.services import recalibrate

    app = make_web_app(pg_url)
    world = build_world(app, app.test_client(), n_learners=4, reviews_required=2, reviews_to_give=2, calibration_share=0.0)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    paused, resume = threading.Event(), threading.Event()
    adapt = scoring.adapt_review_targets

    def adapt_then_pause(session: Any, *args: Any, **kwargs: Any) -> Any:
        out = adapt(session, *args, **kwargs)
        session.flush()  # everything the run wrote so far is sent, with its locks
        paused.set()
        resume.wait(timeout=60)
        return out

    monkeypatch.setattr(scoring, "adapt_review_targets", adapt_then_pause)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                recalibrate(db.session, world.assignment_id, method=app.config["CALIBRATION_METHOD"])
                db.session.commit()
        except BaseException as exc:
            failures.append(exc)
            paused.set()

    runner = threading.Thread(target=run, name="recalibration")
    runner.start()
    try:
        assert paused.wait(timeout=60), "the recalibration never reached its write phase"
        assert not failures, failures
        claim = world.claim(world.learners[1])
    finally:
        resume.set()
        runner.join(timeout=60)
    assert not failures, failures
    assert claim.status_code == 201, f"a claim during a recalibration's writes got {claim.status_code}: {claim.get_json()}"
