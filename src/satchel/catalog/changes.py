"""What each write transaction changed in the catalog's views, logged with its events.

The event log is the source of truth (seed 001): every table other than ``events`` is a
materialised view that ``satchel replay`` can drop and rebuild from the log. For that each event
carries, besides its public payload, the rows its transaction left behind: a list of
``[table, key, row]`` entries where ``row`` is the row's full image at commit (or null: the row
was deleted). Replay applies them in sequence order; since every image is the state a committed
transaction produced, applying them in that order reproduces the views exactly.

:class:`ChangeCapture` wraps the writer's connection and adds ``RETURNING`` of every column to
each INSERT, UPDATE or DELETE on a view, so it learns each row's image from the statement itself
(a ``WHERE`` that matches many rows is covered too, and no row is read twice). The images never
leave the server: the feed does not select them (they hold API-key digests, for one).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import Delete, Insert, UpdateBase

from satchel.catalog.connection import CatalogConnection, HotInsert, HotQuery, Rows
from satchel.catalog.tables import (
    api_keys,
    artifacts,
    aspects,
    blobs,
    collection_members,
    holds,
    metadata_schemas,
    package_files,
    packages,
    proxy_entries,
    sessions,
    uploads,
    webhooks,
)

__all__ = ["VIEWS", "ChangeCapture", "Key", "key_columns"]

VIEWS: dict[str, Table] = {
    table.name: table
    for table in (
        artifacts,
        collection_members,
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
        proxy_entries,
    )
}
"""Every table replay rebuilds (all but the log itself)."""

Key = tuple[str, tuple[Any, ...]]
"""A touched row: its table's name and its primary key's values."""


def key_columns(table: Table) -> list[Any]:
    return list(table.primary_key.columns)


# Per view: its columns' names and its key's, looked up for every row written (iterating a
# SQLAlchemy column collection costs more than the lookup itself).
_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    name: (tuple(column.name for column in table.c), tuple(c.name for c in key_columns(table)))
    for name, table in VIEWS.items()
}


class ChangeCapture:
    """A connection that keeps the image of every view row its statements wrote: the row as
    the statement left it (``RETURNING`` all its columns), or None once deleted. Keys keep the
    order they were first touched in; a later statement's image replaces an earlier one."""

    __slots__ = ("inner", "touched")

    def __init__(self, inner: CatalogConnection) -> None:
        self.inner = inner
        self.touched: dict[Key, dict[str, Any] | None] = {}

    @property
    def dialect(self) -> Dialect:
        return self.inner.dialect

    async def execute(
        self,
        statement: Executable | HotQuery | HotInsert,
        parameters: dict[str, Any] | None = None,
    ) -> Rows:
        if not isinstance(statement, (HotInsert, UpdateBase)):
            return await self.inner.execute(statement, parameters)
        name = getattr(statement.table, "name", None)
        if name not in VIEWS:
            return await self.inner.execute(statement, parameters)
        table = VIEWS[name]
        columns, keys = _SHAPES[name]
        if isinstance(statement, HotInsert) and not statement.plain:
            rows = (await self.inner.execute(statement.returning_all(), parameters)).all()
            self._keep(name, keys, rows, deleted=False)
            return Rows([], len(rows))
        if isinstance(statement, HotInsert) or (
            parameters is not None and _plain_insert(statement)
        ):
            # It inserts exactly these values (or fails): they are the image, no RETURNING
            # needed (no view column has a default to fill in).
            assert parameters is not None
            result = await self.inner.execute(statement, parameters)
            get = parameters.get
            image = {column: get(column) for column in columns}
            self.touched[(name, tuple(image[k] for k in keys))] = image
            return result
        if statement._returning:  # capture adds its own; the writers' statements have none
            raise TypeError(f"a write to {name} must leave RETURNING to change capture")
        result = await self.inner.execute(statement.returning(*table.c), parameters)
        rows = result.all()
        self._keep(name, keys, rows, deleted=isinstance(statement, Delete))
        return Rows([], len(rows))  # the caller's statement returns no rows, only a count

    def _keep(self, name: str, keys: tuple[str, ...], rows: list[Any], *, deleted: bool) -> None:
        """Record the images of *rows* (SQLAlchemy rows, or a HotInsert's named tuples)."""
        for row in rows:
            image = row._asdict() if hasattr(row, "_asdict") else dict(row._mapping)
            self.touched[(name, tuple(image[k] for k in keys))] = None if deleted else image


def _plain_insert(statement: UpdateBase) -> bool:
    """An INSERT of bound values without ON CONFLICT or values of its own."""
    return (
        isinstance(statement, Insert)
        and statement._post_values_clause is None
        and not statement._values
        and not statement._multi_values
    )
