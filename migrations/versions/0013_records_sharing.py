"""records: what staff say an assignment assesses and a course taught, the learner's annotations, share links

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import reviews.kernel.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("learning_summary", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skills", sa.JSON(), nullable=True))
    op.execute("UPDATE assignments SET skills = '[]'")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.alter_column("skills", existing_type=sa.JSON(), nullable=False)

    op.create_table(
        "record_project_notes",
        sa.Column("learner_id", sa.String(length=32), nullable=False),
        sa.Column("assignment_id", sa.String(length=32), nullable=False),
        sa.Column("annotation", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("text_public", sa.Boolean(), nullable=False),
        sa.Column("updated_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"], name=op.f("fk_record_project_notes_assignment_id_assignments"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["learner_id"], ["users.id"], name=op.f("fk_record_project_notes_learner_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_project_notes")),
        sa.UniqueConstraint("learner_id", "assignment_id", name=op.f("uq_record_project_notes_learner_id_assignment_id")),
    )
    with op.batch_alter_table("record_project_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_project_notes_assignment_id"), ["assignment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_project_notes_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_project_notes_learner_id"), ["learner_id"], unique=False)

    op.create_table(
        "record_shares",
        sa.Column("course_id", sa.String(length=32), nullable=False),
        sa.Column("learner_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=8), nullable=False),
        sa.Column("allow_indexing", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", reviews.kernel.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_record_shares_course_id_courses"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["learner_id"], ["users.id"], name=op.f("fk_record_shares_learner_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_shares")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_record_shares_token_hash")),
    )
    with op.batch_alter_table("record_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_shares_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_shares_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_shares_learner_id"), ["learner_id"], unique=False)


def downgrade() -> None:
    op.drop_table("record_shares")
    op.drop_table("record_project_notes")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("skills")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("learning_summary")
