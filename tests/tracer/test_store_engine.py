"""The PostgreSQL engine bounds how long a server that stopped answering holds a
connection (a commit may run on the worker's event loop), unless the URL says otherwise."""

from __future__ import annotations

import sqlalchemy as sa

from tracer.store.engine import POSTGRES_TIMEOUTS, create_store_engine


def _dsn(url: str) -> str:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            return str(raw.info.dsn)
    finally:
        engine.dispose()


def test_connections_carry_bounded_network_timeouts(pg_url: str) -> None:
    dsn = _dsn(pg_url)
    for name, value in POSTGRES_TIMEOUTS.items():
        assert f"{name}={value}" in dsn, (name, dsn)


def test_a_timeout_the_url_sets_is_kept(pg_url: str) -> None:
    url = sa.make_url(pg_url).update_query_dict({"tcp_user_timeout": "2500"})
    dsn = _dsn(url.render_as_string(hide_password=False))
    assert "tcp_user_timeout=2500" in dsn and "connect_timeout=10" in dsn
