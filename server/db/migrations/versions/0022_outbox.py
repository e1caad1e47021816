"""The durable outbox (issue 20): every outgoing message is a row written in the
transaction of the change that causes it, sent and retried by the outbox sender.

Revision ID: 0022_outbox
Revises: 0021_priority_groups
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0022_outbox"
down_revision = "0021_priority_groups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(300), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("lease_until", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("delivered_via", sa.String(16), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("sent_at", server.db.models.UTCDateTime(), nullable=True),
        sa.UniqueConstraint("office_id", "dedup_key", name="uq_outbox_messages_dedup"),
    )
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_messages_lease", "outbox_messages", ["status", "lease_until"])
    op.create_index("ix_outbox_messages_office", "outbox_messages", ["office_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_office", table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_lease", table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.drop_table("outbox_messages")
