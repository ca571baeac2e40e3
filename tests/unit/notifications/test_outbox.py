"""The email outbox: written with its notification, sent once although the send runs twice, a sender dies
mid-send, or the SMTP server refuses for a while."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from reviews.kernel.db import db, utcnow
from reviews.notifications import outbox, tasks
from reviews.notifications.models import FAILED, PENDING, SENT, Notification, OutboxEmail
from reviews.notifications.services import notify
from tests.conftest import make_user


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"SMTP_URL": "smtp://127.0.0.1:2525", "EMAIL_FROM": "fairpeer <no-reply@example.org>", "BASE_URL": "https://fairpeer.example"}


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[EmailMessage]:
    delivered: list[EmailMessage] = []
    monkeypatch.setattr(outbox.SmtpServer, "send", lambda self, message, timeout: delivered.append(message))
    return delivered


def _notify(app: Flask, user_id: str) -> str:
    with app.app_context():
        notification = notify(db.session, user_id, "case_outcome", "The outcome of your report", "A mentor decided.", "/inbox")
        db.session.commit()  # the send runs inline, right after this commit
        row = db.session.scalars(select(OutboxEmail).where(OutboxEmail.notification_id == notification.id)).one()
        return row.id


def _row(app: Flask, outbox_id: str) -> OutboxEmail:
    with app.app_context():
        row = db.session.get_one(OutboxEmail, outbox_id)
        db.session.expunge(row)
        return row


def test_written_with_the_notification_and_sent_once(app: Flask, client: Any, sent: list[EmailMessage]) -> None:
    person = make_user(app, client, "person@example.org", "Person")
    outbox_id = _notify(app, person.id)
    assert len(sent) == 1
    message = sent[0]
    assert message["To"] == "person@example.org" and message["Message-ID"] == f"<{outbox_id}@example.org>"
    assert "https://fairpeer.example/inbox" in message.get_content()
    assert _row(app, outbox_id).status == SENT
    # The send task run again, and the sweep: nothing goes out twice.
    background = app.extensions["fairpeer.background"]
    assert background.run_now(tasks.send_email.name, (outbox_id,)) == "not due"
    assert background.run_now(tasks.send_waiting_email.name, ()) == 0
    assert len(sent) == 1


def test_rolled_back_change_sends_nothing(app: Flask, client: Any, sent: list[EmailMessage]) -> None:
    person = make_user(app, client, "person@example.org", "Person")
    with app.app_context():
        notify(db.session, person.id, "case_outcome", "Subject", "Body")
        db.session.rollback()
        assert db.session.scalar(select(Notification)) is None and db.session.scalar(select(OutboxEmail)) is None
    assert sent == []


def test_a_sender_that_died_mid_send_is_replaced_once_its_lease_ends(app: Flask, client: Any, sent: list[EmailMessage]) -> None:
    person = make_user(app, client, "person@example.org", "Person")
    background = app.extensions["fairpeer.background"]
    background.send = lambda *args, **kwargs: None  # the send after the commit is lost (the process died)
    outbox_id = _notify(app, person.id)
    with app.app_context():
        # A first sender claimed it, then died before marking it sent: the row stays held under its lease.
        assert outbox.claim(db.session, outbox_id, 60) is not None
        db.session.commit()
        # While the lease runs, no other sender may take it: two runs of the task never both send.
        assert outbox.claim(db.session, outbox_id, 60) is None
        assert outbox.due_emails(db.session) == []
    assert background.run_now(tasks.send_email.name, (outbox_id,)) == "not due"
    assert sent == []
    with app.app_context():
        db.session.execute(update(OutboxEmail).values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    del background.send  # the sweep's enqueue runs inline again
    assert background.run_now(tasks.send_waiting_email.name, ()) == 1
    assert len(sent) == 1 and sent[0]["Message-ID"] == f"<{outbox_id}@example.org>"
    row = _row(app, outbox_id)
    assert row.status == SENT and row.attempts == 2
    assert background.run_now(tasks.send_waiting_email.name, ()) == 0 and len(sent) == 1


def test_a_sender_whose_lease_was_taken_over_does_not_mark_it(app: Flask, client: Any, sent: list[EmailMessage]) -> None:
    person = make_user(app, client, "person@example.org", "Person")
    app.extensions["fairpeer.background"].send = lambda *args, **kwargs: None
    outbox_id = _notify(app, person.id)
    with app.app_context():
        first = outbox.claim(db.session, outbox_id, 0)
        db.session.commit()
        assert first is not None
        first_attempt = first.attempts
        db.session.expunge(first)
        second = outbox.claim(db.session, outbox_id, 60)
        db.session.commit()
        assert second is not None and second.attempts == first_attempt + 1
        first.attempts = first_attempt
        assert outbox.mark_sent(db.session, first) is False
        assert outbox.mark_sent(db.session, second) is True
        db.session.commit()
    assert _row(app, outbox_id).status == SENT


def test_refusals_are_tried_again_or_given_up(app: Flask, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    person = make_user(app, client, "person@example.org", "Person")
    answers: list[Exception] = [smtplib.SMTPServerDisconnected("gone"), smtplib.SMTPRecipientsRefused({"person@example.org": (550, b"no")})]

    def refuse(self: Any, message: EmailMessage, timeout: float) -> None:
        raise answers.pop(0)

    monkeypatch.setattr(outbox.SmtpServer, "send", refuse)
    outbox_id = _notify(app, person.id)
    row = _row(app, outbox_id)
    assert row.status == PENDING and row.lease_until is not None and "gone" in row.last_error
    background = app.extensions["fairpeer.background"]
    assert background.run_now(tasks.send_waiting_email.name, ()) == 0  # not before the retry delay
    with app.app_context():
        db.session.execute(update(OutboxEmail).values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert background.run_now(tasks.send_waiting_email.name, ()) == 1
    row = _row(app, outbox_id)
    assert row.status == FAILED and row.attempts == 2
    assert background.run_now(tasks.send_waiting_email.name, ()) == 0


def test_no_smtp_url_no_outbox(app: Flask, client: Any) -> None:
    person = make_user(app, client, "person@example.org", "Person")
    with app.app_context():
        app.config["SMTP_URL"] = None
        notify(db.session, person.id, "case_outcome", "Subject", "Body")
        db.session.commit()
        assert db.session.scalar(select(OutboxEmail)) is None
        assert db.session.scalar(select(Notification)) is not None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", ("127.0.0.1", 2525, "plain", None, None)),
        ("smtp+starttls://me%40x.org:p%3Ass@mail.example.org", ("mail.example.org", 587, "starttls", "me@x.org", "p:ss")),
        ("smtps://mail.example.org", ("mail.example.org", 465, "tls", None, None)),
    ],
)
def test_smtp_url(url: str, expected: tuple[Any, ...]) -> None:
    server = outbox.SmtpServer.from_url(url)
    assert (server.host, server.port, server.security, server.username, server.password) == expected


def test_smtp_url_refused() -> None:
    with pytest.raises(ValueError, match="SMTP_URL must look like"):
        outbox.SmtpServer.from_url("http://mail.example.org")
