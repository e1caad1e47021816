"""The migrations build exactly the schema the models describe, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.db import Database
from server.models import Base


def test_migrated_schema_matches_the_models(db_url):
    db = Database(db_url)
    db.migrate()
    with db.write_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    db.dispose()
    assert diff == []
