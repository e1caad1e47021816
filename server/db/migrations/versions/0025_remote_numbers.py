"""Numbers taken from a phone and walk-ins' phones (issue 20, items 3 and 4): the office's
[remote] settings, the phone a citizen leaves on a ticket (kept while it is open), each
phone's remote numbers per day (a keyed hash: the daily cap), one-time codes (hashed), and
the reports' count of tickets taken remotely.

Revision ID: 0025_remote_numbers
Revises: 0024_webhooks
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0025_remote_numbers"
down_revision = "0024_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("offices", sa.Column("remote", sa.JSON(), nullable=True))
    op.add_column("report_counts", sa.Column("ch_remote", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "ticket_phones",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("created_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("near_at", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("come_in_at", server.db.models.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_ticket_phones_office", "ticket_phones", ["office_id", "near_at"])
    op.create_table(
        "remote_takes",
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("offices.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("phone_key", sa.String(64), primary_key=True),
        sa.Column("taken", sa.Integer(), nullable=False),
    )
    op.create_table(
        "phone_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("phone_key", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
    )
    op.create_index("ix_phone_codes_phone", "phone_codes", ["office_id", "phone_key"])


def downgrade() -> None:
    op.drop_index("ix_phone_codes_phone", table_name="phone_codes")
    op.drop_table("phone_codes")
    op.drop_table("remote_takes")
    op.drop_index("ix_ticket_phones_office", table_name="ticket_phones")
    op.drop_table("ticket_phones")
    with op.batch_alter_table("report_counts") as batch:
        batch.drop_column("ch_remote")
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("remote")
