"""What each write transaction changed in the catalog's views, logged with its events.

The event log is the source of truth (seed 001): every table other than ``events`` is a
materialised view that ``satchel replay`` can drop and rebuild from the log. For that each event
carries, besides its public payload, the rows its transaction left behind: a list of
``[table, key, row]`` entries where ``row`` is the row's full image at commit (or null: the row
was deleted). Replay applies them in sequence order; since every image is the state a committed
transaction produced, applying them in that order reproduces the views exactly.

:class:`ChangeCapture` wraps the writer's connection and notes the key of every row an INSERT,
UPDATE or DELETE on a view touches (from the bound values of a plain insert, otherwise with
``RETURNING`` of the primary key, so a ``WHERE`` that matches many rows is covered too). At the
end of the transaction :func:`read_images` reads those rows back. The images never leave the
server: the feed does not select them (they hold API-key digests, for one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, select, tuple_
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import Insert, UpdateBase

from satchel.catalog.connection import CatalogConnection, HotQuery, Rows
from satchel.catalog.tables import (
    api_keys,
    artifacts,
    aspects,
    blobs,
    holds,
    metadata_schemas,
    package_files,
    packages,
    sessions,
    uploads,
    webhooks,
)

__all__ = ["VIEWS", "ChangeCapture", "Key", "key_columns", "read_images"]

VIEWS: dict[str, Table] = {
    table.name: table
    for table in (
        artifacts,
        sessions,
        blobs,
        uploads,
        api_keys,
        packages,
        package_files,
        holds,
        metadata_schemas,
        aspects,
        webhooks,
    )
}
"""Every table replay rebuilds (all but the log itself)."""

Key = tuple[str, tuple[Any, ...]]
"""A touched row: its table's name and its primary key's values."""

_CHUNK = 200  # keys per SELECT when reading images back


def key_columns(table: Table) -> list[Any]:
    return list(table.primary_key.columns)


class ChangeCapture:
    """A connection that remembers which view rows its statements wrote (in first-touch order)."""

    __slots__ = ("inner", "touched")

    def __init__(self, inner: CatalogConnection) -> None:
        self.inner = inner
        self.touched: dict[Key, None] = {}

    @property
    def dialect(self) -> Dialect:
        return self.inner.dialect

    async def execute(
        self, statement: Executable | HotQuery, parameters: dict[str, Any] | None = None
    ) -> Rows:
        if not isinstance(statement, UpdateBase):
            return await self.inner.execute(statement, parameters)
        table = statement.table
        name = getattr(table, "name", None)
        if name not in VIEWS:
            return await self.inner.execute(statement, parameters)
        columns = key_columns(VIEWS[name])
        if _plain_insert(statement) and all(c.name in (parameters or ()) for c in columns):
            assert parameters is not None
            result = await self.inner.execute(statement, parameters)
            self.touched[(name, tuple(parameters[c.name] for c in columns))] = None
            return result
        if statement._returning:  # none of the writers' statements has one
            raise NotImplementedError(f"a write to {name} with RETURNING cannot be captured")
        result = await self.inner.execute(statement.returning(*columns), parameters)
        rows = result.all()
        for row in rows:
            self.touched[(name, tuple(row))] = None
        return Rows([], len(rows))


def _plain_insert(statement: UpdateBase) -> bool:
    """An INSERT without ON CONFLICT (it inserts exactly the bound row, or fails)."""
    return isinstance(statement, Insert) and statement._post_values_clause is None


async def read_images(conn: CatalogConnection, keys: Iterable[Key]) -> dict[Key, Any]:
    """The current row (a JSON-able dict) of each key, or None where it no longer exists."""
    by_table: dict[str, list[tuple[Any, ...]]] = {}
    for name, key in keys:
        by_table.setdefault(name, []).append(key)
    images: dict[Key, Any] = {}
    for name, table_keys in by_table.items():
        table = VIEWS[name]
        columns = key_columns(table)
        for start in range(0, len(table_keys), _CHUNK):
            chunk = table_keys[start : start + _CHUNK]
            for key in chunk:
                images[(name, key)] = None
            for row in await conn.execute(select(table).where(_key_in(columns, chunk))):
                image = dict(row._mapping)
                images[(name, tuple(image[c.name] for c in columns))] = image
    return images


def _key_in(columns: Sequence[Any], keys: Sequence[tuple[Any, ...]]) -> Any:
    if len(columns) == 1:
        return columns[0].in_([key[0] for key in keys])
    return tuple_(*columns).in_(keys)
