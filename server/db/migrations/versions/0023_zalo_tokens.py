"""Zalo ZNS (issue 20): the app's access and refresh tokens, shared by the server processes and
kept across restarts, with the lease of the process renewing them.

Revision ID: 0023_zalo_tokens
Revises: 0022_outbox
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0023_zalo_tokens"
down_revision = "0022_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zalo_tokens",
        sa.Column("app_id", sa.String(40), primary_key=True),
        sa.Column("access_token", sa.String(1000), nullable=True),
        sa.Column("expires_at", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("refresh_token", sa.String(1000), nullable=True),
        sa.Column("seed", sa.String(64), nullable=True),
        sa.Column("lease_owner", sa.String(40), nullable=True),
        sa.Column("lease_until", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("updated_at", server.db.models.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("zalo_tokens")
