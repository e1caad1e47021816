"""waiting areas and seats: distancing rules, seat per waiting ticket, inside/outside

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waiting_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("max_share", sa.Float(), nullable=False),
        sa.Column("min_distance_m", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("exact", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("office_id", "code"),
    )
    op.create_table(
        "seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("out_of_service", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("usable", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["waiting_areas.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("area_id", "label"),
    )
    op.create_index("ix_seats_area_id", "seats", ["area_id"])
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("area_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_services_area", "waiting_areas", ["area_id"], ["id"])
    with op.batch_alter_table("counters") as batch:
        batch.add_column(sa.Column("x", sa.Float(), nullable=True))
        batch.add_column(sa.Column("y", sa.Float(), nullable=True))
    op.drop_index("ix_tickets_head", table_name="tickets")
    op.drop_index("ix_tickets_queue", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("location", sa.String(8), nullable=False, server_default="inside"))
        batch.add_column(sa.Column("seat_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("called_in_at", server.db.models.UTCDateTime(), nullable=True))
        batch.create_foreign_key("fk_tickets_seat", "seats", ["seat_id"], ["id"])
    op.create_index("ix_tickets_head", "tickets",
                    ["office_id", "status", "location", "priority", "queued_at", "id"])
    op.create_index("ix_tickets_queue", "tickets",
                    ["office_id", "status", "service_id", "location", "priority", "queued_at"])
    op.create_index("uq_tickets_seat", "tickets", ["seat_id"], unique=True)
    op.create_index("ix_tickets_called_in", "tickets", ["office_id", "called_in_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_called_in", table_name="tickets")
    op.drop_index("uq_tickets_seat", table_name="tickets")
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.drop_index("ix_tickets_head", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("fk_tickets_seat", type_="foreignkey")
        batch.drop_column("called_in_at")
        batch.drop_column("seat_id")
        batch.drop_column("location")
    op.create_index("ix_tickets_head", "tickets", ["office_id", "status", "priority", "queued_at", "id"])
    op.create_index("ix_tickets_queue", "tickets", ["office_id", "status", "service_id", "priority", "queued_at"])
    with op.batch_alter_table("counters") as batch:
        batch.drop_column("y")
        batch.drop_column("x")
    with op.batch_alter_table("services") as batch:
        batch.drop_constraint("fk_services_area", type_="foreignkey")
        batch.drop_column("area_id")
    op.drop_index("ix_seats_area_id", table_name="seats")
    op.drop_table("seats")
    op.drop_table("waiting_areas")
