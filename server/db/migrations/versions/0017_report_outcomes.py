"""report roll-ups keep visits by outcome and by procedure: the outcome counts, the counts
behind the city's targets (online filing, repeated completion requests) and each fact's procedure

Revision ID: 0017_report_outcomes
Revises: 0016_procedures
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_report_outcomes"
down_revision = "0016_procedures"
branch_labels = None
depends_on = None

COUNTS = ("oc_received", "oc_returned", "oc_online", "oc_advice", "oc_incomplete", "oc_referred",
          "online_possible", "counter_online_possible", "repeat_incomplete")


def upgrade() -> None:
    # Added in place (no rebuild of a year of roll-ups); days kept before had no outcomes: 0.
    for name in COUNTS:
        op.add_column("report_counts", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    for table in ("report_counts", "report_times"):
        op.add_column(table, sa.Column("procedure_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ("report_times", "report_counts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("procedure_id")
            if table == "report_counts":
                for name in COUNTS:
                    batch.drop_column(name)
