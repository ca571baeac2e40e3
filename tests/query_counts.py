"""Counting the SQL statements a request runs (after warehouse's query-count fixture): a page whose count grows
with the number of learners runs a query per row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event


class QueryCount:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)


@contextmanager
def counting_queries(app: Flask) -> Iterator[QueryCount]:
    """Every statement the app's engine executes inside the block."""
    engine = app.extensions["fairpeer.db"][0]
    counted = QueryCount()

    def before_cursor_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counted.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)
