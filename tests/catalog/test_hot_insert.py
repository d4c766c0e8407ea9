"""HotInsert writes on SQLite exactly what SQLAlchemy's own execution writes: the same rows
(JSON encoded the same way), the same images returned by its upserts, and a statement its plan
cannot express falls back to SQLAlchemy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.dialects import sqlite

from satchel.catalog.connection import InlineConnection
from satchel.catalog.hotinsert import HotInsert
from satchel.catalog.tables import artifacts, blobs, metadata

ROW: dict[str, Any] = {
    "artifact_id": "a" * 32,
    "sandbox_id": "default",
    "scope": "sandbox",
    "session_id": "s1",
    "owner_id": None,
    "filename": "ünï.txt",
    "mime": "text/plain",
    "summary": "",
    "meta": {"kind": "report", "n": 3, "nested": {"ok": True}, "text": "naïve"},
    "bytes": 4096,
    "sha256": "sha256:" + "0" * 64,
    "etag": "e" * 32,
    "version": 1,
    "key": "grid/key",
    "stored_at": 1.5,
    "updated_at": 1.5,
    "expires_at": None,
    "ttl": None,
    "storage_provider": "filesystem",
    "retention_class": None,
    "retain_until": None,
    "policy": None,
}


def _engine(path: Path) -> Any:
    engine = create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    return engine


def _raw(engine: Any, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return list(conn.exec_driver_sql(sql).all())


async def test_a_plain_insert_writes_what_sqlalchemy_writes(tmp_path: Path) -> None:
    hot_engine, sa_engine = _engine(tmp_path / "hot.db"), _engine(tmp_path / "sa.db")
    with hot_engine.begin() as conn:
        result = await InlineConnection(conn).execute(HotInsert(artifacts), dict(ROW))
        assert result.rowcount == 1
    with sa_engine.begin() as conn:
        conn.execute(insert(artifacts), dict(ROW))
    query = "SELECT * FROM artifacts"
    assert _raw(hot_engine, query) == _raw(sa_engine, query)  # the stored text, byte for byte
    with hot_engine.connect() as conn:
        assert conn.execute(select(artifacts.c.meta)).scalar_one() == ROW["meta"]


async def test_an_upsert_returns_the_rows_it_wrote_as_sqlalchemy_would(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "c.db")
    statement = sqlite.insert(blobs).on_conflict_do_update(
        index_elements=["digest", "backend"], set_={"orphaned_at": None}
    )
    hot = HotInsert(blobs, statement).returning_all()
    values = {
        "digest": "sha256:" + "1" * 64,
        "backend": "filesystem",
        "size": 10,
        "created_at": 2.0,
        "orphaned_at": 9.0,
    }
    with engine.begin() as conn:
        first = (await InlineConnection(conn).execute(hot, values)).all()
        again = (await InlineConnection(conn).execute(hot, {**values, "size": 99})).all()
        expected = conn.execute(statement.returning(*blobs.c), {**values, "size": 7}).all()
    assert [row._asdict() for row in first] == [{**values, "verified_at": None, "failure": None}]
    # on conflict only orphaned_at changes (to the statement's own None): the size stays 10
    assert [row._asdict() for row in again] == [
        {**values, "orphaned_at": None, "verified_at": None, "failure": None}
    ]
    assert [dict(row._mapping) for row in expected] == [row._asdict() for row in again]


async def test_what_the_plan_cannot_express_runs_through_sqlalchemy(tmp_path: Path) -> None:
    local = MetaData()
    table = Table(
        "counted",
        local,
        Column("id", String, primary_key=True),
        Column("n", Integer, default=lambda: 41 + 1),  # a Python-side default to compute
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'd.db'}")
    local.create_all(engine)
    hot = HotInsert(table)
    assert hot.plan(engine.dialect, ("id",)) is None
    assert hot.plan(engine.dialect, ("id", "n")) is not None
    with engine.begin() as conn:
        await InlineConnection(conn).execute(hot, {"id": "x"})
        await InlineConnection(conn).execute(hot, {"id": "y", "n": 7})
    assert _raw(engine, "SELECT id, n FROM counted ORDER BY id") == [("x", 42), ("y", 7)]
