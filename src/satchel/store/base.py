"""The core of ArtifactStore: configuration, lifecycle, callers, loading and writing records.

Concern-specific mixins (artifacts, listing, streaming, presign, admin) build on this class.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable
from typing import Any, Final, Protocol

from pydantic import ValidationError

from satchel.blobs.base import BlobStore
from satchel.blobs.staging import FileStaging, MemoryStaging, Staging, StagingProvider
from satchel.catalog import Catalog, CatalogWriter
from satchel.config import Settings, load_signing_key
from satchel.core.access import Caller, check_read, check_write
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    InvalidRequestError,
    PreconditionFailedError,
    ProviderError,
    SessionError,
)
from satchel.core.ids import new_session_id
from satchel.core.models import ArtifactMetadata, ArtifactRecord, BlobInfo, SessionRecord
from satchel.core.routing import RoutingTable, producer_of
from satchel.core.validation import check_id, check_optional_id
from satchel.sessions import SessionProvider, create_session_provider
from satchel.store.backends import close_backends, open_backends

__all__ = ["UNSET", "StoreBase"]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Any] = _Unset()
"""Marks an argument the caller did not give (``ttl`` left out differs from ``ttl=None``)."""


class StoredContent(Protocol):
    """Anything recording where its bytes are (an ``ArtifactRecord`` or ``ArtifactMetadata``)."""

    @property
    def storage_provider(self) -> str: ...


class BlobVanishedError(ProviderError):
    """Bytes a new artifact depends on were collected while it was being stored."""


class StoreBase:
    """State and shared machinery of an ArtifactStore."""

    def __init__(
        self,
        *,
        bucket: str | None = None,
        storage_provider: str | None = None,
        session_provider: str | None = None,
        sandbox_id: str | None = None,
        session_ttl_hours: float | None = None,
        max_retries: int = 3,
        settings: Settings | None = None,
        database_url: str | None = None,
        fs_root: str | None = None,
        blob_store: BlobStore | None = None,
        default_backend: str = "memory",
    ) -> None:
        overrides: dict[str, Any] = {
            "blob_backend": storage_provider,
            "session_provider": session_provider,
            "sandbox_id": sandbox_id,
            "bucket": bucket,
            "session_ttl_hours": session_ttl_hours,
            "database_url": database_url,
            "fs_root": fs_root,
        }
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            base = settings if settings is not None else Settings()
            self.settings = Settings(**{**base.model_dump(), **given}) if given else base
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            )
            raise InvalidRequestError(f"invalid configuration: {problems}") from None
        self.sandbox_id = check_id("sandbox_id", self.settings.sandbox_id)
        self.bucket = self.settings.bucket
        self.max_retries = max_retries
        routing_settings = self.settings
        if blob_store is not None:  # the given store is the blob backend, whatever is configured
            routing_settings = self.settings.model_copy(update={"blob_backend": blob_store.name})
        self.routing: RoutingTable = routing_settings.storage_routing(default_backend)
        self.storage_provider = self.routing.default_backend
        self.session_provider_name = self.settings.session_provider
        self._blob_store_given = blob_store
        self._backends: dict[str, BlobStore] | None = None
        self._catalog: Catalog | None = None
        self._sessions: SessionProvider | None = None
        self._open_lock = asyncio.Lock()
        self._closed = False
        self._staging: Staging | None = None
        self._signing_key: bytes | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def _make_staging(self, blobs: BlobStore) -> Staging:
        if isinstance(blobs, StagingProvider):  # S3: in the bucket, so replicas share it
            return blobs.upload_staging()
        if self.storage_provider == "memory":
            return MemoryStaging()
        return FileStaging(self.settings.resolved_staging_dir(), fsync=self.settings.fsync)

    async def _ensure_open(self) -> None:
        if self._catalog is not None:
            return
        if self._closed:
            raise ArtifactStoreError("this ArtifactStore is closed")
        async with self._open_lock:
            if self._catalog is not None:
                return
            sessions = create_session_provider(
                self.session_provider_name,
                redis_url=self.settings.redis_url,
                namespace=self.sandbox_id,
            )
            backends = self._backends
            if backends is None:
                backends = await open_backends(self.settings, self.routing, self._blob_store_given)
            catalog: Catalog | None = None
            try:
                catalog = Catalog(self.settings.resolved_database_url(self.storage_provider))
                await catalog.migrate()
            except BaseException:
                if catalog is not None:
                    await catalog.close()
                await close_backends(backends, self._blob_store_given)
                await sessions.close()
                raise
            self._staging = self._make_staging(backends[self.storage_provider])
            self._sessions, self._backends, self._catalog = sessions, backends, catalog

    async def open(self) -> None:
        """Connect to the catalog (running migrations) and the backends. Idempotent."""
        await self._ensure_open()

    async def close(self) -> None:
        """Release the catalog, blob backends and session provider."""
        self._closed = True
        catalog, backends, sessions = self._catalog, self._backends, self._sessions
        self._catalog = None
        if catalog is not None:
            await catalog.close()
        if backends is not None:
            await close_backends(backends, self._blob_store_given)
        if sessions is not None:
            await sessions.close()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            raise ArtifactStoreError("store is not open")
        return self._catalog

    @property
    def blobs(self) -> BlobStore:
        """The default backend's blob store (where content goes when no route matches)."""
        return self.blob_backend(self.storage_provider)

    @property
    def blob_backends(self) -> dict[str, BlobStore]:
        """Every configured backend's blob store, by backend id (a copy)."""
        if self._backends is None:
            raise ArtifactStoreError("store is not open")
        return dict(self._backends)

    def blob_backend(self, backend: str | None = None) -> BlobStore:
        """The blob store of *backend* (None: the default backend).

        Raises:
            ProviderError: *backend* is not configured in this store (e.g. content written
                under another configuration).
        """
        if self._backends is None:
            raise ArtifactStoreError("store is not open")
        store = self._backends.get(backend or self.storage_provider)
        if store is None:
            raise ProviderError(
                f"storage backend {backend!r} is not configured in this store "
                f"(configured: {', '.join(self._backends)})"
            )
        return store

    def blobs_for(self, artifact: StoredContent) -> BlobStore:
        """The blob store holding an artifact's content (the backend recorded on its row)."""
        return self.blob_backend(artifact.storage_provider)

    def _route(
        self,
        meta: dict[str, Any],
        owner_id: str | None,
        session_id: str | None,
        retention_class: str | None = None,
    ) -> str:
        """The backend new content of an artifact with these attributes goes to."""
        producer = producer_of(meta, owner_id, session_id)
        return self.routing.backend_for(producer, retention_class)

    @property
    def staging(self) -> Staging:
        if self._staging is None:
            raise ArtifactStoreError("store is not open")
        return self._staging

    def signing_key(self) -> bytes:
        """The HMAC key of presigned URLs: configured, else kept in the data directory (or, for
        an in-memory store, made once per process)."""
        if self._signing_key is None:
            self._signing_key = load_signing_key(
                self.settings, memory=self.storage_provider == "memory"
            )
        return self._signing_key

    @property
    def sessions(self) -> SessionProvider:
        if self._sessions is None:
            raise ArtifactStoreError("store is not open")
        return self._sessions

    @staticmethod
    def _now() -> float:
        return time.time()

    # -- sessions and callers ----------------------------------------------------------------

    async def _session_record(self, session_id: str) -> SessionRecord | None:
        cached = await self.sessions.get(session_id)
        if cached is not None:
            return cached
        async with self.catalog.read() as reader:
            record = await reader.get_session(session_id)
        if record is None or record.sandbox_id != self.sandbox_id:
            return None
        if not record.is_expired(self._now()):
            await self.sessions.put(record)
        return record

    async def _caller(self, user_id: str | None, session_id: str | None) -> Caller:
        """Who a call that names *user_id* / *session_id* acts as (validated)."""
        await self._ensure_open()
        check_optional_id("user_id", user_id)
        check_optional_id("session_id", session_id)
        owner = None
        if session_id is not None:
            record = await self._session_record(session_id)
            if record is not None and record.is_expired(self._now()):
                raise ArtifactExpiredError(f"session {session_id} has expired")
            owner = record.user_id if record is not None else None
            if user_id is not None and owner is not None and owner != user_id:
                raise AccessDeniedError(f"session {session_id} belongs to another user")
        return Caller(user_id=user_id, session_id=session_id, session_owner=owner)

    async def _resolve_session(
        self, caller: Caller, session_id: str | None, *, ttl_hours: float | None = None
    ) -> SessionRecord:
        """The session a new artifact goes into: the named one or a new one (not yet written).

        A new session is persisted by :meth:`_persist_session` in the same transaction as the
        artifact that needs it, so a failed upload leaves no empty session behind.
        """
        now = self._now()
        if session_id is not None:
            existing = await self._session_record(session_id)
            if existing is not None:
                if existing.is_expired(now):
                    raise ArtifactExpiredError(f"session {session_id} has expired")
                return existing
        return SessionRecord(
            session_id=session_id or new_session_id(caller.user_id),
            sandbox_id=self.sandbox_id,
            user_id=caller.user_id,
            created_at=now,
            expires_at=now + (ttl_hours or self.settings.session_ttl_hours) * 3600,
        )

    async def _persist_session(
        self, writer: CatalogWriter, record: SessionRecord, caller: Caller
    ) -> SessionRecord:
        """Insert *record* if it is new (with its event); return the stored session.

        Raises AccessDeniedError when the session turns out to belong to another user (it was
        created concurrently by someone else).
        """
        if await writer.insert_session(record):
            await writer.append_event(
                type="session.created",
                subject=record.session_id,
                payload={"user_id": record.user_id, "expires_at": record.expires_at},
                actor=caller.user_id,
                time=record.created_at,
            )
        elif await self.sessions.get(record.session_id) != record:
            # Not the session this store already knows: someone else created it meanwhile.
            stored = await writer.get_session(record.session_id)
            if stored is None or stored.sandbox_id != self.sandbox_id:
                raise SessionError(f"session {record.session_id} cannot be used in this sandbox")
            record = stored
        if caller.user_id is not None and record.user_id not in (None, caller.user_id):
            raise AccessDeniedError(f"session {record.session_id} belongs to another user")
        return record

    async def _allocate_session(
        self, caller: Caller, session_id: str | None, *, ttl_hours: float | None = None
    ) -> SessionRecord:
        """Resolve and persist a session in a transaction of its own."""
        record = await self._resolve_session(caller, session_id, ttl_hours=ttl_hours)
        async with self.catalog.write() as writer:
            record = await self._persist_session(writer, record, caller)
        await self.sessions.put(record)
        return record

    # -- records -----------------------------------------------------------------------------

    def _to_metadata(self, record: ArtifactRecord) -> ArtifactMetadata:
        return ArtifactMetadata.from_record(record, session_provider=self.session_provider_name)

    def _usable(
        self,
        record: ArtifactRecord | None,
        artifact_id: str,
        caller: Caller,
        *,
        write: bool,
        allow_expired: bool = False,
    ) -> ArtifactRecord:
        """The record if it exists, *caller* may use it and it is live; else the right error.

        Access is checked before expiry, so a stranger cannot tell an expired artifact apart
        from a live one.
        """
        if record is None:
            raise ArtifactNotFoundError(f"artifact {artifact_id} not found")
        (check_write if write else check_read)(record, caller)
        if not allow_expired and record.is_expired(self._now()):
            raise ArtifactExpiredError(f"artifact {artifact_id} has expired")
        return record

    async def _load(
        self, artifact_id: str, caller: Caller, *, write: bool = False
    ) -> ArtifactRecord:
        """Fetch a live artifact the caller may read (or write); raise the matching error."""
        check_id("artifact_id", artifact_id)
        async with self.catalog.read() as reader:
            record = await reader.get_artifact(artifact_id, self.sandbox_id)
        return self._usable(record, artifact_id, caller, write=write)

    async def _load_for_update(
        self,
        writer: CatalogWriter,
        artifact_id: str,
        caller: Caller,
        if_match: str | None,
        *,
        allow_expired: bool = False,
    ) -> ArtifactRecord:
        """Inside a write transaction: the record *caller* may change, matching *if_match*."""
        record = await writer.get_artifact(artifact_id, self.sandbox_id)
        record = self._usable(record, artifact_id, caller, write=True, allow_expired=allow_expired)
        if if_match is not None and if_match.strip('"') != record.etag:
            raise PreconditionFailedError(
                f"artifact {artifact_id} is at etag {record.etag}, not {if_match}"
            )
        return record

    async def _put_blob(
        self,
        chunks: AsyncIterable[bytes],
        max_bytes: int | None = None,
        *,
        backend: str | None = None,
    ) -> BlobInfo:
        """Store *chunks* in *backend* (None: the default backend)."""
        limit = self.settings.max_upload_bytes if max_bytes is None else max_bytes
        return await self.blob_backend(backend).put_stream(chunks, max_bytes=limit)

    async def _reference(
        self, writer: CatalogWriter, info: BlobInfo, now: float, backend: str | None = None
    ) -> None:
        """Point the catalog at a blob stored in *backend*, inside the writer's transaction.

        The blob is looked up again under the catalog's write lock: garbage collection takes the
        same lock, so once this returns the bytes cannot vanish before the transaction commits.
        """
        backend = backend or self.storage_provider
        await writer.reference_blob(info.digest, info.size, now, backend=backend)
        if await self.blob_backend(backend).head(info.digest) is None:
            raise BlobVanishedError(f"blob {info.digest} was collected during the upload; retry")

    async def _release(
        self, writer: CatalogWriter, digest: str, now: float, backend: str | None = None
    ) -> None:
        await writer.release_blob(digest, now, backend=backend or self.storage_provider)

    async def _discard(self, info: BlobInfo, backend: str | None = None) -> None:
        """Hand bytes stored for a write that then failed over to garbage collection.

        Without this the blob would be in no catalog row at all, so GC would never see it.
        Best effort: if the catalog fails too, the original error matters more.
        """
        now = self._now()
        backend = backend or self.storage_provider
        try:
            async with self.catalog.write() as writer:
                await writer.reference_blob(info.digest, info.size, now, backend=backend)
                await self._release(writer, info.digest, now, backend)
            if self.settings.gc_grace_seconds == 0:
                await self._collect_blob_garbage()
        except ArtifactStoreError:
            pass

    async def _collect_blob_garbage(self, limit: int = 1000) -> tuple[int, int]:
        """Delete bytes no artifact refers to (orphaned past the grace period), per backend."""
        cutoff = self._now() - self.settings.gc_grace_seconds
        removed = freed = 0
        async with self.catalog.write() as writer:
            orphans = await writer.orphaned_blobs(cutoff, limit, backends=self.routing.backends)
            for backend, digest in orphans:
                blobs = self.blob_backend(backend)
                info = await blobs.head(digest)
                await writer.forget_blob(digest, backend=backend)
                if await blobs.delete(digest):
                    removed += 1
                    freed += info.size if info else 0
                await writer.append_event(
                    type="blob.collected",
                    subject=digest,
                    payload={"bytes": info.size if info else 0, "backend": backend},
                    actor=None,
                    time=self._now(),
                )
        return removed, freed
