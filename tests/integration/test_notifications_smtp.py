"""Email on the real stack: every notification arrives exactly once at a local SMTP server although each send
task runs twice and the worker is killed in the middle of sending."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from reviews.accounts.services import create_user
from reviews.kernel.background import enqueue
from reviews.kernel.db import db
from reviews.notifications.models import SENT, OutboxEmail
from reviews.notifications.services import notify
from reviews.notifications.tasks import send_email
from tests.integration.conftest import Proc, Stack, wait_for

LEASE_SECONDS = "3"


class Mailbox:
    """Keeps each message the server accepted; the first conversation, once it has named its recipient, kills
    the sending worker (its whole process group) and is refused, as a connection that died mid-send is."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.victim: Proc | None = None
        self.killed = threading.Event()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if self.victim is not None and not self.killed.is_set():
            self.killed.set()
            os.killpg(self.victim.pid, signal.SIGKILL)
            return "451 4.3.0 Connection lost before the message was sent"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted.append(str(message_from_bytes(envelope.content)["Message-ID"]))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, str]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def outbox_rows(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.execute(select(OutboxEmail.id, OutboxEmail.message_id, OutboxEmail.status)).all()
        db.session.rollback()
        return [(r.id, r.message_id, r.status) for r in rows]


def test_each_notification_arrives_exactly_once(stack: Stack, make_web_app: Callable[..., Flask], mailbox: tuple[Mailbox, str]) -> None:
    box, smtp_url = mailbox
    email = {"SMTP_URL": smtp_url, "FAIRPEER_EMAIL_LEASE_SECONDS": LEASE_SECONDS, "FAIRPEER_EMAIL_RETRY_SECONDS": "1"}
    app = make_web_app(stack.database_url, stack.redis_url, SMTP_URL=smtp_url, EMAIL_FROM="fairpeer <no-reply@example.org>")
    doomed = stack.start_worker(**email)
    stack.wait_ready(app, doomed)
    box.victim = doomed
    with app.app_context():
        people = [create_user(db.session, f"person{i}@example.org", f"Person {i}")[0] for i in range(3)]
        db.session.commit()
        for person in people:
            notify(db.session, person.id, "case_outcome", "The outcome of your report", "A mentor looked into it.", "/inbox")
        db.session.commit()
        # Every send task runs twice: enqueue each row's send once more.
        for row_id in db.session.scalars(select(OutboxEmail.id)):
            enqueue(db.session, send_email, row_id)
        db.session.commit()
    wait_for(box.killed.is_set, 60, "the worker to start sending", details=stack.logs)
    wait_for(lambda: not doomed.alive(), 15, "the killed worker to exit")
    worker = stack.start_worker(**email)
    stack.start_beat(**email)  # its sweep sends what the dead worker held, once the lease has run out
    wait_for(lambda: all(status == SENT for _, _, status in outbox_rows(app)), 90, "every email to be sent", details=stack.logs)
    stack.wait_ready(app, worker)
    wait_for(lambda: len(box.accepted) >= 3, 10, "the server to have every message")
    rows = outbox_rows(app)
    threading.Event().wait(float(LEASE_SECONDS) + 2)  # long enough for a duplicate to show up, if any could
    assert Counter(box.accepted) == Counter(message_id for _, message_id, _ in rows), box.accepted
    assert all(count == 1 for count in Counter(box.accepted).values())
    assert len(rows) == 3
