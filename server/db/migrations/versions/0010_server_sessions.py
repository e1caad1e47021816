"""server-side sessions: the cookie holds a random id only; no per-account lockout

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

import server.db.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", server.db.models.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", server.db.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_user_sessions_user", "user_sessions", ["user_id", "revoked_at"])
    op.create_index("ix_user_sessions_expires", "user_sessions", ["expires_at"])
    # Sessions are revoked row by row now; failed log-ins are throttled per address, not
    # counted on the account (a stranger could lock a real officer out).
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", server.db.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
    op.drop_index("ix_user_sessions_expires", "user_sessions")
    op.drop_index("ix_user_sessions_user", "user_sessions")
    op.drop_table("user_sessions")
