"""Which schema revision this steptrace reads, without loading Alembic or SQLAlchemy.

The revision ids are read from the migration files themselves, so a read-only open
(:func:`tracer.store.migrate.check_current`, and the lean reader of
:mod:`tracer.store.reader`) checks a store's schema with one query and this.
"""

from __future__ import annotations

import re
from pathlib import Path

from tracer.store.errors import StoreMigrationError, StoreUnavailableError, TraceStoreError

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "head_revision", "revision_problem"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
_REVISION = re.compile(r'^(down_)?revision\b[^=]*=\s*(?:"([^"]+)"|None)', re.MULTILINE)


def head_revision() -> str | None:
    """The newest revision among the migration files (the one no other revises)."""
    revised: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("rev*.py"):
        found = {bool(m.group(1)): m.group(2) for m in _REVISION.finditer(path.read_text())}
        if False not in found:
            raise RuntimeError(f"migration file {path} names no revision")
        revised[str(found[False])] = found.get(True)
    heads = set(revised) - set(revised.values())
    if len(heads) > 1:
        raise RuntimeError(f"the migrations in {MIGRATIONS_DIR} have several heads: {heads}")
    return heads.pop() if heads else None


def revision_problem(current: str | None, database: str) -> TraceStoreError | None:
    """Why a store at schema revision ``current`` cannot be read as it is (None: it can)."""
    head = head_revision()
    if current == head:
        return None
    if current is None:
        return StoreUnavailableError(
            "no trace store here yet (no runs recorded); run a pipeline first, or point "
            "STEPTRACE_DATABASE_URL at the store",
            database=database,
        )
    return StoreMigrationError(
        f"the store's schema is at revision {current}, this steptrace reads {head}; a "
        "writing command (steptrace run, worker or up) upgrades it, or upgrade steptrace",
        database=database,
    )
