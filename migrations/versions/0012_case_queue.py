"""case queue: the stored sort key of the escalation queue, and when each case was resolved

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import reviews.kernel.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# priority * 3600 - seconds since the epoch of opening (reviews/moderation/ranking.py, one age point an hour).
_RANK = {
    "postgresql": "priority * 3600 - CAST(EXTRACT(EPOCH FROM created_at) AS BIGINT)",
    "sqlite": "priority * 3600 - CAST(strftime('%s', created_at) AS INTEGER)",
}


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_rank", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", reviews.kernel.db.UTCDateTime(), nullable=True))
    op.execute(sa.text(f"UPDATE cases SET queue_rank = {_RANK[op.get_bind().dialect.name]}"))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("queue_rank", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index("ix_cases_rank", ["course_id", "status", "queue_rank", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_rank")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("queue_rank")
