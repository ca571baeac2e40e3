"""training samples: open calibration texts a learner grades before live reviews

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import reviews.kernel.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("training_samples", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("training_tolerance", sa.Float(), nullable=True))

    op.create_table(
        "training_samples",
        sa.Column("assignment_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("updated_at", reviews.kernel.db.UTCDateTime(), nullable=True),
        sa.Column("removed_at", reviews.kernel.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_training_samples_assignment_id_assignments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_training_samples_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_samples")),
    )
    with op.batch_alter_table("training_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_samples_assignment_id"), ["assignment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_samples_created_at"), ["created_at"], unique=False)

    op.create_table(
        "training_attempts",
        sa.Column("assignment_id", sa.String(length=32), nullable=False),
        sa.Column("sample_id", sa.String(length=32), nullable=False),
        sa.Column("learner_id", sa.String(length=32), nullable=False),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("staff_scores", sa.JSON(), nullable=False),
        sa.Column("staff_comments", sa.JSON(), nullable=False),
        sa.Column("tolerance", sa.JSON(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_training_attempts_assignment_id_assignments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["learner_id"], ["users.id"], name=op.f("fk_training_attempts_learner_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["training_samples.id"], name=op.f("fk_training_attempts_sample_id_training_samples"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attempts")),
        sa.UniqueConstraint("sample_id", "learner_id", "try_number", name=op.f("uq_training_attempts_sample_id_learner_id_try_number")),
    )
    with op.batch_alter_table("training_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_training_attempts_learner", ["assignment_id", "learner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_attempts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_attempts_learner_id"), ["learner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_attempts_sample_id"), ["sample_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_attempts_sample_id"))
        batch_op.drop_index(batch_op.f("ix_training_attempts_learner_id"))
        batch_op.drop_index(batch_op.f("ix_training_attempts_created_at"))
        batch_op.drop_index("ix_training_attempts_learner")
    op.drop_table("training_attempts")
    with op.batch_alter_table("training_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_samples_created_at"))
        batch_op.drop_index(batch_op.f("ix_training_samples_assignment_id"))
    op.drop_table("training_samples")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("training_tolerance")
        batch_op.drop_column("training_samples")
