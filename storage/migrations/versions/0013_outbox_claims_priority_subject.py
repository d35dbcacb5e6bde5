"""outbox: claimer and start of the request, priority, the person a message is about

Revision ID: 0013
Revises: 0001
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = '0013'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('about_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('priority', sa.Integer(), server_default='1', nullable=False)
        )
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                'started_at', storage.models.base.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(batch_op.f('ix_outbox_about_id'), ['about_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_about_id'))
        batch_op.drop_column('started_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('priority')
        batch_op.drop_column('about_id')
