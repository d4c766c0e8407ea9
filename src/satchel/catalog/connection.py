"""What the catalog's queries run on: one ``execute`` that returns fully fetched rows.

Two implementations. ``InlineConnection`` runs statements on a synchronous SQLAlchemy connection
right on the event loop's thread: a SQLite statement on a local file in WAL mode takes tens of
microseconds, less than handing it to a worker thread and back (measured: ~60 µs inline against
~350-460 µs per statement through aiosqlite). Whatever can wait on disk or on another process
(BEGIN IMMEDIATE, COMMIT with its fsync, migrations) is run in a thread by the catalog instead.
``AsyncDriverConnection`` wraps an async driver's connection (asyncpg for PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from sqlalchemy.engine import Connection, CursorResult, Dialect, Row
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import Executable

__all__ = ["AsyncDriverConnection", "CatalogConnection", "InlineConnection", "Rows"]


class Rows:
    """The rows (all of them, already fetched) and row count of one statement."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Row[Any]], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    @classmethod
    def of(cls, result: CursorResult[Any]) -> Rows:
        rows = list(result.all()) if result.returns_rows else []
        return cls(rows, result.rowcount)

    def __iter__(self) -> Iterator[Row[Any]]:
        return iter(self._rows)

    def all(self) -> list[Row[Any]]:
        return list(self._rows)

    def first(self) -> Row[Any] | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Row[Any]:
        if not self._rows:
            raise NoResultFound("no row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("more than one row was found when one was required")
        return self._rows[0]

    def scalar_one(self) -> Any:
        return self.one()[0]


class CatalogConnection(Protocol):
    @property
    def dialect(self) -> Dialect: ...

    async def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> Rows: ...


class InlineConnection:
    """A synchronous connection whose statements run on the calling (event loop) thread."""

    __slots__ = ("sync",)

    def __init__(self, sync: Connection) -> None:
        self.sync = sync

    @property
    def dialect(self) -> Dialect:
        return self.sync.dialect

    async def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> Rows:
        return Rows.of(self.sync.execute(statement, parameters))


class AsyncDriverConnection:
    """An async driver's connection (each statement awaits the database)."""

    __slots__ = ("conn",)

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    @property
    def dialect(self) -> Dialect:
        return self.conn.dialect

    async def execute(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> Rows:
        return Rows.of(await self.conn.execute(statement, parameters))
