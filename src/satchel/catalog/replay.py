"""Rebuild every view of the catalog from the event log (seed 001's disaster recovery).

One write transaction empties each table of :data:`~satchel.catalog.changes.VIEWS`, then reads
the log in sequence order and applies each event's row images (see
:mod:`satchel.catalog.changes`): a row image is inserted as it was, a null deletes the row. A
page of events is collapsed first (only a key's last image in the page matters), so each page
costs one delete and one bulk insert per table. The transaction commits only if every event
applied: a failed replay leaves the views as they were.

With ``check=True`` the rebuilt views are compared with the ones they replace, table by table and
row by row, and the transaction is rolled back: a dry run that proves the log complete.

Run it with the service stopped: on PostgreSQL it holds the lock writers take to log events, so
no event commits while it runs, but a writer that began before it would fail on its rows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_

from satchel.catalog.catalog import Catalog
from satchel.catalog.changes import VIEWS, Key, key_columns
from satchel.catalog.connection import CatalogConnection
from satchel.catalog.tables import events
from satchel.catalog.writer import EVENT_ORDER_KEY, EVENT_ORDER_LOCK

__all__ = ["ReplayReport", "dump_views", "replay"]

_PAGE = 200  # events per page (each carries at most 500 rows)
_CHUNK = 200  # keys per DELETE


class _RolledBack(Exception):
    """Raised inside the dry run's transaction so that it rolls back."""


@dataclasses.dataclass(frozen=True, slots=True)
class ReplayReport:
    """What a replay applied: the highest sequence, how many events carried rows, and how many
    rows each view holds after it. ``differences`` (a dry run only) names the tables whose rows
    differ from the ones before, with how many keys differ."""

    highest_seq: int
    events: int
    rows: dict[str, int]
    differences: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


async def replay(catalog: Catalog, *, check: bool = False) -> ReplayReport:
    """Empty every view and rebuild it from the log; with *check*, compare and roll back."""
    report: ReplayReport | None = None
    try:
        async with catalog.write(bulk=True) as writer:
            conn = writer.raw  # the rows replay writes are not changes to log
            if conn.dialect.name == "postgresql":
                await conn.execute(EVENT_ORDER_LOCK, EVENT_ORDER_KEY)
            before = await dump_views(conn) if check else None
            for table in VIEWS.values():
                await conn.execute(delete(table))
            highest, applied = await _apply_log(conn)
            rows = {}
            for name, table in VIEWS.items():
                count = select(func.count()).select_from(table)
                rows[name] = (await conn.execute(count)).scalar_one()
            if before is None:
                report = ReplayReport(highest, applied, rows)
            else:
                differences = _differences(before, await dump_views(conn))
                report = ReplayReport(highest, applied, rows, differences)
                raise _RolledBack
    except _RolledBack:
        pass
    assert report is not None
    return report


async def _apply_log(conn: CatalogConnection) -> tuple[int, int]:
    highest = (await conn.execute(select(func.max(events.c.seq)))).scalar_one() or 0
    query = (
        select(events.c.seq, events.c.changes)
        .where(events.c.changes.is_not(None), events.c.seq <= highest)
        .order_by(events.c.seq)
        .limit(_PAGE)
    )
    after, applied = 0, 0
    while True:
        page = (await conn.execute(query.where(events.c.seq > after))).all()
        if not page:
            return highest, applied
        latest: dict[Key, Any] = {}
        for _seq, changes in page:
            for name, key, image in changes or ():  # a JSON null (none) as well
                latest[(name, tuple(key))] = image
        await _write(conn, latest)
        after, applied = page[-1][0], applied + len(page)


async def _write(conn: CatalogConnection, latest: dict[Key, Any]) -> None:
    """Delete each key's row, then insert the images that are rows (per table, in bulk)."""
    by_table: dict[str, list[Key]] = {}
    for key in latest:
        by_table.setdefault(key[0], []).append(key)
    for name, keys in by_table.items():
        table = VIEWS[name]
        columns = key_columns(table)
        for start in range(0, len(keys), _CHUNK):
            chunk = [key for _name, key in keys[start : start + _CHUNK]]
            if len(columns) == 1:
                where = columns[0].in_([key[0] for key in chunk])
            else:
                where = tuple_(*columns).in_(chunk)
            await conn.execute(delete(table).where(where))
        images = [latest[key] for key in keys if latest[key] is not None]
        if images:
            await conn.execute(insert(table), images)  # type: ignore[arg-type]


async def dump_views(conn: CatalogConnection) -> dict[str, list[dict[str, Any]]]:
    """Every view's rows as dicts, ordered by primary key (what the equality checks compare)."""
    dumped: dict[str, list[dict[str, Any]]] = {}
    for name, table in VIEWS.items():
        query = select(table).order_by(*key_columns(table))
        dumped[name] = [dict(row._mapping) for row in await conn.execute(query)]
    return dumped


def _differences(
    before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for name, table in VIEWS.items():
        keys = [column.name for column in key_columns(table)]
        old = {tuple(row[k] for k in keys): row for row in before[name]}
        new = {tuple(row[k] for k in keys): row for row in after[name]}
        differing = sum(1 for key in old.keys() | new.keys() if old.get(key) != new.get(key))
        if differing:
            found[name] = differing
    return found
