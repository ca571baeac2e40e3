"""case rules: appeals name a criterion, contests link to the decision, authors' responses, released scores stay released

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import reviews.kernel.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('criterion_key', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('contests_case_id', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_cases_contests_case_id'), ['contests_case_id'])
        batch_op.create_foreign_key(
            batch_op.f('fk_cases_contests_case_id_cases'), 'cases', ['contests_case_id'], ['id'], ondelete='CASCADE'
        )
    op.create_table(
        'case_responses',
        sa.Column('case_id', sa.String(length=32), nullable=False),
        sa.Column('author_id', sa.String(length=32), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('created_at', reviews.kernel.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_responses_author_id_users')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_responses_case_id_cases'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_responses')),
    )
    with op.batch_alter_table('case_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_responses_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_responses_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_at', reviews.kernel.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('release_note', sa.Text(), nullable=True))
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('serve_rank', sa.Integer(), nullable=False, server_default='1'))
        batch_op.drop_index('ix_submissions_pool')
        batch_op.create_index('ix_submissions_pool', ['assignment_id', 'status', 'serve_rank', 'review_load'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_pool')
        batch_op.create_index('ix_submissions_pool', ['assignment_id', 'status', 'review_load'], unique=False)
        batch_op.drop_column('serve_rank')
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_column('release_note')
        batch_op.drop_column('released_at')
    with op.batch_alter_table('case_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_responses_created_at'))
        batch_op.drop_index(batch_op.f('ix_case_responses_case_id'))
    op.drop_table('case_responses')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_contests_case_id_cases'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_cases_contests_case_id'), type_='unique')
        batch_op.drop_column('contests_case_id')
        batch_op.drop_column('criterion_key')
