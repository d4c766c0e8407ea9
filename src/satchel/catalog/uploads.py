"""Catalog operations on upload sessions (the ``uploads`` table)."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import insert, select, update

from satchel.catalog.connection import CatalogConnection
from satchel.catalog.tables import uploads
from satchel.core.scopes import Scope
from satchel.core.uploads import UploadKind, UploadRecord, UploadState

__all__ = [
    "expired_uploads",
    "get_upload",
    "get_upload_by_artifact",
    "insert_upload",
    "replace_upload",
]


def _to_upload(row: Any) -> UploadRecord:
    return UploadRecord(
        upload_id=row.upload_id,
        kind=UploadKind(row.kind),
        state=UploadState(row.state),
        sandbox_id=row.sandbox_id,
        artifact_id=row.artifact_id,
        session_id=row.session_id,
        owner_id=row.owner_id,
        actor_id=row.actor_id,
        scope=Scope(row.scope),
        filename=row.filename,
        mime=row.mime,
        summary=row.summary,
        meta=dict(row.meta or {}),
        ttl=row.ttl,
        length=row.length,
        offset=row.offset,
        parts=dict(row.parts or {}),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _values(record: UploadRecord) -> dict[str, Any]:
    values = dataclasses.asdict(record)
    values["kind"] = record.kind.value
    values["state"] = record.state.value
    values["scope"] = record.scope.value
    return values


async def insert_upload(conn: CatalogConnection, record: UploadRecord) -> None:
    await conn.execute(insert(uploads).values(**_values(record)))


async def get_upload(
    conn: CatalogConnection, upload_id: str, sandbox_id: str, *, for_update: bool = False
) -> UploadRecord | None:
    """The upload; with *for_update* its row stays locked to this write transaction (on
    PostgreSQL; a SQLite write transaction already excludes every other writer)."""
    query = select(uploads).where(
        uploads.c.upload_id == upload_id, uploads.c.sandbox_id == sandbox_id
    )
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else _to_upload(row)


async def get_upload_by_artifact(
    conn: CatalogConnection, artifact_id: str, sandbox_id: str
) -> UploadRecord | None:
    query = select(uploads).where(
        uploads.c.artifact_id == artifact_id, uploads.c.sandbox_id == sandbox_id
    )
    row = (await conn.execute(query)).first()
    return None if row is None else _to_upload(row)


async def replace_upload(
    conn: CatalogConnection,
    record: UploadRecord,
    *,
    expected_state: UploadState,
    expected_offset: int,
) -> bool:
    """Compare-and-swap on (state, offset): False when another request moved the upload on."""
    values = _values(record)
    del values["upload_id"]
    result = await conn.execute(
        update(uploads)
        .where(
            uploads.c.upload_id == record.upload_id,
            uploads.c.state == expected_state.value,
            uploads.c.offset == expected_offset,
        )
        .values(**values)
    )
    return bool(result.rowcount)


async def expired_uploads(
    conn: CatalogConnection, sandbox_id: str, now: float, limit: int, *, claim: bool = False
) -> list[UploadRecord]:
    """Open or uploaded uploads past their expiry. With *claim* (inside a write transaction)
    the rows are locked for it on PostgreSQL, skipping rows another transaction holds, so
    replicas purging at once never process an upload twice (SQLite has one writer anyway)."""
    query = (
        select(uploads)
        .where(
            uploads.c.sandbox_id == sandbox_id,
            uploads.c.state.in_([UploadState.OPEN.value, UploadState.UPLOADED.value]),
            uploads.c.expires_at <= now,
        )
        .limit(limit)
    )
    if claim and conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=uploads)
    return [_to_upload(row) for row in await conn.execute(query)]


async def all_uploads(conn: CatalogConnection) -> list[UploadRecord]:
    """Every upload of every sandbox (``storage check`` matches staged files against them)."""
    return [_to_upload(row) for row in await conn.execute(select(uploads))]
