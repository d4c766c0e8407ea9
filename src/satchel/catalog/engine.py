"""Engine creation and per-dialect connection setup for the catalog."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from satchel._sqlite import enable_wal

__all__ = ["create_engine", "is_memory_sqlite", "is_sqlite"]

_BUSY_TIMEOUT_SECONDS = 30


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_memory_sqlite(url: str) -> bool:
    if not is_sqlite(url):
        return False
    rest = url.split("://", 1)[1] if "://" in url else ""
    return rest in ("", "/", "/:memory:") or "mode=memory" in rest


def create_engine(url: str) -> AsyncEngine:
    """An async engine for *url*; SQLite gets WAL, full sync, a busy timeout and BEGIN IMMEDIATE
    for writes (so writers in several processes queue instead of failing)."""
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True)
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": _BUSY_TIMEOUT_SECONDS}
    }
    if is_memory_sqlite(url):
        kwargs["poolclass"] = StaticPool
    engine = create_async_engine(url, **kwargs)
    memory = is_memory_sqlite(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook issue BEGIN itself (pysqlite's own is deferred-only).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            enable_wal(cursor, _BUSY_TIMEOUT_SECONDS)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("satchel_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine
