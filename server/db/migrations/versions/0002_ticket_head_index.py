"""index for call-next: one office's waiting tickets in calling order

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_head", "tickets", ["office_id", "status", "priority", "queued_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_head", table_name="tickets")
