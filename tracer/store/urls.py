"""The store's database URLs read without SQLAlchemy: which backend, which file or server.

The lean reader (:mod:`tracer.store.reader`) opens the database through its DB-API
driver, so it cannot use SQLAlchemy's URL parser; it understands the URLs the store
documents: ``sqlite:///path/to/trace.db`` and ``postgresql[+psycopg]://user:pw@host/db``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from tracer.store.errors import TraceStoreError

__all__ = ["StoreUrl", "default_url", "parse_store_url"]

_SCHEME = re.compile(r"^(?P<backend>[A-Za-z0-9]+)(?:\+(?P<driver>[A-Za-z0-9_]+))?://(?P<rest>.*)$")
_PASSWORD = re.compile(r"^(?P<user>[^:/@]*):[^@/]*@")
_HIDDEN = r"\g<user>:***@"


def default_url(root: Path) -> str:
    """``sqlite:///<root>/trace.db`` with ``root`` made absolute (relative to the cwd)."""
    return f"sqlite:///{(root / 'trace.db').absolute()}"


@dataclass(frozen=True)
class StoreUrl:
    """A parsed store URL: ``target`` is the SQLite file, or a libpq connection URI."""

    backend: Literal["sqlite", "postgresql"]
    target: str
    database: str  # for messages: the URL with its password hidden
    options: str = ""  # PostgreSQL: the URL's own server ``options`` (a search_path, say)


def parse_store_url(url: str) -> StoreUrl:
    """The backend and target of ``url``; :class:`TraceStoreError` for anything else."""
    matched = _SCHEME.match(url)
    shown = _hide_password(url)
    if matched is None:
        raise TraceStoreError(
            "cannot read the database URL; use sqlite:///path/to/trace.db or "
            "postgresql+psycopg://user:password@host/db",
            database="<unparseable database URL>",
        )
    backend, rest = matched["backend"], matched["rest"]
    if backend == "sqlite":
        path = rest.split("?", 1)[0]
        path = path[1:] if path.startswith("/") else path
        if not path or path == ":memory:" or path.startswith("file:"):
            raise TraceStoreError(
                "in-memory or URI-style SQLite is not supported; give a file path "
                "(sqlite:///path/to/trace.db)",
                database=shown,
            )
        return StoreUrl("sqlite", str(Path(path).absolute()), shown)
    if backend == "postgresql":
        options = " ".join(parse_qs(urlsplit(url).query).get("options", []))
        return StoreUrl("postgresql", f"postgresql://{rest}", shown, options)
    raise TraceStoreError(
        f"unsupported database backend {backend!r}; use sqlite:///path/to/trace.db or "
        "postgresql+psycopg://user:password@host/db",
        database=shown,
    )


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "<unparseable database URL>"
    return f"{scheme}://{_PASSWORD.sub(_HIDDEN, rest, count=1)}"
