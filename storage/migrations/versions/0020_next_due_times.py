"""next-due times for the scans, indexes for retention

Commitments and cases get the time their scan must next look at them; open commitments are
looked at once by the next scan, which sets their next time. Retention's range deletes and
the detaching of replies get the indexes they need.

Revision ID: 0020
Revises: 0001
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0020"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003"

INDEXES = (
    ("action_plans", "coach_id"),
    ("messages", "received_at"),
    ("outbox", "created_at"),
    ("outbox", "call_id"),
    ("outbox", "cause_id"),
    ("calls", "last_activity_at"),
    ("flow_sessions", "updated_at"),
    ("cases", "source_message_id"),
)
OPEN = ("not_started", "in_progress", "blocked")


def upgrade() -> None:
    when = storage.models.base.UtcDateTime(timezone=True)
    with op.batch_alter_table("commitments", schema=None) as batch:
        batch.add_column(
            sa.Column(
                "remind_at", when, nullable=True, server_default=storage.models.base.RECHECK_SQL
            )
        )
        batch.create_index(batch.f("ix_commitments_remind_at"), ["remind_at"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch:
        batch.add_column(sa.Column("sla_check_at", when, nullable=True))
        batch.create_index(batch.f("ix_cases_sla_check_at"), ["sla_check_at"], unique=False)
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)

    commitments = sa.table("commitments", sa.column("status"), sa.column("remind_at", when))
    op.execute(
        commitments.update()
        .where(commitments.c.status.in_(OPEN))
        .values(remind_at=storage.models.base.RECHECK)
    )
    cases = sa.table(
        "cases",
        sa.column("status"),
        sa.column("acknowledged_at", when),
        sa.column("ack_due_at", when),
        sa.column("sla_check_at", when),
    )
    op.execute(
        cases.update()
        .where(cases.c.status == "open", cases.c.acknowledged_at.is_(None))
        .values(sla_check_at=cases.c.ack_due_at)
    )


def downgrade() -> None:
    for table, column in INDEXES:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    with op.batch_alter_table("cases", schema=None) as batch:
        batch.drop_index(batch.f("ix_cases_sla_check_at"))
        batch.drop_column("sla_check_at")
    with op.batch_alter_table("commitments", schema=None) as batch:
        batch.drop_index(batch.f("ix_commitments_remind_at"))
        batch.drop_column("remind_at")
