"""counter workstation: officers' counters, one officer per counter, login lockout, ratings

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", server.db.models.UTCDateTime(), nullable=True))
    op.create_table(
        "user_counters",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("counter_id", sa.Integer(), sa.ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
    )
    with op.batch_alter_table("counters") as batch:
        batch.add_column(sa.Column("officer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("held_since", server.db.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("status_since", server.db.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("pause_reason", sa.String(200), nullable=True))
        batch.add_column(sa.Column("services_rev", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key("fk_counters_officer", "users", ["officer_id"], ["id"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("officer_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_tickets_officer", "users", ["officer_id"], ["id"])
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("at", server.db.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.ForeignKeyConstraint(["counter_id"], ["counters.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
    )
    op.create_index("ix_ratings_office_id", "ratings", ["office_id"])


def downgrade() -> None:
    op.drop_index("ix_ratings_office_id", table_name="ratings")
    op.drop_table("ratings")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("fk_tickets_officer", type_="foreignkey")
        batch.drop_column("officer_id")
    with op.batch_alter_table("counters") as batch:
        batch.drop_constraint("fk_counters_officer", type_="foreignkey")
        for column in ("services_rev", "pause_reason", "status_since", "held_since", "officer_id"):
            batch.drop_column(column)
    op.drop_table("user_counters")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
