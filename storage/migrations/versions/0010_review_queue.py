"""review queue of the understanding

Revision ID: 0010
Revises: 0001
Create Date: 2026-12-01 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = '0010'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'review_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('lang', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('guess', sa.String(length=32), nullable=True),
        sa.Column('created_at', storage.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column('label', sa.String(length=32), nullable=True),
        sa.Column('reviewed_by', sa.Integer(), nullable=True),
        sa.Column('reviewed_at', storage.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_review_items_message_id_messages'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['reviewed_by'], ['actors.id'], name=op.f('fk_review_items_reviewed_by_actors')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_items')),
    )
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.create_index('ix_review_items_pending', ['label', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_items_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_items_message_id'))
        batch_op.drop_index('ix_review_items_pending')
    op.drop_table('review_items')
