"""case leases: a claim on a case runs out (cases.lease_expires_at, courses.case_lease_hours); cases.version

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import reviews.kernel.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_lease_hours", sa.Float(), server_default="4", nullable=False))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_expires_at", reviews.kernel.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    # Claims made before leases existed get one fresh lease of the default length, rather than none that ends.
    cases = sa.table(
        "cases",
        sa.column("status", sa.String()),
        sa.column("claimed_by_id", sa.String()),
        sa.column("lease_expires_at", reviews.kernel.db.UTCDateTime()),
    )
    op.execute(
        cases.update()
        .where(cases.c.status == "claimed", cases.c.claimed_by_id.is_not(None))
        .values(lease_expires_at=datetime.now(UTC) + timedelta(hours=4))
    )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("lease_expires_at")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("case_lease_hours")
