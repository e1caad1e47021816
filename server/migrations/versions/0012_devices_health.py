"""device health: open page connections per device and when its state last changed

Revision ID: 0012_devices
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

import server.models

revision = "0012_devices"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        # Open page sockets (kiosk page, lobby display); online while above zero.
        batch.add_column(sa.Column("links", sa.Integer(), nullable=False, server_default="0"))
        # When it last came online or went offline.
        batch.add_column(sa.Column("seen_at", server.models.UTCDateTime(), nullable=True))
        # When the printer's state last changed (printer_checked_at: when it was last read).
        batch.add_column(sa.Column("printer_since", server.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        for column in ("printer_since", "seen_at", "links"):
            batch.drop_column(column)
