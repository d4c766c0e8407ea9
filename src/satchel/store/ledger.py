"""The blob ledger: where new content goes, and the catalog's account of stored bytes.

Bytes are written before the row that points at them and referenced in the row's transaction;
releasing a reference marks the digest orphaned, and garbage collection deletes orphaned bytes
after the grace period. Every read of an artifact's bytes goes to the backend recorded on its
row (:meth:`BlobLedger.blobs_for`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, Protocol

from satchel.blobs.base import BlobStore
from satchel.catalog import CatalogWriter
from satchel.core.errors import ArtifactStoreError, ProviderError
from satchel.core.events import Audience
from satchel.core.models import BlobInfo
from satchel.core.routing import producer_of, retention_class_of
from satchel.core.streams import close_stream
from satchel.store.context import StoreContext
from satchel.store.inline import InlineBlob, InlineBlobs

__all__ = ["BlobLedger", "BlobVanishedError", "StoredContent"]


class StoredContent(Protocol):
    """Anything recording where its bytes are (an ``ArtifactRecord`` or ``ArtifactMetadata``)."""

    @property
    def storage_provider(self) -> str: ...


class BlobVanishedError(ProviderError):
    """Bytes a new artifact depends on were collected while it was being stored."""


class BlobLedger:
    def __init__(self, context: StoreContext) -> None:
        self.context = context

    def route(
        self,
        meta: dict[str, Any],
        owner_id: str | None,
        session_id: str | None,
        retention_class: str | None = None,
    ) -> str:
        """The backend new content of an artifact with these attributes goes to."""
        producer = producer_of(meta, owner_id, session_id)
        wanted = retention_class or retention_class_of(meta)
        return self.context.routing.backend_for(producer, wanted)

    def blobs_for(self, artifact: StoredContent) -> BlobStore:
        """The blob store holding an artifact's content (the backend recorded on its row)."""
        blobs = self.context.blob_backend(artifact.storage_provider)
        size = getattr(artifact, "bytes", None)
        if isinstance(blobs, InlineBlobs) and isinstance(size, int):
            return blobs.sized(size)
        return blobs

    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        backend: str,
        max_bytes: int | None = None,
        expected_digest: str | None = None,
    ) -> BlobInfo:
        """Store *chunks* in *backend*, bounded by *max_bytes* (default: the upload limit);
        with *expected_digest*, bytes that hash otherwise are refused and not stored."""
        limit = self.context.settings.max_upload_bytes if max_bytes is None else max_bytes
        blobs = self.context.blob_backend(backend)
        self.context.space.admit()
        tier = self.context.inline_tier(backend)
        if tier is not None:
            small, read, rest = await tier.take(
                chunks, max_bytes=limit, expected_digest=expected_digest
            )
            if small is not None:
                return small  # stored by reference(), in the catalog's transaction
            joined = _prefixed(read, rest)
            try:
                return await blobs.put_stream(
                    joined, max_bytes=limit, expected_digest=expected_digest
                )
            finally:
                await close_stream(joined)
        return await blobs.put_stream(chunks, max_bytes=limit, expected_digest=expected_digest)

    async def reference(
        self, writer: CatalogWriter, info: BlobInfo, now: float, backend: str
    ) -> None:
        """Point the catalog at a blob stored in *backend*, inside the writer's transaction.

        The blob is looked up again under the catalog's write lock: garbage collection takes the
        same lock, so once this returns the bytes cannot vanish before the transaction commits.
        """
        await writer.reference_blob(info.digest, info.size, now, backend=backend)
        if isinstance(info, InlineBlob):
            await writer.keep_blob_bytes(info.digest, info.data, backend=backend)
            return  # the bytes commit with the row: nothing can collect them first
        blobs = self.context.blob_backend(backend)
        if isinstance(blobs, InlineBlobs):  # asked on the writer's connection, not a second
            if await writer.blob_bytes.size(info.digest, backend) is not None:
                return
            blobs = blobs.inner
        if await blobs.head(info.digest) is None:
            raise BlobVanishedError(f"blob {info.digest} was collected during the upload; retry")

    async def release(self, writer: CatalogWriter, digest: str, now: float, backend: str) -> None:
        """Drop one reference to *digest* in *backend* (orphaned when it was the last)."""
        await writer.release_blob(digest, now, backend=backend)

    async def discard(self, info: BlobInfo, backend: str) -> None:
        """Hand bytes stored for a write that then failed over to garbage collection.

        Without this the blob would be in no catalog row at all, so GC would never see it.
        Best effort: if the catalog fails too, the original error matters more. Bytes kept
        for the catalog were never written anywhere: nothing to hand over.
        """
        if isinstance(info, InlineBlob):
            return
        now = self.context.now()
        try:
            async with self.context.catalog.write() as writer:
                await writer.reference_blob(info.digest, info.size, now, backend=backend)
                await self.release(writer, info.digest, now, backend)
                await writer.append_event(
                    type="v1.blob.orphaned",
                    subject=info.digest,
                    payload={"bytes": info.size, "backend": backend},
                    actor=None,
                    time=now,
                    audience=Audience.admins(self.context.sandbox_id),
                )
            await self.collect_if_eager()
        except ArtifactStoreError:
            pass

    async def collect_if_eager(self) -> None:
        """Collect at once when the grace period is zero (tests, tiny deployments)."""
        if self.context.settings.gc_grace_seconds == 0:
            await self.collect()

    async def collect(self, limit: int = 1000) -> tuple[int, int]:
        """Delete bytes no artifact refers to (orphaned past the grace period), per backend;
        return (blobs removed, bytes freed) of one batch of at most *limit*."""
        context = self.context
        cutoff = context.now() - context.settings.gc_grace_seconds
        removed = freed = 0
        async with context.catalog.write(bulk=True) as writer:
            orphans = await writer.orphaned_blobs(cutoff, limit, backends=context.routing.backends)
            for backend, digest in orphans:
                await writer.forget_blob(digest, backend=backend)
                size = await self._delete(writer, digest, backend)
                if size is not None:
                    removed += 1
                    freed += size
                await writer.append_event(
                    type="v1.blob.collected",
                    subject=digest,
                    payload={"bytes": size or 0, "backend": backend},
                    actor=None,
                    time=context.now(),
                    audience=Audience.admins(context.sandbox_id),
                )
        return removed, freed

    async def _delete(self, writer: CatalogWriter, digest: str, backend: str) -> int | None:
        """Delete the bytes of *digest* in *backend* (garbage collection's, under its write
        transaction); how many there were, or None when they were already gone. Bytes kept in
        the catalog are dropped on *writer*'s own connection (a second one could wait for the
        pool, which every concurrent collector holds a connection of)."""
        blobs = self.context.blob_backend(backend)
        if isinstance(blobs, InlineBlobs):
            kept = await writer.blob_bytes.size(digest, backend)
            if kept is not None:
                await writer.drop_blob_bytes(digest, backend=backend)
            blobs = blobs.inner
            if kept is not None:
                await blobs.delete(digest)  # a file of the same bytes too, if one was written
                return kept
        info = await blobs.head(digest)
        deleted = await blobs.delete(digest)
        return info.size if info is not None and deleted else None

    async def collect_all(self) -> tuple[int, int]:
        """Collect in batches until nothing is left to collect."""
        await self.context.ensure_open()
        total_blobs = total_bytes = 0
        while True:
            removed, freed = await self.collect()
            total_blobs += removed
            total_bytes += freed
            if removed == 0:
                return total_blobs, total_bytes


async def _prefixed(read: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The pieces already read, then the rest of the stream (closed however this ends)."""
    try:
        for piece in read:
            yield piece
        async for chunk in rest:
            yield chunk
    finally:
        await close_stream(rest)
