"""online booking: bookings, slot counters, booking settings, booked tickets' slot

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OFFICE_COLUMNS = (("booking_horizon_days", "6"), ("slot_minutes", "30"), ("bookings_per_phone", "2"),
                  ("check_in_before_s", "900"), ("check_in_after_s", "600"), ("reminder_s", "3600"),
                  ("near_places", "3"))


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        for name, default in OFFICE_COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default=default))
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("handling_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("walk_in_share", sa.Float(), nullable=False, server_default="0.5"))
        batch.add_column(sa.Column("bookable", sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("booked_for", server.db.models.UTCDateTime(), nullable=True))
    op.create_index("ix_tickets_booked", "tickets", ["office_id", "status", "booked_for"])
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("end", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("id_number", sa.String(20), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("manage_token", sa.String(40), nullable=False),
        sa.Column("created_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("checked_in_at", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("reminded_at", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("near_notified_at", server.db.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("office_id", "code"),
        sa.UniqueConstraint("manage_token"),
    )
    op.create_index("ix_bookings_phone", "bookings", ["office_id", "day", "phone"])
    op.create_index("ix_bookings_due", "bookings", ["status", "start"])
    op.create_index("ix_bookings_ticket_id", "bookings", ["ticket_id"])
    op.create_table(
        "booking_slots",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("start", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("service_id", "start"),
    )


def downgrade() -> None:
    op.drop_table("booking_slots")
    op.drop_index("ix_bookings_ticket_id", table_name="bookings")
    op.drop_index("ix_bookings_due", table_name="bookings")
    op.drop_index("ix_bookings_phone", table_name="bookings")
    op.drop_table("bookings")
    op.drop_index("ix_tickets_booked", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("booked_for")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("bookable")
        batch.drop_column("walk_in_share")
        batch.drop_column("handling_s")
    with op.batch_alter_table("offices") as batch:
        for name, _ in OFFICE_COLUMNS:
            batch.drop_column(name)
