"""outbox: partial indexes of the open rows, in sending order and per chat

Revision ID: 0041
Revises: 0001
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0013"  # the priority column

OPEN_ROWS = "status IN ('pending', 'sending')"


def upgrade() -> None:
    for name, columns in (
        ("ix_outbox_open", ["channel", "priority", "id"]),
        ("ix_outbox_open_chat", ["chat_id", "priority", "id"]),
    ):
        op.create_index(
            name,
            "outbox",
            columns,
            sqlite_where=sa.text(OPEN_ROWS),
            postgresql_where=sa.text(OPEN_ROWS),
        )


def downgrade() -> None:
    op.drop_index("ix_outbox_open_chat", table_name="outbox")
    op.drop_index("ix_outbox_open", table_name="outbox")
