"""lobby display: notice text and announcement options per office

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("notice", sa.String(500), nullable=True))
        batch.add_column(sa.Column("announce_english", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("announce_digits", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        for column in ("announce_digits", "announce_english", "notice"):
            batch.drop_column(column)
