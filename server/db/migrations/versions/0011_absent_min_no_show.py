"""offices.min_no_show_s: the least time between a call and "absent" (0: no minimum)

Revision ID: 0011_absent
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_absent"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("min_no_show_s", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("min_no_show_s")
