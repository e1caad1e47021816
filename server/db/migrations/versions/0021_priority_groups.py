"""Priority groups in the calling order (issue 19): the head index call-next walks, and the
queue index "people ahead" counts with, take the ticket's priority_rank (its group's place
among priority tickets) after `priority`, so both still read one index range in order.

Revision ID: 0021_priority_groups
Revises: 0020_citizens
"""
from alembic import op

revision = "0021_priority_groups"
down_revision = "0020_citizens"
branch_labels = None
depends_on = None

HEAD = ["office_id", "status", "location", "priority", "queued_at", "id"]
QUEUE = ["office_id", "status", "day", "service_id", "location", "priority", "queued_at"]


def _rebuild(with_rank: bool) -> None:
    for name, columns in (("ix_tickets_head", HEAD), ("ix_tickets_queue", QUEUE)):
        if with_rank:
            at = columns.index("priority") + 1
            columns = [*columns[:at], "priority_rank", *columns[at:]]
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", columns)


def upgrade() -> None:
    _rebuild(with_rank=True)


def downgrade() -> None:
    _rebuild(with_rank=False)
