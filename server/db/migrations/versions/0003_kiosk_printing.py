"""kiosk printers, print jobs, idempotent issuing

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("printer", sa.String(300), nullable=False, server_default="none"))
        batch.add_column(sa.Column("paper_mm", sa.Integer(), nullable=False, server_default="80"))
        batch.add_column(sa.Column("printer_status", sa.String(16), nullable=False, server_default="unknown"))
        batch.add_column(sa.Column("printer_detail", sa.String(300), nullable=True))
        batch.add_column(sa.Column("printer_checked_at", server.db.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("agent_online", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("request_key", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_tickets_request_key", ["office_id", "request_key"])
    op.create_table(
        "print_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(32), nullable=True),
        sa.Column("created_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("printed_at", server.db.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"]),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_print_jobs_device", "print_jobs", ["device_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_print_jobs_device", table_name="print_jobs")
    op.drop_table("print_jobs")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("uq_tickets_request_key", type_="unique")
        batch.drop_column("request_key")
    with op.batch_alter_table("devices") as batch:
        for column in ("agent_online", "printer_checked_at", "printer_detail", "printer_status",
                       "paper_mm", "printer"):
            batch.drop_column(column)
