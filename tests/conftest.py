"""Shared fixtures: an app on a fresh SQLite database per test, API callers per role, a small course."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import credentials
from reviews.app import create_app
from reviews.credentials.keys import register_key
from reviews.kernel.db import normalise_url
from reviews.kernel.migrate import upgrade
from reviews.settings import Secret
from workers.celery_app import celery_init_app

pytest_plugins = ["pytester"]

RUBRIC = {
    "criteria": [
        {"key": "scope", "title": "Scope", "description": "Is it clear what is in and out?", "max_points": 4},
        {"key": "risks", "title": "Risks", "description": "Are the main risks named?", "max_points": 4},
    ]
}


# The assignment every test world starts from (tests override single settings).
ASSIGNMENT = {
    "title": "Plan a small project",
    "prompt": "Describe a small project: its scope and its risks.",
    "rubric": RUBRIC,
    "reviews_required": 2,
    "reviews_to_give": 2,
    "calibration_share": 0.0,
    "max_attempts": 2,
    "min_words": 10,
}

_TOPICS = [
    "garden",
    "library",
    "repair cafe",
    "football club",
    "reading corner",
    "language exchange",
    "cooking class",
    "choir",
    "bicycle workshop",
    "theatre group",
    "tool library",
    "chess club",
    "coding club",
    "food bank",
    "walking group",
]


_WORDS = [
    "volunteers",
    "neighbours",
    "budget",
    "council",
    "weekend",
    "morning",
    "evening",
    "posters",
    "newsletter",
    "survey",
    "pilot",
    "review",
    "shelves",
    "tools",
    "bicycles",
    "seeds",
    "compost",
    "recipes",
    "songs",
    "rehearsal",
    "tickets",
    "donations",
    "deposit",
    "rota",
    "cupboard",
    "hall",
    "kitchen",
    "garden",
    "field",
    "children",
    "parents",
    "teachers",
    "residents",
    "students",
    "elders",
    "families",
    "shopkeepers",
    "farmers",
    "coaches",
    "players",
    "readers",
    "singers",
    "weather",
    "noise",
    "safety",
    "costs",
    "storage",
    "transport",
    "parking",
    "insurance",
    "permits",
    "lighting",
    "heating",
    "cleaning",
    "accessibility",
    "monthly",
    "weekly",
    "quarterly",
    "early",
    "late",
    "careful",
    "cheap",
    "simple",
    "local",
    "shared",
    "small",
    "modest",
    "steady",
    "flexible",
    "friendly",
    "quiet",
]


def essay(n: int) -> str:
    """A distinct honest answer per n (a plan with its own words), so that no two learners' work looks copied."""
    import random

    rng = random.Random(n * 7919 + 13)
    topic = _TOPICS[n % len(_TOPICS)]

    def phrase(k: int) -> str:
        return " ".join(rng.sample(_WORDS, k))

    return (
        f"Plan {n} is a {topic} in my area. Scope: {phrase(6)}. Risks: {phrase(5)}, then {phrase(5)}. "
        f"Milestones: {phrase(4)}; later {phrase(4)}. I measure success by {phrase(5)}."
    )


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite database; each test gets a copy (fast, and it proves the migrations run)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    register_test_signing_key(f"sqlite:///{path}")
    return path


# Every test app signs credentials with this key (never a key file), registered in the template database.
TEST_SIGNING_SEED = b"fairpeer unit tests signing key!"


def signing_key_for_tests() -> credentials.SigningKey:
    return credentials.SigningKey.from_seed(TEST_SIGNING_SEED)


def register_test_signing_key(url: str) -> None:
    """Register the tests' signing key as the current issuer key of the database at ``url``."""
    engine = create_engine(normalise_url(url))
    try:
        with Session(engine) as session:
            register_key(session, signing_key_for_tests(), retire_others=True)
            session.commit()
    finally:
        engine.dispose()


# Every app a test builds: a background task that failed in any of them fails that test.
_APPS: list[Flask] = []


@pytest.fixture(autouse=True)
def _forget_apps() -> Iterator[None]:
    _APPS.clear()
    yield
    _APPS.clear()


def background_failures() -> list[tuple[str, tuple[Any, ...], BaseException]]:
    return [f for app in _APPS for f in app.extensions["fairpeer.background"].failures]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A task that raises in the embedded runner or inline fails the test that enqueued it, not just a log line."""
    result = yield
    failures = background_failures()
    if failures:
        lines = "\n".join(f"  {name}{args!r}: {exc!r}" for name, args, exc in failures)
        pytest.fail(f"background tasks failed during this test:\n{lines}", pytrace=False)
    return result


def make_app(db_path: Path, **config: Any) -> Flask:
    settings = {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "BACKGROUND_MODE": "inline",
        "BROKER_URL": None,
        "REDIS_URL": None,
        "SECRET_KEY": "test-secret",
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "fairpeer.test",
        "SIGNING_KEY": Secret(signing_key_for_tests().private_multibase),
        "DEFAULT_SIGNING_KEY_FILE": None,  # never the key file of a `fairpeer init` run in this folder
    }
    settings.update(config)
    app = create_app(settings)
    celery_init_app(app)
    _APPS.append(app)
    return app


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {}


@pytest.fixture
def app(template_db: Path, tmp_path: Path, app_config: dict[str, Any]) -> Iterator[Flask]:
    db_path = tmp_path / "test.db"
    shutil.copy(template_db, db_path)
    application = make_app(db_path, **app_config)
    yield application
    application.extensions["fairpeer.db"][0].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Caller:
    """Calls the API as one user."""

    client: FlaskClient
    id: str
    token: str
    email: str = ""

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(path, json=json, headers=self.headers(kw.pop("headers", None)), **kw)

    def request(self, method: str, path: str, **kw: Any) -> Any:
        return self.client.open(path, method=method, headers=self.headers(kw.pop("headers", None)), **kw)


def make_user(app: Flask, client: FlaskClient, email: str, name: str, *, admin: bool = False) -> Caller:
    from reviews.accounts.services import create_user
    from reviews.kernel.db import db

    with app.app_context():
        user, token = create_user(db.session, email, name, is_admin=admin)
        db.session.commit()
        return Caller(client, user.id, token, email)


@dataclass
class World:
    app: Flask
    client: FlaskClient
    admin: Caller
    staff: Caller
    mentor: Caller
    learners: list[Caller]
    outsider: Caller
    course_id: str
    other_course_id: str
    assignment_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    def submit(self, learner: Caller, text: str | None = None, n: int = 0) -> Any:
        return learner.post(f"/api/assignments/{self.assignment_id}/submissions", json={"text": text or essay(n)})

    def claim(self, learner: Caller) -> Any:
        return learner.post(f"/api/assignments/{self.assignment_id}/review-claims")

    def review(self, learner: Caller, claim_id: str, scores: dict[str, float] | None = None) -> Any:
        scores = scores or {"scope": 3, "risks": 2}
        comments = {"scope": "Clear."}
        # The review gate: a criterion scored 0 needs a comment of real words saying why.
        comments.update({key: f"The work does not address the {key} criterion at all." for key, points in scores.items() if points == 0})
        return learner.post(
            f"/api/review-claims/{claim_id}/review",
            json={"scores": scores, "comments": comments, "overall_comment": "Solid work."},
        )

    def submit_and_review(self, learners: list[Caller] | None = None, reviews_each: int = 2) -> None:
        """Each learner submits (essay i), then each claims and reviews ``reviews_each`` items; every answer checked."""
        learners = self.learners if learners is None else learners
        for i, learner in enumerate(learners):
            assert self.submit(learner, n=i).status_code == 201
        for learner in learners:
            for _ in range(reviews_each):
                assert self.review(learner, self.claim(learner).get_json()["claim_id"]).status_code == 201


def build_world(app: Flask, client: FlaskClient, n_learners: int = 5, **assignment: Any) -> World:
    admin = make_user(app, client, "admin@example.org", "Admin", admin=True)
    staff = make_user(app, client, "staff@example.org", "Staff")
    mentor = make_user(app, client, "mentor@example.org", "Mentor")
    learners = [make_user(app, client, f"learner{i}@example.org", f"Learner {i}") for i in range(n_learners)]
    outsider = make_user(app, client, "outsider@example.org", "Outsider")
    course = admin.post("/api/courses", json={"title": "Planning 101"}).get_json()
    other = admin.post("/api/courses", json={"title": "Other course"}).get_json()
    assert admin.post(f"/api/courses/{course['id']}/members", json={"user_id": staff.id, "role": "staff"}).status_code == 201
    for user, role in [(mentor, "mentor"), *[(learner, "learner") for learner in learners]]:
        assert staff.post(f"/api/courses/{course['id']}/members", json={"user_id": user.id, "role": role}).status_code == 201
    assert admin.post(f"/api/courses/{other['id']}/members", json={"user_id": outsider.id, "role": "learner"}).status_code == 201
    settings = dict(ASSIGNMENT)
    settings.update(assignment)
    created = staff.post(f"/api/courses/{course['id']}/assignments", json=settings)
    assert created.status_code == 201, created.get_json()
    return World(app, client, admin, staff, mentor, learners, outsider, course["id"], other["id"], created.get_json()["id"])


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)
