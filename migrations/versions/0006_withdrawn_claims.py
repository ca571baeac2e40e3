"""claims whose item left the pool are "withdrawn" (a cancelled submission is another thing)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE review_claims SET status = 'withdrawn' WHERE status = 'cancelled'")


def downgrade() -> None:
    op.execute("UPDATE review_claims SET status = 'cancelled' WHERE status = 'withdrawn'")
