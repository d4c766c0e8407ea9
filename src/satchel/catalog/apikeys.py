"""Catalog operations on API keys (the ``api_keys`` table)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from satchel.catalog.connection import CatalogConnection
from satchel.catalog.tables import api_keys
from satchel.core.apikeys import ApiKey

__all__ = ["get_api_key", "insert_api_key", "list_api_keys", "revoke_api_key"]


def _to_key(row: Any) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        user_id=row.user_id,
        sandbox_id=row.sandbox_id,
        is_admin=bool(row.is_admin),
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


async def insert_api_key(conn: CatalogConnection, key: ApiKey, secret_digest: str) -> None:
    await conn.execute(
        insert(api_keys).values(
            key_id=key.key_id,
            secret_digest=secret_digest,
            sandbox_id=key.sandbox_id,
            user_id=key.user_id,
            is_admin=key.is_admin,
            name=key.name,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
        )
    )


async def get_api_key(conn: CatalogConnection, key_id: str) -> tuple[ApiKey, str] | None:
    """The key and its secret's digest, or None."""
    row = (await conn.execute(select(api_keys).where(api_keys.c.key_id == key_id))).first()
    return None if row is None else (_to_key(row), row.secret_digest)


async def list_api_keys(conn: CatalogConnection, sandbox_id: str) -> list[ApiKey]:
    query = (
        select(api_keys)
        .where(api_keys.c.sandbox_id == sandbox_id)
        .order_by(api_keys.c.created_at, api_keys.c.key_id)
    )
    return [_to_key(row) for row in await conn.execute(query)]


async def revoke_api_key(conn: CatalogConnection, key_id: str, sandbox_id: str, now: float) -> bool:
    """Mark a live key revoked; False when there is no such unrevoked key in the sandbox."""
    result = await conn.execute(
        update(api_keys)
        .where(
            api_keys.c.key_id == key_id,
            api_keys.c.sandbox_id == sandbox_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)
