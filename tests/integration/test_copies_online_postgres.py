"""On PostgreSQL the candidate lookup is one SQL statement of its own: a cluster of copies in a small assignment
is found there too (the lookup caps postings by an absolute count, not by a share of the collection)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.unit.integrity.test_services import copies_found_online

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("copies", [6, 9])
def test_a_cluster_of_copies_is_found_by_the_postgres_lookup(pg_url: str, make_web_app: Callable[..., Flask], copies: int) -> None:
    app = make_web_app(pg_url)
    copied, honest, flagged = copies_found_online(app, app.test_client(), copies)
    assert copied <= flagged, (len(copied & flagged), copies)
    assert not (honest & flagged)
