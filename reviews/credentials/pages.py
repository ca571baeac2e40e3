"""Public pages of credentials: the verify page (no sign-in), the status lists, and the signed JSON as a download
for the learner and the course's staff."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, render_template

from reviews.accounts.callers import current_user_or_none
from reviews.credentials import verification
from reviews.credentials.models import StatusList
from reviews.credentials.routes import VC_MEDIA_TYPE, readable_credential
from reviews.kernel.db import db
from reviews.kernel.errors import not_found
from reviews.web import feature_pages

bp = feature_pages("credentials", __name__)


def what_it_says(document: dict[str, Any]) -> dict[str, Any]:
    """The claims of a project or course credential, for people: who, what, and each result by its description's name."""
    subject = document.get("credentialSubject") or {}
    achievement = subject.get("achievement") or {}
    names = {d.get("id"): d.get("name") for d in achievement.get("resultDescription") or [] if isinstance(d, dict)}
    results = [
        {"name": names.get(r.get("resultDescription"), "Result"), "value": r.get("value")}
        for r in subject.get("result") or []
        if isinstance(r, dict)
    ]
    evidence = [e.get("name") or e.get("id") for e in document.get("evidence") or [] if isinstance(e, dict)]
    return {
        "learner": subject.get("name"),
        "achievement": achievement.get("name"),
        "description": achievement.get("description"),
        "results": results,
        "evidence": evidence,
        "valid_from": _when(document.get("validFrom")),
    }


def _when(value: Any) -> str | None:
    """validFrom for people: "3 December 2026, 17:24 UTC" (the value as written when it is not a date)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return value
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


@bp.route("/verify/<credential_id>")
def verify(credential_id: str) -> Any:
    page = verification.verify_page(db.session, credential_id)
    result = page.verification
    answer = render_template(
        "credentials/verify.html",
        status=result.status,
        words=verification.STATUS_WORDS[result.status],
        sentence=verification.STATUS_SENTENCES[result.status],
        checks=result.checks,
        issuer=result.issuer or {},
        issuer_key=page.issuer_key,
        says=what_it_says(page.document),
        credential=page.credential,
    )
    return Response(answer, headers={"X-Robots-Tag": "noindex"})


@bp.route("/status/<number:number>")
def status_list(number: int) -> Any:
    """A W3C BitstringStatusList credential, signed; public and stable (credentials point here)."""
    row = db.session.get(StatusList, number)
    if row is None or not row.signed:
        raise not_found("That status list")
    return Response(row.signed, mimetype=VC_MEDIA_TYPE, headers={"Cache-Control": "public, max-age=60"})


@bp.route("/credentials/<credential_id>/download")
def download(credential_id: str) -> Any:
    """The signed JSON as a file, for the learner it was issued to and the course's staff (others: 404)."""
    row = readable_credential(credential_id, current_user_or_none())
    return Response(
        row.document, mimetype=VC_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="credential-{row.id}.json"'}
    )
