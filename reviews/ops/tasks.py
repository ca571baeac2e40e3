"""Operations' background work: finding work whose result is missing or stale (docs/design.md, Nothing lost)."""

from __future__ import annotations

from reviews.kernel.background import task
from reviews.kernel.db import db
from reviews.ops.recovery import requeue_lost_work


@task(periodic=True)
def recover_lost_work() -> dict[str, int]:
    """Re-enqueue work whose result is missing or older than its inputs. Idempotent: it only enqueues
    idempotent tasks."""
    counts = requeue_lost_work(db.session)
    db.session.commit()
    return counts
