"""Dossiers and results: the dossier register with its event log, and the office's
settings for returning results (postal fee, postal target, the kiosk's return service)

Revision ID: 0018_dossiers
Revises: 0017_report_outcomes
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0018_dossiers"
down_revision = "0017_report_outcomes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("code_key", sa.String(64), nullable=False),
        sa.Column("procedure_id", sa.Integer(), sa.ForeignKey("procedures.id"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("ready_at", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("posted_at", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("finished_at", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("return_method", sa.String(8), nullable=True),
        sa.Column("recipient", sa.String(120), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("private_token", sa.String(40), nullable=False, unique=True),
        sa.Column("notified_at", server.db.models.UTCDateTime(), nullable=True),
        sa.Column("booking_id", sa.Integer(), sa.ForeignKey("bookings.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("updated_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.UniqueConstraint("office_id", "code_key"),
    )
    op.create_index("ix_dossiers_status", "dossiers", ["office_id", "status", "due_on"])
    op.create_index("ix_dossiers_received", "dossiers", ["office_id", "received_at"])
    op.create_table(
        "dossier_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dossier_id", sa.Integer(), sa.ForeignKey("dossiers.id"), nullable=False),
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_dossier_events_dossier_id", "dossier_events", ["dossier_id"])
    op.add_column("offices", sa.Column("postal_fee", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("offices", sa.Column("postal_target_pct", sa.Integer(), nullable=False, server_default="25"))
    op.add_column("offices", sa.Column("return_service", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("return_service")
        batch.drop_column("postal_target_pct")
        batch.drop_column("postal_fee")
    op.drop_index("ix_dossier_events_dossier_id", table_name="dossier_events")
    op.drop_table("dossier_events")
    op.drop_index("ix_dossiers_received", table_name="dossiers")
    op.drop_index("ix_dossiers_status", table_name="dossiers")
    op.drop_table("dossiers")
