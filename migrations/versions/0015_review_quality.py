"""review quality: helpfulness ratings, reviewing grade settings, the review gate's settings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import reviews.kernel.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The review gate: whether every review needs an overall comment.
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("require_overall_comment", sa.Boolean(), server_default=sa.false(), nullable=False))

    # Helpfulness ratings: an author's rating of one review they received.
    op.create_table(
        "helpfulness_ratings",
        sa.Column("review_id", sa.String(length=32), nullable=False),
        sa.Column("assignment_id", sa.String(length=32), nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("reviewer_id", sa.String(length=32), nullable=False),
        sa.Column("rater_id", sa.String(length=32), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_helpfulness_ratings_assignment_id_assignments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["rater_id"], ["users.id"], name=op.f("fk_helpfulness_ratings_rater_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_helpfulness_ratings_review_id_reviews"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], name=op.f("fk_helpfulness_ratings_reviewer_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_helpfulness_ratings_submission_id_submissions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helpfulness_ratings")),
        sa.UniqueConstraint("review_id", name=op.f("uq_helpfulness_ratings_review_id")),
    )
    with op.batch_alter_table("helpfulness_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_helpfulness_ratings_assignment_id"), ["assignment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_helpfulness_ratings_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_helpfulness_ratings_rater_id"), ["rater_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_helpfulness_ratings_reviewer_id"), ["reviewer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_helpfulness_ratings_submission_id"), ["submission_id"], unique=False)

    # The reviewing grade (reviews/scoring/reviewing.py): its weights, and each reviewer's closeness per assignment.
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewing_weight", sa.Float(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("helpfulness_weight", sa.Float(), server_default="0.25", nullable=False))
    op.create_table(
        "reviewing_closeness",
        sa.Column("assignment_id", sa.String(length=32), nullable=False),
        sa.Column("reviewer_id", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("error_share", sa.Float(), nullable=False),
        sa.Column("lean_share", sa.Float(), nullable=False),
        sa.Column("grades", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_reviewing_closeness_assignment_id_assignments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], name=op.f("fk_reviewing_closeness_reviewer_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assignment_id", "reviewer_id", name=op.f("pk_reviewing_closeness")),
    )


def downgrade() -> None:
    # The reviewing grade's.
    op.drop_table("reviewing_closeness")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("helpfulness_weight")
        batch_op.drop_column("reviewing_weight")

    op.drop_table("helpfulness_ratings")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("require_overall_comment")
