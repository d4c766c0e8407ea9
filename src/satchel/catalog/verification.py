"""Catalog operations of storage verification: which blobs to re-read, what was found, and the
failed ones (``reader.blob_checks``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update

from satchel.catalog.connection import CatalogConnection
from satchel.catalog.tables import blobs

__all__ = ["BlobChecks"]


class BlobChecks:
    def __init__(self, conn: CatalogConnection) -> None:
        self.conn = conn

    async def page(
        self, backends: Sequence[str], after: tuple[str, str] | None, limit: int
    ) -> list[tuple[str, str, int]]:
        """``(backend, digest, size)`` of referenced blobs in *backends*, in key order after
        *after*."""
        query = select(blobs.c.backend, blobs.c.digest, blobs.c.size).where(
            blobs.c.backend.in_(list(backends)), blobs.c.orphaned_at.is_(None)
        )
        if after is not None:
            backend, digest = after
            query = query.where(
                (blobs.c.backend > backend)
                | ((blobs.c.backend == backend) & (blobs.c.digest > digest))
            )
        query = query.order_by(blobs.c.backend, blobs.c.digest).limit(limit)
        return [(row.backend, row.digest, int(row.size)) for row in await self.conn.execute(query)]

    async def sample(self, backends: Sequence[str], count: int) -> list[tuple[str, str, int]]:
        """*count* referenced blobs of *backends* picked at random."""
        query = (
            select(blobs.c.backend, blobs.c.digest, blobs.c.size)
            .where(blobs.c.backend.in_(list(backends)), blobs.c.orphaned_at.is_(None))
            .order_by(func.random())
            .limit(count)
        )
        return [(row.backend, row.digest, int(row.size)) for row in await self.conn.execute(query)]

    async def record(self, backend: str, digest: str, now: float, failure: str | None) -> None:
        """Note a verification of one blob (*failure* None: its bytes hashed right)."""
        await self.conn.execute(
            update(blobs)
            .where(blobs.c.backend == backend, blobs.c.digest == digest)
            .values(verified_at=now, failure=failure)
        )

    async def failed(self) -> dict[tuple[str, str], str]:
        """``(backend, digest) -> failure`` of every blob that failed its last verification."""
        query = select(blobs.c.backend, blobs.c.digest, blobs.c.failure).where(
            blobs.c.failure.is_not(None)
        )
        return {(row.backend, row.digest): row.failure for row in await self.conn.execute(query)}
