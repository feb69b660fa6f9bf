"""The store reads its schema revision without Alembic (reading commands never load
it); the answer must be Alembic's own, for the migration files and for a database."""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from tracer.store import TraceStore
from tracer.store.migrate import alembic_config, current_revision, head_revision


def test_the_head_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_the_current_revision_is_alembics_before_and_after_migrating(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trace.db'}"
    engine = create_engine(url)
    try:
        assert current_revision(engine) is None  # never migrated
        TraceStore.open(url).close()
        with engine.connect() as conn:
            expected = MigrationContext.configure(conn).get_current_revision()
        assert current_revision(engine) == expected == head_revision()
    finally:
        engine.dispose()
