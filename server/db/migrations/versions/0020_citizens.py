"""Citizens at the kiosk (issue 19): the office's ID-card, daily-cap, priority-age and
priority-group settings; a ticket's priority group (and its place in the calling order), the
note a guide leaves for the officer, the keyed hash of a scanned ID number and the birth year
that granted priority; bookings keep a keyed hash of the ID number instead of the number;
kiosks' help requests; the reports count tickets issued by a guide.

Bookings' ID numbers given before this revision are erased, not hashed: the key (the server's
secret) is not known here, and a booking lives a few days (it can still be checked in by its
code).

Revision ID: 0020_citizens
Revises: 0019_dossier_report_indexes
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0020_citizens"
down_revision = "0019_dossier_report_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("offices", sa.Column("id_card_scan", sa.String(8), nullable=False, server_default="off"))
    op.add_column("offices", sa.Column("per_citizen_per_day", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("offices", sa.Column("priority_age", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("offices", sa.Column("priority_groups", sa.JSON(), nullable=True))
    op.add_column("tickets", sa.Column("priority_group", sa.String(16), nullable=True))
    op.add_column("tickets", sa.Column("priority_rank", sa.SmallInteger(), nullable=False, server_default="0"))
    op.add_column("tickets", sa.Column("note", sa.String(200), nullable=True))
    op.add_column("tickets", sa.Column("citizen_key", sa.String(64), nullable=True))
    op.add_column("tickets", sa.Column("birth_year", sa.SmallInteger(), nullable=True))
    op.create_index("ix_tickets_citizen", "tickets", ["office_id", "day", "citizen_key"])
    op.add_column("bookings", sa.Column("id_key", sa.String(64), nullable=True))
    op.create_index("ix_bookings_id_key", "bookings", ["office_id", "day", "id_key"])
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("id_number")
    op.create_table(
        "help_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id", ondelete="SET NULL"), nullable=True),
        sa.Column("place", sa.String(100), nullable=False),
        sa.Column("asked_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("answered_at", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("answered_by", sa.String(120), nullable=True),
    )
    op.create_index("ix_help_requests_open", "help_requests", ["office_id", "answered_at", "asked_at"])
    op.add_column("report_counts", sa.Column("ch_guide", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("report_counts") as batch:
        batch.drop_column("ch_guide")
    op.drop_index("ix_help_requests_open", table_name="help_requests")
    op.drop_table("help_requests")
    op.drop_index("ix_bookings_id_key", table_name="bookings")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("id_key")
        batch.add_column(sa.Column("id_number", sa.String(20), nullable=True))
    op.drop_index("ix_tickets_citizen", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        for column in ("birth_year", "citizen_key", "note", "priority_rank", "priority_group"):
            batch.drop_column(column)
    with op.batch_alter_table("offices") as batch:
        for column in ("priority_groups", "priority_age", "per_citizen_per_day", "id_card_scan"):
            batch.drop_column(column)
