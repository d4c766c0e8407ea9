"""Catalog operations on small blobs' bytes kept in the catalog (``blob_bytes``, migration
0015): the inline tier of :class:`satchel.store.inline.InlineBlobs`."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from satchel.catalog.connection import CatalogConnection, HotQuery
from satchel.catalog.tables import blob_bytes

__all__ = ["BlobBytes"]

_KEY = (blob_bytes.c.digest == bindparam("digest"), blob_bytes.c.backend == bindparam("backend"))
_DATA = HotQuery(select(blob_bytes.c.data).where(*_KEY))
_SIZE = HotQuery(select(func.length(blob_bytes.c.data).label("size")).where(*_KEY))


class BlobBytes:
    def __init__(self, conn: CatalogConnection) -> None:
        self.conn = conn

    async def data(self, digest: str, backend: str) -> bytes | None:
        """The bytes of *digest* kept for *backend*, or None when the catalog holds none."""
        row = (await self.conn.execute(_DATA, {"digest": digest, "backend": backend})).first()
        return None if row is None else bytes(row.data)

    async def size(self, digest: str, backend: str) -> int | None:
        """How many bytes of *digest* the catalog keeps for *backend* (None: none)."""
        row = (await self.conn.execute(_SIZE, {"digest": digest, "backend": backend})).first()
        return None if row is None else int(row.size)

    async def page(self, backend: str, after: str | None, limit: int) -> list[tuple[str, int]]:
        """``(digest, size)`` of the blobs kept for *backend*, in digest order after *after*."""
        query = select(blob_bytes.c.digest, func.length(blob_bytes.c.data).label("size")).where(
            blob_bytes.c.backend == backend
        )
        if after is not None:
            query = query.where(blob_bytes.c.digest > after)
        query = query.order_by(blob_bytes.c.digest).limit(limit)
        return [(row.digest, int(row.size)) for row in await self.conn.execute(query)]
