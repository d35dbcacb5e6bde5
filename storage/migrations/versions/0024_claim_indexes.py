"""indexes the claim of a message searches, whatever the history or backlog

`ix_messages_pending` becomes partial (only unhandled messages) over (channel, chat_id,
id): the oldest unhandled message of a chat is its first entry, where PostgreSQL sorted the
chat's whole backlog. `ix_messages_actor_received` (actor_id, received_at) makes the flood
check a range of the window, where the index on actor_id alone read the actor's whole
history; it replaces that index (its first column serves lookups by actor_id).
`ix_calls_actor_id` gains the id: an actor's latest call without sorting their calls.

Revision ID: 0024
Revises: 0001
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNHANDLED = sa.text("handled_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_messages_pending", table_name="messages")
    op.create_index(
        "ix_messages_pending",
        "messages",
        ["channel", "chat_id", "id"],
        unique=False,
        sqlite_where=UNHANDLED,
        postgresql_where=UNHANDLED,
    )
    op.create_index(
        "ix_messages_actor_received", "messages", ["actor_id", "received_at"], unique=False
    )
    op.drop_index("ix_messages_actor_id", table_name="messages")
    op.drop_index("ix_calls_actor_id", table_name="calls")
    op.create_index("ix_calls_actor_id", "calls", ["actor_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_calls_actor_id", table_name="calls")
    op.create_index("ix_calls_actor_id", "calls", ["actor_id"], unique=False)
    op.create_index("ix_messages_actor_id", "messages", ["actor_id"], unique=False)
    op.drop_index("ix_messages_actor_received", table_name="messages")
    op.drop_index("ix_messages_pending", table_name="messages")
    op.create_index(
        "ix_messages_pending", "messages", ["channel", "chat_id", "handled_at"], unique=False
    )
