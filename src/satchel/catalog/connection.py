"""What the catalog's queries run on: one ``execute`` that returns fully fetched rows.

Two implementations. ``InlineConnection`` runs statements on a synchronous SQLAlchemy connection
right on the event loop's thread: a SQLite statement on a local file in WAL mode takes tens of
microseconds, less than handing it to a worker thread and back (measured: ~60 µs inline against
~350-460 µs per statement through aiosqlite). Whatever can wait on disk or on another process
(BEGIN IMMEDIATE, COMMIT with its fsync, migrations) is run in a thread by the catalog instead.
``AsyncDriverConnection`` wraps an async driver's connection (asyncpg for PostgreSQL).
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any, Protocol

from sqlalchemy.engine import Connection, CursorResult, Dialect
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.sql.base import Executable

from satchel.catalog.hotinsert import HotInsert

__all__ = [
    "AsyncDriverConnection",
    "CatalogConnection",
    "HotInsert",
    "HotQuery",
    "InlineConnection",
    "Rows",
]


class HotQuery:
    """A prebuilt SELECT that runs so often that SQLAlchemy's per-execution work matters.

    On an :class:`InlineConnection` (SQLite) it runs on the driver's cursor with SQL compiled
    once: SQLAlchemy's execution context costs more than the indexed lookup itself (measured:
    ~50-100 µs of ~150 µs per artifact lookup under load). Only for statements whose columns
    need no result processing beyond what the caller does (ints, floats, strings, JSON kept as
    text and decoded by the caller); rows are named tuples. Other connections execute
    ``statement`` as usual.
    """

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: tuple[str, tuple[str, ...], Any] | None = None

    def compiled(self, dialect: Dialect) -> tuple[str, tuple[str, ...], Any]:
        """SQL text, the order of its parameters, and the row type (built on first use)."""
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            if dialect.paramstyle != "qmark" or compiled.positiontup is None:
                raise TypeError(f"HotQuery needs a qmark dialect, not {dialect.name}")
            names = [str(column.key) for column in self.statement.selected_columns]
            row_type = collections.namedtuple("HotRow", names)  # type: ignore[misc]
            self._compiled = (str(compiled), tuple(compiled.positiontup), row_type)
        return self._compiled


class Rows:
    """The rows (all of them, already fetched) and row count of one statement."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    @classmethod
    def of(cls, result: CursorResult[Any]) -> Rows:
        rows = list(result.all()) if result.returns_rows else []
        return cls(rows, result.rowcount)

    # Rows are SQLAlchemy ``Row`` objects, or named tuples from a HotQuery: both are tuples
    # whose columns are also attributes.
    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return list(self._rows)

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
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
        self,
        statement: Executable | HotQuery | HotInsert,
        parameters: dict[str, Any] | None = None,
    ) -> Rows: ...


class InlineConnection:
    """A synchronous connection whose statements run on the calling (event loop) thread."""

    __slots__ = ("sync",)

    def __init__(self, sync: Connection) -> None:
        self.sync = sync

    @property
    def dialect(self) -> Dialect:
        return self.sync.dialect

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: changes whenever another connection commits."""
        driver = self.sync.connection.driver_connection
        return int(driver.execute("PRAGMA data_version").fetchone()[0])  # type: ignore[union-attr]

    async def execute(
        self,
        statement: Executable | HotQuery | HotInsert,
        parameters: dict[str, Any] | None = None,
    ) -> Rows:
        if isinstance(statement, HotInsert):
            assert parameters is not None, "a HotInsert takes its values as parameters"
            plan = statement.plan(self.sync.dialect, tuple(parameters))
            if plan is None:
                return Rows.of(self.sync.execute(statement.statement, parameters))
            driver = self.sync.connection.driver_connection
            cursor = driver.execute(plan.sql, plan.values(parameters))  # type: ignore[union-attr]
            try:
                if plan.row_type is None:
                    return Rows([], cursor.rowcount)
                rows = [plan.row_type._make(row) for row in cursor.fetchall()]
                return Rows(rows, len(rows))
            finally:
                cursor.close()
        if isinstance(statement, HotQuery):
            sql, order, row_type = statement.compiled(self.sync.dialect)
            values = () if parameters is None else tuple(parameters[name] for name in order)
            cursor = self.sync.connection.driver_connection.execute(sql, values)  # type: ignore[union-attr]
            try:
                rows = [row_type._make(row) for row in cursor.fetchall()]
            finally:
                cursor.close()
            return Rows(rows, -1)
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
        self,
        statement: Executable | HotQuery | HotInsert,
        parameters: dict[str, Any] | None = None,
    ) -> Rows:
        if isinstance(statement, (HotQuery, HotInsert)):
            statement = statement.statement
        return Rows.of(await self.conn.execute(statement, parameters))
