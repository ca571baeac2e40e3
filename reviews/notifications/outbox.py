"""Sending the email outbox exactly once across retries and crashes (docs/design.md, Nothing lost).

A row is claimed by one conditional UPDATE (pending, or sending under a lease that has run out) that commits
before anything is sent, so two runs of the send task never both hold it. The message carries a Message-ID made
from the row's id, so the rare resend after a crash between the SMTP server's acceptance and our marking is the
same message, which mail systems recognise as one."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import unquote, urlsplit

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from reviews.kernel.db import utcnow
from reviews.notifications.models import FAILED, PENDING, SENDING, SENT, OutboxEmail

# After this many attempts that the SMTP server refused for a while, the email is given up (kept, marked failed).
MAX_ATTEMPTS = 10


def message_id_for(outbox_id: str, sender: str) -> str:
    """The message's id, from the outbox row's id and the sender's domain: every attempt sends the same id."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "fairpeer.invalid"
    return f"<{outbox_id}@{domain}>"


def _due() -> ColumnElement[bool]:
    now = utcnow()
    return or_(
        and_(OutboxEmail.status == PENDING, or_(OutboxEmail.lease_until.is_(None), OutboxEmail.lease_until <= now)),
        and_(OutboxEmail.status == SENDING, OutboxEmail.lease_until <= now),
    )


def due_emails(session: Session, limit: int = 500) -> list[str]:
    """Ids of emails not sent yet whose turn it is: never claimed, waiting for a retry, or held by a sender that died."""
    return list(session.scalars(select(OutboxEmail.id).where(_due()).order_by(OutboxEmail.created_at).limit(limit)))


def claim(session: Session, outbox_id: str, lease_seconds: float) -> OutboxEmail | None:
    """Take the row to send it, under a lease; None when it is sent, failed, or another sender holds it. One
    atomic UPDATE, so on PostgreSQL and SQLite alike exactly one of two concurrent claims wins. The caller commits
    before sending."""
    claimed = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == outbox_id, _due())
        .values(status=SENDING, attempts=OutboxEmail.attempts + 1, lease_until=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.get_one(OutboxEmail, outbox_id, populate_existing=True)
    return row


def mark_sent(session: Session, row: OutboxEmail) -> bool:
    """Record the send; only this claim's attempt may (a sender whose lease ran out and was taken over may not)."""
    done = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == row.id, OutboxEmail.status == SENDING, OutboxEmail.attempts == row.attempts)
        .values(status=SENT, sent_at=utcnow(), lease_until=None, last_error="")
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, row: OutboxEmail, error: str, retry_seconds: float, permanent: bool = False) -> None:
    """The SMTP server refused or was unreachable: try again after ``retry_seconds``, or give up for good."""
    give_up = permanent or row.attempts >= MAX_ATTEMPTS
    session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == row.id, OutboxEmail.status == SENDING, OutboxEmail.attempts == row.attempts)
        .values(
            status=FAILED if give_up else PENDING,
            lease_until=None if give_up else utcnow() + timedelta(seconds=retry_seconds),
            last_error=error[:2000],
        )
        .execution_options(synchronize_session=False)
    )


def build_message(row: OutboxEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body)
    return message


@dataclass(frozen=True)
class SmtpServer:
    """SMTP_URL: ``smtp://[user:password@]host[:port]`` (plain), ``smtp+starttls://...`` or ``smtps://...`` (TLS)."""

    host: str
    port: int
    security: str  # "plain", "starttls" or "tls"
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        security = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}.get(parts.scheme)
        if security is None or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port, smtp+starttls://user:password@host:587 or smtps://host:465")
        default_port = {"plain": 25, "starttls": 587, "tls": 465}[security]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def send(self, message: EmailMessage, timeout: float) -> None:
        client: smtplib.SMTP
        if self.security == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)


def is_permanent(exc: Exception) -> bool:
    """A 5xx answer (no such mailbox, refused for good) is not tried again; anything else is."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return bool(exc.smtp_code >= 500)
    return False
