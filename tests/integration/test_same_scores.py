"""Acceptance 7: the same scenario gives the same scores on the embedded default and on PostgreSQL + Redis + worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.conftest import World
from tests.integration.conftest import Stack, broker_idle, wait_for
from tests.integration.scenario import background_idle, calibration_settled, differences, run_scenario, scores_by_email

pytestmark = pytest.mark.integration


def test_same_scores_on_embedded_default_and_on_postgres_redis_worker(
    stack: Stack, make_web_app: Callable[..., Flask], reference_scores: dict[str, Any]
) -> None:
    worker = stack.start_worker()
    # No debounce delay: each step's recalibration is sent at once, and the scenario waits for it (see run_scenario).
    app = make_web_app(stack.database_url, stack.redis_url, RECALIBRATE_DEBOUNCE_SECONDS=0)
    stack.wait_ready(app, worker)

    def settle(world: World) -> None:
        wait_for(
            lambda: broker_idle(stack.redis_url) and background_idle(app, world.assignment_id),
            30,
            "the worker to finish the step's background work",
            details=stack.logs,
        )

    world = run_scenario(app, app.test_client(), settle)
    assert calibration_settled(app, world.assignment_id)
    got = scores_by_email(world)
    assert differences(got, reference_scores) == [], f"PostgreSQL + worker: {got}\nembedded default: {reference_scores}"
