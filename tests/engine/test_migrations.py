"""The migrations build exactly the schema the models describe, on both databases."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select

from server.db.database import MIGRATIONS, Database
from server.db.models import Base, Service, WaitingArea
from server.engine import hours, lookups
from server.infra.clock import Clock
from tests.conftest import make_app
from tests.engine.test_seats import issue, small_office
from tests.support.seatcheck import kept_counts, recount


def test_migrated_schema_matches_the_models(db_url):
    db = Database(db_url)
    db.migrate()
    with db.write_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    db.dispose()
    assert diff == []


def test_seat_counts_are_filled_from_todays_tickets(db_url, tmp_path):
    """0014 keeps each area's counts in its row: upgrading an office full of waiting
    citizens fills them with what a recount of today's tickets gives."""


    app = make_app(db_url, Clock(), tmp_path, small_office())  # the real clock: the migration's day is today
    state = app.extensions["motcua"]
    for service in ("HT", "HT", "CT", "HT", "HT", "TK", "TK"):
        issue(state, service)
    state.db.dispose()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(state.db.write_engine.url)  # plain: SQLite's foreign keys off, as migrate() has them
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013_rollups")
    engine.dispose()
    db = Database(db_url)
    db.migrate()
    with db.read() as s:
        office = lookups.office_info(s, "demo")
        day = hours.service_day(state.clock.now(), office.timezone)
        found = {}
        for area in s.scalars(select(WaitingArea).order_by(WaitingArea.code)):
            services = s.scalars(select(Service.id).where(Service.area_id == area.id)).all()
            found[area.code] = (kept_counts(area, day), recount(s, area, services, day))
    db.dispose()
    assert found == {"R": ((1, 1), (1, 1)), "S": ((3, 2), (3, 2))}
