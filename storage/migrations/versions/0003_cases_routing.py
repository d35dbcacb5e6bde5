"""cases: coordinators, on-duty coaches, coach signature, acknowledgement deadline

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("actors") as batch:
        batch.add_column(
            sa.Column("is_coordinator", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("on_duty", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("coach_signature", sa.String(length=64), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("ack_due_at", storage.models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch.create_index(batch.f("ix_cases_ack_due_at"), ["ack_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(batch.f("ix_cases_ack_due_at"))
        batch.drop_column("ack_due_at")
    with op.batch_alter_table("actors") as batch:
        batch.drop_column("coach_signature")
        batch.drop_column("on_duty")
        batch.drop_column("is_coordinator")
