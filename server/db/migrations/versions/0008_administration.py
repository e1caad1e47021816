"""administration and reports: audit log, city-wide admins, session epochs, target wait

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("target_wait_s", sa.Integer(), nullable=False, server_default="900"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("city_wide", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_office", "audit_log", ["office_id", "id"])
    op.create_index("ix_ticket_events_office_at", "ticket_events", ["office_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_office_at", "ticket_events")
    op.drop_index("ix_audit_log_office", "audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
        batch.drop_column("city_wide")
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("target_wait_s")
