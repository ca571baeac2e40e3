"""notifications: the inbox (notifications) and the email outbox (email_outbox)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import reviews.kernel.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("read_at", reviews.kernel.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_inbox", ["user_id", "read_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_created_at"), ["created_at"], unique=False)

    op.create_table(
        "email_outbox",
        sa.Column("notification_id", sa.String(length=32), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", reviews.kernel.db.UTCDateTime(), nullable=True),
        sa.Column("sent_at", reviews.kernel.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notifications.id"], name=op.f("fk_email_outbox_notification_id_notifications"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_email_outbox_message_id")),
        sa.UniqueConstraint("notification_id", name=op.f("uq_email_outbox_notification_id")),
    )
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_email_outbox_due", ["status", "lease_until"], unique=False)
        batch_op.create_index(batch_op.f("ix_email_outbox_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_outbox_created_at"))
        batch_op.drop_index("ix_email_outbox_due")
    op.drop_table("email_outbox")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_created_at"))
        batch_op.drop_index("ix_notifications_inbox")
    op.drop_table("notifications")
