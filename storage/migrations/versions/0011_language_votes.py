"""conversations: the variants a person wrote in lately, per person and per call

The interface language of a person follows the variant they mostly use, not their last
message: the last few variants identified with confidence are kept on the actor.

Revision ID: 0011
Revises: 0001
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("actors", schema=None) as batch:
        batch.add_column(sa.Column("recent_langs", sa.JSON(), nullable=True))
    with op.batch_alter_table("calls", schema=None) as batch:
        batch.add_column(sa.Column("lang", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch:
        batch.drop_column("lang")
    with op.batch_alter_table("actors", schema=None) as batch:
        batch.drop_column("recent_langs")
