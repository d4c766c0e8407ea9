"""Small blobs kept in the catalog: one commit makes a small store's bytes and rows durable.

A store of a few KiB to the filesystem backend used to wait for three syncs in turn: the blob
file's, its directory's (the link), then the catalog's commit. Content of at most
``inline_max_bytes`` is now gathered in memory while it is hashed (:meth:`InlineTier.take`) and
written into the catalog's ``blob_bytes`` table in the transaction that references it
(:meth:`satchel.store.ledger.BlobLedger.reference`), so the group commit's one WAL sync covers
bytes and rows of every store in the group, as a BlueStore OSD defers small writes into its log.

:class:`InlineBlobs` is the backend the store then sees: the filesystem blob store with the
catalog's bytes in front. Reads, ``head``, listings (what ``satchel check`` compares with the
ledger) and verification find a blob in either place; a blob larger than
:data:`~satchel.config.INLINE_CEILING` is never looked for in the catalog. The bytes of a blob
are dropped by garbage collection in the transaction that drops its ledger row. Nothing about an
artifact says where its bytes are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from satchel.blobs.base import (
    DEFAULT_CHUNK_SIZE,
    BlobPage,
    BlobStore,
    Digester,
    LeavesLeftovers,
    Leftover,
    LocalFiles,
    check_range,
)
from satchel.catalog import Catalog
from satchel.config import INLINE_CEILING
from satchel.core.models import BlobInfo
from satchel.core.streams import close_stream

__all__ = ["InlineBlob", "InlineBlobs", "InlineTier"]


@dataclasses.dataclass(frozen=True, slots=True)
class InlineBlob(BlobInfo):
    """A small blob put nowhere yet: its bytes go into the catalog with the row referencing it."""

    data: bytes = b""


class InlineTier:
    """How small content is told apart while it streams in."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def take(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None,
        expected_digest: str | None,
    ) -> tuple[InlineBlob | None, list[bytes], AsyncIterator[bytes]]:
        """Read *chunks* up to the limit: an ``InlineBlob`` when the stream ended within it
        (hashed, bounded by *max_bytes*, checked against *expected_digest*), else None with the
        pieces read so far and the iterator of the rest, for the blob store to take over."""
        digester = Digester(max_bytes=max_bytes, expected_digest=expected_digest)
        pieces: list[bytes] = []
        size = 0
        rest = aiter(chunks)
        try:
            async for chunk in rest:
                if not chunk:
                    continue
                pieces.append(chunk)
                size += len(chunk)
                if size > self.limit:
                    return None, pieces, rest
            for piece in pieces:
                digester.update(piece)
        except BaseException:
            await close_stream(rest)  # the caller's stream ends here, however
            raise
        data = b"".join(pieces)
        return InlineBlob(digest=digester.finish(), size=size, created=True, data=data), [], rest


class InlineBlobs:
    """A filesystem blob store with the catalog's small blobs in front (see the module)."""

    def __init__(self, inner: BlobStore, catalog: Catalog, backend: str) -> None:
        assert isinstance(inner, LocalFiles)
        assert isinstance(inner, LeavesLeftovers)
        self.inner = inner
        self.catalog = catalog
        self.backend = backend
        self.name = inner.name

    async def kept(self, digest: str) -> bytes | None:
        """The bytes the catalog keeps for *digest*, or None."""
        return await self.catalog.kept_bytes(digest, self.backend)

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        expected_digest: str | None = None,
    ) -> BlobInfo:
        return await self.inner.put_stream(
            chunks, max_bytes=max_bytes, expected_digest=expected_digest
        )

    def sized(self, size: int) -> BlobStore:
        """The store to read a blob of *size* bytes from: the files alone when it is too large
        to have been kept in the catalog (no lookup there), else this one."""
        return self.inner if size > INLINE_CEILING else self

    async def open_range(
        self,
        digest: str,
        start: int = 0,
        end: int | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncIterator[bytes]:
        check_range(start, end)
        data = await self.kept(digest)
        if data is None:
            async for chunk in self.inner.open_range(digest, start, end, chunk_size=chunk_size):
                yield chunk
            return
        stop = len(data) if end is None else min(end, len(data))
        for offset in range(start, stop, chunk_size):
            yield data[offset : min(offset + chunk_size, stop)]

    async def head(self, digest: str) -> BlobInfo | None:
        found = await self.inner.head(digest)
        if found is not None:
            return found
        async with self.catalog.read() as reader:
            size = await reader.blob_bytes.size(digest, self.backend)
        return None if size is None else BlobInfo(digest=digest, size=size)

    async def delete(self, digest: str) -> bool:
        """Remove the blob: its file and the bytes the catalog keeps, in a transaction of its
        own. Garbage collection, which holds the write lock already, drops kept bytes in its
        transaction and deletes only the file (``inner``)."""
        async with self.catalog.write() as writer:
            kept = await writer.drop_blob_bytes(digest, backend=self.backend)
        return await self.inner.delete(digest) or kept

    async def list_page(self, *, cursor: str | None = None, limit: int = 1000) -> BlobPage:
        """Files and kept bytes together, in digest order (a blob in both is listed once)."""
        files = await self.inner.list_page(cursor=cursor, limit=limit)
        async with self.catalog.read() as reader:
            kept = await reader.blob_bytes.page(self.backend, cursor, limit)
        merged = {info.digest: info for info in files.blobs}
        for digest, size in kept:
            merged.setdefault(digest, BlobInfo(digest=digest, size=size))
        ordered = [merged[digest] for digest in sorted(merged)]
        # Each source listed its first *limit* after the cursor: the merge is exact up to the
        # smaller of their last digests (or everything, when neither had more).
        bounds = []
        if files.next_cursor is not None:
            bounds.append(files.next_cursor)
        if len(kept) == limit:
            bounds.append(kept[-1][0])
        if not bounds:
            page = ordered[:limit]
            more = len(ordered) > limit
        else:
            bound = min(bounds)
            page = [info for info in ordered if info.digest <= bound][:limit]
            more = True
        return BlobPage(blobs=page, next_cursor=page[-1].digest if more and page else None)

    async def local_file(self, digest: str) -> str | None:
        return await self.inner.local_file(digest)  # None for bytes kept in the catalog

    async def leftovers(self) -> list[Leftover]:
        return await self.inner.leftovers()

    async def remove_leftover(self, name: str) -> bool:
        return await self.inner.remove_leftover(name)

    async def check(self) -> dict[str, Any]:
        return await self.inner.check()

    async def close(self) -> None:
        await self.inner.close()
