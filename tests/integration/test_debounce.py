"""The recalibration debounce in Redis: one mark per window for every process, each process asking Redis once."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from flask import Flask

from reviews.scoring import recalibration

pytestmark = pytest.mark.integration


def test_one_first_caller_per_window_across_processes(pg_url: str, redis_url: str, make_web_app: Callable[..., Flask]) -> None:
    app = make_web_app(pg_url, broker=redis_url)
    key = f"test-{time.monotonic_ns()}"
    with app.app_context():
        assert recalibration.first_in_window(key, 1.0) is True
        assert recalibration.first_in_window(key, 1.0) is False  # this process remembers its own mark
        mark = redis.Redis.from_url(redis_url)
        try:
            assert mark.exists(f"fairpeer:debounce:{key}")
            # Another process knows nothing locally: Redis answers, and that process remembers the mark's remaining life.
            recalibration._local_marks.pop(key)
            mark.pexpire(f"fairpeer:debounce:{key}", 600)
            assert recalibration.first_in_window(key, 1.0) is False
            assert 0 < recalibration._local_marks[key] - time.monotonic() <= 0.6
            time.sleep(0.7)
            assert recalibration.first_in_window(key, 1.0) is True  # the window is over: a new first caller
            assert mark.pttl(f"fairpeer:debounce:{key}") > 600
        finally:
            mark.close()
