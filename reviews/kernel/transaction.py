"""One unit of work, retried when the database gives up on it for a reason that a second try cures.

PostgreSQL aborts one of two transactions that wait on each other (deadlock, SQLSTATE 40P01) and, at stricter
isolation levels, a transaction that could not be serialised (40001). Neither says anything about the request:
run the same work again on a fresh transaction and it succeeds. Any other error is the request's own and is
raised at once. The tries are bounded and spaced by a random (jittered) delay so that two clients that collided
do not collide again in step.

Locks are taken in one order everywhere (docs/design.md, Locks): the assignment, then the submission, then the
claim. Keeping to it makes deadlocks rare; this retry makes the rare one invisible.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

T = TypeVar("T")

DEADLOCK, SERIALIZATION_FAILURE = "40P01", "40001"
RETRYABLE = frozenset({DEADLOCK, SERIALIZATION_FAILURE})
ATTEMPTS = 4
BASE_DELAY_SECONDS = 0.02


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (psycopg names it ``sqlstate``, older drivers ``pgcode``)."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(code) if code else None


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and sqlstate(exc) in RETRYABLE


def run_in_transaction(
    session: Session,
    work: Callable[[], T],
    *,
    attempts: int = ATTEMPTS,
    base_delay: float = BASE_DELAY_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``work`` (which ends by committing) and return its result; after a deadlock or a serialisation failure,
    roll back and run it again, at most ``attempts`` times in all."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            session.rollback()
            if not is_retryable(exc) or attempt == attempts:
                raise
            delay = random.uniform(0, base_delay * 2**attempt)
            log.warning("transaction retried", extra={"sqlstate": sqlstate(exc), "attempt": attempt, "delay_s": round(delay, 3)})
            sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")
