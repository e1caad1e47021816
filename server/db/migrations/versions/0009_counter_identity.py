"""a counter is known by its number: its label is a name, no longer unique

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# SQLite's constraint has no name: batch mode names the reflected one by this convention.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s"}


def _label_constraint() -> str | None:
    for uq in sa.inspect(op.get_bind()).get_unique_constraints("counters"):
        if uq["column_names"] == ["office_id", "label"]:
            return uq["name"] or NAMING["uq"] % {"table_name": "counters", "column_0_name": "office_id",
                                                  "column_1_name": "label"}
    return None


def upgrade() -> None:
    name = _label_constraint()
    if name:
        with op.batch_alter_table("counters", naming_convention=NAMING) as batch:
            batch.drop_constraint(name, type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("counters") as batch:
        batch.create_unique_constraint("uq_counters_office_id_label", ["office_id", "label"])
