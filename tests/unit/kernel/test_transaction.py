"""run_in_transaction: a deadlock or a serialisation failure runs the work again, a bounded number of times;
any other error is raised at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from reviews.kernel.transaction import ATTEMPTS, DEADLOCK, SERIALIZATION_FAILURE, run_in_transaction


class FakeDriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class FakeSession:
    def __init__(self) -> None:
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1


def failing(codes: list[str], error: type[Exception] = OperationalError) -> Any:
    calls: list[int] = []

    def work() -> str:
        calls.append(1)
        if len(calls) <= len(codes):
            raise error("statement", {}, FakeDriverError(codes[len(calls) - 1]))
        return "done"

    work.calls = calls  # type: ignore[attr-defined]
    return work


@pytest.mark.parametrize("code", [DEADLOCK, SERIALIZATION_FAILURE])
def test_a_retryable_failure_runs_the_work_again(code: str) -> None:
    session, slept = FakeSession(), []
    work = failing([code, code])
    assert run_in_transaction(session, work, sleep=slept.append) == "done"  # type: ignore[arg-type]
    assert len(work.calls) == 3 and session.rollbacks == 2 and len(slept) == 2
    assert all(0 <= delay <= 0.02 * 2**4 for delay in slept)


def test_the_tries_are_bounded() -> None:
    session = FakeSession()
    work = failing([DEADLOCK] * 10)
    with pytest.raises(OperationalError):
        run_in_transaction(session, work, sleep=lambda _s: None)  # type: ignore[arg-type]
    assert len(work.calls) == ATTEMPTS


def test_any_other_database_error_is_raised_at_once() -> None:
    session = FakeSession()
    work = failing(["23505"], IntegrityError)  # unique violation: the request's own problem
    with pytest.raises(IntegrityError):
        run_in_transaction(session, work, sleep=lambda _s: None)  # type: ignore[arg-type]
    assert len(work.calls) == 1 and session.rollbacks == 1
