"""Procedures and visit outcomes: the office's procedures catalogue, and on each ticket
the procedure it was for, what the visit achieved and the dossier's receipt code

Revision ID: 0016_procedures
Revises: 0015_hot_path
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_procedures"
down_revision = "0015_hot_path"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("office_id", sa.Integer(), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("service_id", sa.Integer(), sa.ForeignKey("services.id"), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("online", sa.String(8), nullable=False),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("fee", sa.String(120), nullable=True),
        sa.Column("processing_days", sa.Integer(), nullable=False),
        sa.Column("by_post", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("office_id", "code"),
    )
    # Added in place, with no table rebuild on SQLite (a city's tickets table is large):
    # SQLite takes a column's reference in ADD COLUMN, which alembic does not write.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE tickets ADD COLUMN procedure_id INTEGER REFERENCES procedures (id)")
    else:
        op.add_column("tickets", sa.Column("procedure_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_tickets_procedure", "tickets", "procedures", ["procedure_id"], ["id"])
    op.add_column("tickets", sa.Column("outcome", sa.String(16), nullable=True))
    op.add_column("tickets", sa.Column("dossier", sa.String(64), nullable=True))
    op.create_index("ix_tickets_dossier", "tickets", ["office_id", "dossier"])


def downgrade() -> None:
    op.drop_index("ix_tickets_dossier", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("dossier")
        batch.drop_column("outcome")
        batch.drop_column("procedure_id")
    op.drop_table("procedures")
