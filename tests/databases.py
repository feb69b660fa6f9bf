"""Database helpers shared by the test suites: what a store holds, byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
import zstandard
from sqlalchemy.engine import make_url


def all_database_text(store_url: str) -> bytes:
    """Every byte the database holds, as the secret scan sees it.

    SQLite: the raw file (and WAL) bytes plus every blob decompressed. PostgreSQL: every
    text/JSON column as text and every bytea column decompressed.
    """
    url = make_url(store_url)
    engine = sa.create_engine(url)
    chunks: list[bytes] = []
    try:
        if url.get_backend_name() == "sqlite":
            path = Path(str(url.database))
            for file in (path, path.with_name(path.name + "-wal")):
                if file.exists():
                    chunks.append(file.read_bytes())
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                rows = conn.execute(sa.text(f'SELECT * FROM "{table}"')).all()
                chunks.extend(_cell_bytes(cell) for row in rows for cell in row)
    finally:
        engine.dispose()
    return b"\n".join(chunks)


def _cell_bytes(cell: Any) -> bytes:
    if isinstance(cell, bytes | memoryview):
        data = bytes(cell)
        try:
            return zstandard.ZstdDecompressor().decompress(data) + b"\n" + data
        except zstandard.ZstdError:
            return data
    return str(cell).encode("utf-8")
