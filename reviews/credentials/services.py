"""Credentials as the rest of the service sees them: which credential is current for a project."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.credentials.models import PROJECT, IssuedCredential


def credential_links(credential_uuid: str) -> dict[str, str]:
    """The credential's id and where to fetch it (the learner and staff) and verify it (anyone)."""
    return {
        "id": f"urn:uuid:{credential_uuid}",
        "url": f"/api/credentials/{credential_uuid}",
        "verify_url": f"/verify/{credential_uuid}",
        "download_url": f"/credentials/{credential_uuid}/download",
    }


def current_credentials(session: Session, submission_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Submission id -> {"id", "url", "verify_url", "download_url"} of its current (not revoked) project credential, for the
    submissions that have one; one query however many there are."""
    if not submission_ids:
        return {}
    rows = session.execute(
        select(IssuedCredential.submission_id, IssuedCredential.id)
        .where(
            IssuedCredential.submission_id.in_(submission_ids),
            IssuedCredential.kind == PROJECT,
            IssuedCredential.revoked_at.is_(None),
        )
        .order_by(IssuedCredential.sequence)
    ).all()
    return {submission_id: credential_links(uuid) for submission_id, uuid in rows if submission_id is not None}
