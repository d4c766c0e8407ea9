"""Engine creation and per-dialect connection setup for the catalog."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from satchel._sqlite import enable_wal
from satchel.core.errors import NotSupportedError

__all__ = [
    "create_driver_engine",
    "create_sqlite_engine",
    "driver_url",
    "is_memory_sqlite",
    "is_sqlite",
    "refresh_statistics",
]

_BUSY_TIMEOUT_SECONDS = 30
# ANALYZE samples this many rows per index instead of reading whole tables (ms at 1M rows).
ANALYSIS_LIMIT = 1000

MIN_SQLITE = (3, 35, 0)
"""The oldest SQLite the catalog runs on: it records what each write changed with RETURNING."""


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_memory_sqlite(url: str) -> bool:
    if not is_sqlite(url):
        return False
    rest = url.split("://", 1)[1] if "://" in url else ""
    return rest in ("", "/", "/:memory:") or "mode=memory" in rest


def driver_url(url: str) -> str:
    """*url* with its async driver named: a bare ``postgresql://`` (or ``postgres://``) URL
    means asyncpg, the one PostgreSQL driver the catalog runs on."""
    scheme, separator, rest = url.partition("://")
    if separator and scheme in ("postgres", "postgresql"):
        return f"postgresql+asyncpg://{rest}"
    return url


def create_driver_engine(url: str) -> AsyncEngine:
    """An async engine for a server database (PostgreSQL through asyncpg)."""
    return create_async_engine(url, pool_pre_ping=True)


def create_sqlite_engine(url: str) -> Engine:
    """A synchronous pysqlite engine for *url* (``sqlite+aiosqlite://`` is accepted as a synonym):
    WAL, full sync, a busy timeout, and BEGIN IMMEDIATE for writes (so writers in several
    processes queue instead of failing)."""
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise NotSupportedError(
            f"the catalog needs SQLite {'.'.join(map(str, MIN_SQLITE))} or newer (RETURNING); "
            f"this Python's sqlite3 is {sqlite3.sqlite_version}"
        )
    memory = is_memory_sqlite(url)
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": _BUSY_TIMEOUT_SECONDS}
    }
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = create_sync_engine(make_url(url).set(drivername="sqlite"), **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook issue BEGIN itself (pysqlite's own is deferred-only).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            enable_wal(cursor, _BUSY_TIMEOUT_SECONDS)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("satchel_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get("satchel_autocommit"):
            conn.exec_driver_sql("BEGIN")

    return engine


def refresh_statistics(conn: Connection) -> None:
    """Refresh SQLite's planner statistics (sampled, see ANALYSIS_LIMIT) and commit.

    Without them SQLite answers searches through the one-valued sandbox index (a full scan)
    instead of the per-owner index (bench/growth.py).
    """
    conn.exec_driver_sql("ANALYZE")
    conn.commit()
