"""On PostgreSQL the candidate lookup is one SQL statement of its own: a cluster of copies in a small assignment
is found there too (the lookup caps postings by an absolute count, not by a share of the collection)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from tests.unit.integrity import test_code_online as code_online
from tests.unit.integrity.test_services import copies_found_online

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("identical", [False, True])
@pytest.mark.parametrize("copies", [6, 9])
def test_a_cluster_of_copies_is_found_by_the_postgres_lookup(
    pg_url: str, make_web_app: Callable[..., Flask], copies: int, identical: bool
) -> None:
    app = make_web_app(pg_url)
    copied, honest, flagged = copies_found_online(app, app.test_client(), copies, identical)
    assert copied <= flagged, (len(copied & flagged), copies)
    assert not (honest & flagged)


@pytest.mark.parametrize("edited", [False, True])
def test_copied_programs_are_found_by_the_postgres_lookup(pg_url: str, make_web_app: Callable[..., Flask], edited: bool) -> None:
    """Programs go through the PostgreSQL statement with the collection counted in full (smooth IDF)."""
    app = make_web_app(pg_url)
    code_online.test_a_cluster_of_copied_programs_is_found_online_and_grouped(app, app.test_client(), edited)


def test_a_renamed_program_scores_on_postgres_as_the_sweep_scores_it(
    pg_url: str, make_web_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_web_app(pg_url)
    code_online.test_a_renamed_program_is_found_online_and_scored_as_the_sweep_scores_it(app, app.test_client(), tmp_path)
