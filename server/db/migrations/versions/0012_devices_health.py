"""device health: online or not, its last heartbeat, and when its states last changed

Revision ID: 0012_devices
Revises: 0011_absent
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0012_devices"
down_revision = "0011_absent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        # A page of the device (kiosk page, lobby display) has a socket open in some process.
        batch.add_column(sa.Column("online", sa.Boolean(), nullable=False, server_default=sa.false()))
        # The last time a process said it still holds such a socket (a heartbeat).
        batch.add_column(sa.Column("alive_at", server.db.models.UTCDateTime(), nullable=True))
        # When it last came online or went offline.
        batch.add_column(sa.Column("seen_at", server.db.models.UTCDateTime(), nullable=True))
        # When the printer's state last changed (printer_checked_at: when it was last read).
        batch.add_column(sa.Column("printer_since", server.db.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        for column in ("printer_since", "seen_at", "alive_at", "online"):
            batch.drop_column(column)
