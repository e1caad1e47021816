"""The hot path: offices.config_rev, and the queue index with the service day

`config_rev` rises with every change to what a process caches of an office (services,
counters, areas), so a cached office is checked with one small read instead of being
read again whole every two seconds. `ix_tickets_queue` gains `day`: counting who waits
(every event's waiting counts, a ticket's place in line) reads the index alone.

Revision ID: 0015_hot_path
Revises: 0014_seat_counts
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_hot_path"
down_revision = "0014_seat_counts"
branch_labels = None
depends_on = None

OLD = ["office_id", "status", "service_id", "location", "priority", "queued_at"]
NEW = ["office_id", "status", "day", "service_id", "location", "priority", "queued_at"]


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("config_rev", sa.Integer(), nullable=False, server_default="0"))
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.create_index("ix_tickets_queue", "tickets", NEW)


def downgrade() -> None:
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.create_index("ix_tickets_queue", "tickets", OLD)
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("config_rev")
