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
            tables = sa.inspect(conn).get_table_names()
            dictionaries = _dictionaries(conn) if "payload_dictionary" in tables else {}
            for table in tables:
                rows = conn.execute(sa.text(f'SELECT * FROM "{table}"')).all()
                chunks.extend(_cell_bytes(cell, dictionaries) for row in rows for cell in row)
    finally:
        engine.dispose()
    return b"\n".join(chunks)


def _dictionaries(conn: sa.Connection) -> dict[int, zstandard.ZstdCompressionDict]:
    """The store's payload dictionaries by id: a payload's frame names the one it needs."""
    rows = conn.execute(sa.text("SELECT dict_id, data FROM payload_dictionary"))
    return {int(i): zstandard.ZstdCompressionDict(bytes(d)) for i, d in rows}


def _cell_bytes(cell: Any, dictionaries: dict[int, zstandard.ZstdCompressionDict]) -> bytes:
    if isinstance(cell, bytes | memoryview):
        data = bytes(cell)
        try:
            dict_id = zstandard.get_frame_parameters(data).dict_id
            reader = zstandard.ZstdDecompressor(dict_data=dictionaries.get(dict_id))
            return reader.decompress(data) + b"\n" + data
        except zstandard.ZstdError:
            return data
    return str(cell).encode("utf-8")
