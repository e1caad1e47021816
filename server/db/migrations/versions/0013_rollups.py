"""report roll-ups: each closed service day's figures, so a year's report reads no event log

Revision ID: 0013_rollups
Revises: 0012_devices
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0013_rollups"
down_revision = "0012_devices"
branch_labels = None
depends_on = None

# The columns as they were then (0017_report_outcomes added more).
COUNTS = (
    "issued", "transferred_in", "transferred_out", "served", "no_show", "cancelled", "unserved", "calls",
    "priority", "ch_kiosk", "ch_booking", "ch_counter", "ch_api", "lv1", "lv2", "lv3", "lv4",
    "booked", "checked_in", "booking_no_show",
)


def _keys() -> list:
    return [sa.Column("office_id", sa.Integer(), nullable=False), sa.Column("day", sa.Date(), nullable=False),
            sa.Column("service_id", sa.Integer()), sa.Column("counter_id", sa.Integer()),
            sa.Column("officer_id", sa.Integer())]


def upgrade() -> None:
    op.create_table(
        "report_days",
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("offices.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("rolled_at", server.db.models.UTCDateTime(), nullable=False))
    op.create_table("report_counts", *_keys(), *(sa.Column(c, sa.Integer(), nullable=False) for c in COUNTS))
    op.create_index("ix_report_counts_day", "report_counts", ["office_id", "day"])
    op.create_table("report_times", *_keys(), sa.Column("kind", sa.String(1), nullable=False),
                    sa.Column("us", sa.BigInteger(), nullable=False))
    op.create_index("ix_report_times_day", "report_times", ["office_id", "day"])
    op.create_table(
        "report_hours",
        sa.Column("office_id", sa.Integer(), nullable=False), sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False), sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False))
    op.create_index("ix_report_hours_day", "report_hours", ["office_id", "day"])


def downgrade() -> None:
    for table in ("report_hours", "report_times", "report_counts", "report_days"):
        op.drop_table(table)
