"""A page that fails answers with an HTML page in words, never the API's JSON; the API still answers JSON."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask.testing import FlaskClient


def test_an_unexpected_failure_on_a_page_is_an_html_page_and_on_the_api_json(app: Flask, client: FlaskClient) -> None:
    bp = Blueprint("t_broken", __name__)

    @bp.route("/t/broken")
    @bp.route("/api/t/broken")
    def broken() -> str:
        raise RuntimeError("a bug")

    app.register_blueprint(bp)
    page = client.get("/t/broken", headers={"Accept": "text/html"})
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "Something went wrong on our side" in page.get_data(as_text=True) and "internal_error" not in page.get_data(as_text=True)
    api = client.get("/api/t/broken")
    assert api.status_code == 500 and api.get_json()["error"]["code"] == "internal_error"


def test_a_row_changed_meanwhile_is_a_409_in_words_on_the_api_and_on_a_page(app: Flask, client: FlaskClient) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    bp = Blueprint("t_stale_row", __name__)

    @bp.route("/t/raced")
    @bp.route("/api/t/raced")
    def raced() -> str:
        raise StaleDataError("UPDATE statement on table 'cases' expected to update 1 row(s); 0 were matched.")

    app.register_blueprint(bp)
    page = client.get("/t/raced", headers={"Accept": "text/html"})
    assert page.status_code == 409 and "Someone else changed this at the same moment" in page.get_data(as_text=True)
    api = client.get("/api/t/raced")
    assert api.status_code == 409 and api.get_json()["error"]["code"] == "conflict"
