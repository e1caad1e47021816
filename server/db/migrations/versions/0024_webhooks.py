"""Webhooks (issue 20): the endpoints an office's other systems registered, the events each
wants, its signing key and the last delivery's answer.

Revision ID: 0024_webhooks
Revises: 0023_zalo_tokens
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0024_webhooks"
down_revision = "0023_zalo_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("description", sa.String(200), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_response", sa.String(300)),
        sa.Column("last_at", server.db.models.UTCDateTime()),
    )
    op.create_index("ix_webhooks_office_id", "webhooks", ["office_id"])


def downgrade() -> None:
    op.drop_index("ix_webhooks_office_id", table_name="webhooks")
    op.drop_table("webhooks")
