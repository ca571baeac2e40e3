"""credentials: issuer keys, issued Open Badges credentials, status lists

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import reviews.kernel.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "issuer_keys",
        sa.Column("public_multibase", sa.String(length=64), nullable=False),
        sa.Column("did", sa.String(length=80), nullable=False),
        sa.Column("retired_at", reviews.kernel.db.UTCDateTime(), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_keys")),
        sa.UniqueConstraint("public_multibase", name=op.f("uq_issuer_keys_public_multibase")),
    )
    with op.batch_alter_table("issuer_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issuer_keys_created_at"), ["created_at"], unique=False)

    op.create_table(
        "credential_status_lists",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.Column("next_index", sa.Integer(), nullable=False),
        sa.Column("bits_version", sa.Integer(), nullable=False),
        sa.Column("signed", sa.Text(), nullable=True),
        sa.Column("signed_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["issuer_keys.id"], name=op.f("fk_credential_status_lists_key_id_issuer_keys")),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_credential_status_lists")),
        sa.UniqueConstraint("url", name=op.f("uq_credential_status_lists_url")),
    )
    with op.batch_alter_table("credential_status_lists", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credential_status_lists_key_id"), ["key_id"], unique=False)
    op.create_table(
        "credential_subjects",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=45), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_credential_subjects_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_credential_subjects")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_credential_subjects_subject_id")),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("series", sa.String(length=120), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.String(length=32), nullable=False),
        sa.Column("course_id", sa.String(length=32), nullable=False),
        sa.Column("assignment_id", sa.String(length=32), nullable=True),
        sa.Column("submission_id", sa.String(length=32), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("status_list", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("created_at", reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", reviews.kernel.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_credentials_assignment_id_assignments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_credentials_course_id_courses"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["key_id"], ["issuer_keys.id"], name=op.f("fk_credentials_key_id_issuer_keys")),
        sa.ForeignKeyConstraint(["learner_id"], ["users.id"], name=op.f("fk_credentials_learner_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["status_list"], ["credential_status_lists.number"], name=op.f("fk_credentials_status_list_credential_status_lists")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_credentials_submission_id_submissions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("series", "sequence", name=op.f("uq_credentials_series_sequence")),
        sa.UniqueConstraint("status_list", "status_index", name=op.f("uq_credentials_status_list_status_index")),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credentials_assignment_id"), ["assignment_id"], unique=False)
        batch_op.create_index("ix_credentials_learner_course", ["learner_id", "course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credentials_submission_id"), ["submission_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_submission_id"))
        batch_op.drop_index("ix_credentials_learner_course")
        batch_op.drop_index(batch_op.f("ix_credentials_assignment_id"))
    op.drop_table("credentials")
    op.drop_table("credential_subjects")
    with op.batch_alter_table("credential_status_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_status_lists_key_id"))
    op.drop_table("credential_status_lists")
    with op.batch_alter_table("issuer_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issuer_keys_created_at"))
    op.drop_table("issuer_keys")
