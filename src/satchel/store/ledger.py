"""The blob ledger: where new content goes, and the catalog's account of stored bytes.

Bytes are written before the row that points at them and referenced in the row's transaction;
releasing a reference marks the digest orphaned, and garbage collection deletes orphaned bytes
after the grace period. Every read of an artifact's bytes goes to the backend recorded on its
row (:meth:`BlobLedger.blobs_for`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any, Protocol

from satchel.blobs.base import BlobStore
from satchel.catalog import CatalogWriter
from satchel.core.errors import ArtifactStoreError, ProviderError
from satchel.core.events import Audience
from satchel.core.models import BlobInfo
from satchel.core.routing import producer_of, retention_class_of
from satchel.store.context import StoreContext

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
        return self.context.blob_backend(artifact.storage_provider)

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
        return await blobs.put_stream(chunks, max_bytes=limit, expected_digest=expected_digest)

    async def reference(
        self, writer: CatalogWriter, info: BlobInfo, now: float, backend: str
    ) -> None:
        """Point the catalog at a blob stored in *backend*, inside the writer's transaction.

        The blob is looked up again under the catalog's write lock: garbage collection takes the
        same lock, so once this returns the bytes cannot vanish before the transaction commits.
        """
        await writer.reference_blob(info.digest, info.size, now, backend=backend)
        if await self.context.blob_backend(backend).head(info.digest) is None:
            raise BlobVanishedError(f"blob {info.digest} was collected during the upload; retry")

    async def release(self, writer: CatalogWriter, digest: str, now: float, backend: str) -> None:
        """Drop one reference to *digest* in *backend* (orphaned when it was the last)."""
        await writer.release_blob(digest, now, backend=backend)

    async def discard(self, info: BlobInfo, backend: str) -> None:
        """Hand bytes stored for a write that then failed over to garbage collection.

        Without this the blob would be in no catalog row at all, so GC would never see it.
        Best effort: if the catalog fails too, the original error matters more.
        """
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
        async with context.catalog.write() as writer:
            orphans = await writer.orphaned_blobs(cutoff, limit, backends=context.routing.backends)
            for backend, digest in orphans:
                blobs = context.blob_backend(backend)
                info = await blobs.head(digest)
                await writer.forget_blob(digest, backend=backend)
                if await blobs.delete(digest):
                    removed += 1
                    freed += info.size if info else 0
                await writer.append_event(
                    type="v1.blob.collected",
                    subject=digest,
                    payload={"bytes": info.size if info else 0, "backend": backend},
                    actor=None,
                    time=context.now(),
                    audience=Audience.admins(context.sandbox_id),
                )
        return removed, freed

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
