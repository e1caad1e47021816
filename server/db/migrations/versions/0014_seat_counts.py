"""waiting_areas keep their counts: seats used and tickets waiting outside, on `count_day`

The engine keeps them with each change instead of counting at every event; this fills
them from today's tickets (each office's service day, in its time zone).

Revision ID: 0014_seat_counts
Revises: 0013_rollups
"""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0014_seat_counts"
down_revision = "0013_rollups"
branch_labels = None
depends_on = None

_areas = sa.table("waiting_areas", sa.column("id"), sa.column("office_id"), sa.column("count_day", sa.Date),
                  sa.column("seats_used"), sa.column("waiting_outside"))
_offices = sa.table("offices", sa.column("id"), sa.column("timezone"))
_seats = sa.table("seats", sa.column("id"), sa.column("area_id"))
_services = sa.table("services", sa.column("id"), sa.column("area_id"))
_tickets = sa.table("tickets", sa.column("office_id"), sa.column("service_id"), sa.column("seat_id"),
                    sa.column("day", sa.Date), sa.column("status"), sa.column("location"))


def upgrade() -> None:
    with op.batch_alter_table("waiting_areas") as batch:
        batch.add_column(sa.Column("count_day", sa.Date(), nullable=True))
        for name in ("seats_used", "waiting_outside", "changes"):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    conn = op.get_bind()
    now = datetime.now(UTC)
    t = _tickets.c
    areas = conn.execute(sa.select(_areas.c.id, _offices.c.id, _offices.c.timezone)
                         .join(_offices, _offices.c.id == _areas.c.office_id)).all()
    for area_id, office_id, tz in areas:
        day = now.astimezone(ZoneInfo(tz or "Asia/Ho_Chi_Minh")).date()
        used = conn.execute(sa.select(sa.func.count()).select_from(_tickets).where(
            t.day == day, t.seat_id.in_(sa.select(_seats.c.id).where(_seats.c.area_id == area_id)))).scalar()
        outside = conn.execute(sa.select(sa.func.count()).select_from(_tickets).where(
            t.office_id == office_id, t.day == day, t.status == "waiting", t.location == "outside",
            t.service_id.in_(sa.select(_services.c.id).where(_services.c.area_id == area_id)))).scalar()
        conn.execute(_areas.update().where(_areas.c.id == area_id)
                     .values(count_day=day, seats_used=used, waiting_outside=outside))


def downgrade() -> None:
    with op.batch_alter_table("waiting_areas") as batch:
        for name in ("changes", "waiting_outside", "seats_used", "count_day"):
            batch.drop_column(name)
