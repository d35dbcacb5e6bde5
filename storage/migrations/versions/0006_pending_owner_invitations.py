"""plans2: invitations made for a pending owner of a plan

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
# The invitations table comes from 0004, another branch off 0001.
depends_on: str | Sequence[str] | None = "0004"


def upgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("owner_text", sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invitations_plan_id_action_plans"), "action_plans", ["plan_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_invitations_plan_id_action_plans"), type_="foreignkey"
        )
        batch_op.drop_column("owner_text")
        batch_op.drop_column("plan_id")
