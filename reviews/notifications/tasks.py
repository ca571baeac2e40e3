"""Notifications' background work: sending the email outbox, the sweep that sends what was left behind, and the
daily digest of cases past their target."""

from __future__ import annotations

import logging
import smtplib

from flask import current_app

from reviews.kernel.background import enqueue, task
from reviews.kernel.db import db
from reviews.notifications import outbox

log = logging.getLogger(__name__)


@task
def send_email(outbox_id: str) -> str:
    """Send one outbox email. Idempotent: the row is claimed under a lease (committed) before sending and marked
    sent after, so a second run, or one while another holds the lease, sends nothing; a sender that died leaves
    the lease to expire and the sweep sends the same message (same Message-ID) again."""
    config = current_app.config
    if not config.get("SMTP_URL"):
        return "email is off"
    lease = float(config["EMAIL_LEASE_SECONDS"])
    row = outbox.claim(db.session, outbox_id, lease)
    db.session.commit()
    if row is None:
        return "not due"
    sender = config["EMAIL_FROM"]
    try:
        # The SMTP conversation must end well inside the lease, or another sender could take the row meanwhile.
        outbox.SmtpServer.from_url(config["SMTP_URL"]).send(outbox.build_message(row, sender), timeout=lease / 3)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        db.session.rollback()
        permanent = outbox.is_permanent(exc)  # a mistyped SMTP_URL or a server down: tried again later
        outbox.release(db.session, row, f"{type(exc).__name__}: {exc}", float(config["EMAIL_RETRY_SECONDS"]), permanent)
        db.session.commit()
        log.warning("email %s not sent (%s); %s", outbox_id, exc, "given up" if permanent else "tried again later")
        return "failed" if permanent else "retry later"
    marked = outbox.mark_sent(db.session, row)
    db.session.commit()
    return "sent" if marked else "sent, but another sender had taken it over"


@task(periodic=True)
def send_waiting_email() -> int:
    """Enqueue a send for every email not yet sent whose turn it is (never sent, due for a retry, or held by a
    sender that died). Idempotent: sending claims each row first, so an email enqueued twice goes out once."""
    if not current_app.config.get("SMTP_URL"):
        return 0
    ids = outbox.due_emails(db.session)
    for outbox_id in ids:
        enqueue(db.session, send_email, outbox_id)
    db.session.commit()
    return len(ids)
