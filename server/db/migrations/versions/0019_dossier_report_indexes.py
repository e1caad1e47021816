"""Dossier figures of the reports: an index per moment a figure counts by (ready, "your result
is ready" sent, finished, posted), each after the office, so a city's month reads only the
month's rows (server/read/report_dossiers.py; received_at has its index already)

Revision ID: 0019_dossier_report_indexes
Revises: 0018_dossiers
"""
from alembic import op

revision = "0019_dossier_report_indexes"
down_revision = "0018_dossiers"
branch_labels = None
depends_on = None

MOMENTS = ("ready_at", "notified_at", "finished_at", "posted_at")


def upgrade() -> None:
    for moment in MOMENTS:
        op.create_index(f"ix_dossiers_{moment}", "dossiers", ["office_id", moment])


def downgrade() -> None:
    for moment in MOMENTS:
        op.drop_index(f"ix_dossiers_{moment}", table_name="dossiers")
