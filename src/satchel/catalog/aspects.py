"""Catalog operations on aspects and the provenance links among them.

``reader.aspects`` / ``writer.aspects`` hand out :class:`AspectRows` bound to the caller's
connection. Every query takes the reading caller and keeps to the aspects it may see (the
audience columns, as the event feed does)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sqlalchemy import insert, select, update

from satchel.catalog.connection import CatalogConnection
from satchel.catalog.feed import visible_to
from satchel.catalog.rows import decode_cursor, encode_cursor
from satchel.catalog.tables import aspects
from satchel.core.access import Caller
from satchel.core.aspects import AspectRecord, AspectState, EntityKind
from satchel.core.errors import InvalidRequestError

__all__ = ["AspectRows"]

_IN_CHUNK = 500


def _to_aspect(row: Any) -> AspectRecord:
    return AspectRecord(
        aspect_id=row.aspect_id,
        sandbox_id=row.sandbox_id,
        entity=row.entity,
        entity_kind=EntityKind(row.entity_kind),
        schema=row.schema,
        content=dict(row.content or {}),
        policy=row.policy,
        state=AspectState(row.state),
        created_at=row.created_at,
        retracted_at=row.retracted_at,
        actor=row.actor,
        scope=row.scope,
        owner_id=row.owner_id,
        session_id=row.session_id,
        link=row.link,
    )


def aspect_values(record: AspectRecord) -> dict[str, Any]:
    values = {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}
    values["entity_kind"] = record.entity_kind.value
    values["state"] = record.state.value
    return values


class AspectRows:
    def __init__(self, conn: CatalogConnection) -> None:
        self.conn = conn

    def _visible(self, sandbox_id: str, caller: Caller) -> Any:
        return (aspects.c.sandbox_id == sandbox_id) & visible_to(caller, aspects)

    async def insert(self, record: AspectRecord) -> None:
        await self.conn.execute(insert(aspects), aspect_values(record))

    async def get(self, aspect_id: str, sandbox_id: str) -> AspectRecord | None:
        query = select(aspects).where(
            aspects.c.aspect_id == aspect_id, aspects.c.sandbox_id == sandbox_id
        )
        row = (await self.conn.execute(query)).first()
        return None if row is None else _to_aspect(row)

    async def retract(self, aspect_id: str, now: float) -> bool:
        result = await self.conn.execute(
            update(aspects)
            .where(aspects.c.aspect_id == aspect_id, aspects.c.state == AspectState.ACTIVE.value)
            .values(state=AspectState.RETRACTED.value, retracted_at=now)
        )
        return bool(result.rowcount)

    async def active(self, sandbox_id: str, entity: str, schema: str) -> list[AspectRecord]:
        """The active aspects of *entity* under *schema* (a slug matches all its versions)."""
        query = select(aspects).where(
            aspects.c.sandbox_id == sandbox_id,
            aspects.c.entity == entity,
            aspects.c.state == AspectState.ACTIVE.value,
            _of_schema(schema),
        )
        return [_to_aspect(row) for row in await self.conn.execute(query)]

    async def page(
        self,
        sandbox_id: str,
        caller: Caller,
        *,
        entity: str | None,
        schema: str | None,
        include_retracted: bool,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[AspectRecord], str | None]:
        """Aspects *caller* may see, oldest first, with a keyset cursor."""
        query = select(aspects).where(self._visible(sandbox_id, caller))
        if entity is not None:
            query = query.where(aspects.c.entity == entity)
        if schema is not None:
            query = query.where(_of_schema(schema))
        if not include_retracted:
            query = query.where(aspects.c.state == AspectState.ACTIVE.value)
        if cursor is not None:
            created_at, aspect_id = decode_cursor(cursor, 2)
            if (
                isinstance(created_at, bool)
                or not isinstance(created_at, (int, float))
                or not math.isfinite(created_at)
                or not isinstance(aspect_id, str)
            ):
                raise InvalidRequestError("malformed page cursor")
            query = query.where(
                (aspects.c.created_at > created_at)
                | ((aspects.c.created_at == created_at) & (aspects.c.aspect_id > aspect_id))
            )
        query = query.order_by(aspects.c.created_at, aspects.c.aspect_id).limit(limit + 1)
        rows = [_to_aspect(row) for row in await self.conn.execute(query)]
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if rows and more else None
        return rows, None if last is None else encode_cursor(last.created_at, last.aspect_id)

    async def links(
        self,
        sandbox_id: str,
        caller: Caller,
        *,
        schema: str,
        entities: list[str] | None = None,
        jobs: list[str] | None = None,
        limit: int = 10_000,
    ) -> list[tuple[str, str]]:
        """Active provenance links ``(entity, job)`` under *schema* that *caller* may see,
        from *entities* or to *jobs* (asked for in chunks, at most *limit* links)."""
        column, names = (
            (aspects.c.entity, entities) if entities is not None else (aspects.c.link, jobs or [])
        )
        found: list[tuple[str, str]] = []
        for start in range(0, len(names), _IN_CHUNK):
            query = (
                select(aspects.c.entity, aspects.c.link)
                .where(
                    self._visible(sandbox_id, caller),
                    aspects.c.schema == schema,
                    aspects.c.state == AspectState.ACTIVE.value,
                    column.in_(names[start : start + _IN_CHUNK]),
                )
                .order_by(aspects.c.created_at, aspects.c.aspect_id)
                .limit(limit - len(found))
            )
            found += [(row.entity, row.link) for row in await self.conn.execute(query)]
            if len(found) >= limit:
                break
        return found


def _of_schema(schema: str) -> Any:
    """``slug@N`` exactly, or every version of ``slug``."""
    if "@" in schema:
        return aspects.c.schema == schema
    return (aspects.c.schema == schema) | aspects.c.schema.startswith(schema + "@", autoescape=True)
