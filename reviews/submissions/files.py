"""Stored files at the HTTP edge: their JSON (with the API address) and the download answer."""

from __future__ import annotations

import io
from typing import Any

from flask import send_file

from reviews.submissions.models import StoredFile


def file_json(stored: StoredFile) -> dict[str, Any]:
    return {
        "id": stored.id,
        "filename": stored.filename,
        "content_type": stored.content_type,
        "size": stored.size,
        "url": f"/api/files/{stored.id}",
    }


def file_download(stored: StoredFile) -> Any:
    """The bytes as an attachment that browsers never render in place (no stored-XSS through uploads)."""
    response = send_file(io.BytesIO(stored.data), mimetype="application/octet-stream", as_attachment=True, download_name=stored.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
