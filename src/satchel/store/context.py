"""What every part of a store shares: configuration, the clock, and once open the catalog, the
blob backends, the session cache and the upload staging area."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError

from satchel.blobs.base import BlobStore
from satchel.blobs.staging import FileStaging, MemoryStaging, Staging, StagingProvider
from satchel.catalog import Catalog
from satchel.config import Settings, load_signing_key
from satchel.core.clock import Clock, system_clock
from satchel.core.digests import new_blake3
from satchel.core.errors import ArtifactStoreError, InvalidRequestError, ProviderError
from satchel.core.models import ArtifactMetadata, ArtifactRecord
from satchel.core.retention import RetentionClass, load_retention_classes
from satchel.core.routing import RoutingTable
from satchel.core.validation import check_id
from satchel.sessions import SessionProvider, create_session_provider
from satchel.store.backends import close_backends, open_backends
from satchel.store.inline import InlineBlobs, InlineTier
from satchel.store.quarantine import Quarantine
from satchel.store.space import DiskSpace, SpaceCheckedStaging, watched_paths

__all__ = ["StoreContext", "make_settings"]


def make_settings(base: Settings | None, overrides: dict[str, Any]) -> Settings:
    """*base* (default: from the environment) with the constructor's *overrides* applied."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        settings = base if base is not None else Settings()
        return Settings(**{**settings.model_dump(), **given}) if given else settings
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidRequestError(f"invalid configuration: {problems}") from None


class StoreContext:
    """The shared state of one store. Parts read ``catalog``, ``sessions`` and ``staging`` only
    after :meth:`ensure_open` (which the access gate calls for every operation)."""

    def __init__(
        self,
        settings: Settings,
        *,
        default_backend: str,
        blob_store: BlobStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.sandbox_id = check_id("sandbox_id", settings.sandbox_id)
        routing_settings = settings
        if blob_store is not None:  # the given store is the blob backend, whatever is configured
            routing_settings = settings.model_copy(update={"blob_backend": blob_store.name})
        self.routing: RoutingTable = routing_settings.storage_routing(default_backend)
        self.default_backend = self.routing.default_backend
        self.persistent = settings.persistent(self.default_backend)
        self.clock: Clock = clock or system_clock
        self.retention_classes: dict[str, RetentionClass] = load_retention_classes(
            settings.retention_config_path
        )
        if settings.manifest_blake3:
            new_blake3()  # refuse to start without the blake3 package
        self._blob_store_given = blob_store
        self._backends: dict[str, BlobStore] | None = None
        self._catalog: Catalog | None = None
        self._sessions: SessionProvider | None = None
        self._staging: Staging | None = None
        self._space: DiskSpace | None = None
        self._inline: dict[str, InlineTier] = {}
        self._signing_key: bytes | None = None
        self._open_lock = asyncio.Lock()
        self._closed = False
        self.quarantine = Quarantine(lambda: self.catalog)  # blobs that failed verification

    def now(self) -> float:
        return self.clock()

    # -- lifecycle ---------------------------------------------------------------------------

    async def ensure_open(self) -> None:
        """Connect the catalog (running migrations), backends and session cache, once."""
        if self._catalog is not None:
            return
        if self._closed:
            raise ArtifactStoreError("this ArtifactStore is closed")
        async with self._open_lock:
            if self._catalog is not None:
                return
            if self.persistent and self.settings.data_dir is not None:
                # created for this user alone (catalog, blobs, staging, keys live in it)
                self.settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            sessions = create_session_provider(
                self.settings.session_provider,
                redis_url=self.settings.redis_url,
                namespace=self.sandbox_id,
                clock=self.clock,
            )
            backends = await open_backends(self.settings, self.routing, self._blob_store_given)
            catalog: Catalog | None = None
            try:
                url = self.settings.resolved_database_url(persistent=self.persistent)
                space = self._make_space(url)
                await asyncio.to_thread(space.open)
                catalog = Catalog(url, before_write=space.headroom)
                await catalog.migrate()
                staging = self._make_staging(backends[self.default_backend], space)
                self._inline_backends(backends, catalog)
            except BaseException:
                if catalog is not None:
                    await catalog.close()
                await close_backends(backends, self._blob_store_given)
                await sessions.close()
                raise
            self._staging, self._sessions, self._backends = staging, sessions, backends
            self._space = space
            self._catalog = catalog

    def _inline_backends(self, backends: dict[str, BlobStore], catalog: Catalog) -> None:
        """Put the catalog's small blobs in front of the filesystem backend this store made
        (:mod:`satchel.store.inline`), unless ``inline_max_bytes`` is 0."""
        limit = self.settings.inline_max_bytes
        made = backends.get("filesystem")
        if limit and made is not None and made is not self._blob_store_given:
            backends["filesystem"] = InlineBlobs(made, catalog, "filesystem")
            self._inline = {"filesystem": InlineTier(limit)}

    def inline_tier(self, backend: str) -> InlineTier | None:
        """How new content for *backend* is kept in the catalog when small (None: never)."""
        return self._inline.get(backend)

    def _make_space(self, catalog_url: str) -> DiskSpace:
        settings = self.settings
        if not self.persistent:
            return DiskSpace([], reserve_bytes=0, reserve_dir=None)
        paths = watched_paths(settings, list(self.routing.backends), catalog_url)
        return DiskSpace(
            paths, reserve_bytes=settings.disk_reserve_bytes, reserve_dir=settings.data_dir
        )

    def _make_staging(self, blobs: BlobStore, space: DiskSpace) -> Staging:
        if isinstance(blobs, StagingProvider):  # S3: in the bucket, so replicas share it
            return blobs.upload_staging()
        if not self.persistent:
            return MemoryStaging()
        staging = FileStaging(self.settings.resolved_staging_dir(), fsync=self.settings.fsync)
        return SpaceCheckedStaging(staging, space)

    async def close(self) -> None:
        self._closed = True
        catalog, backends, sessions = self._catalog, self._backends, self._sessions
        self._catalog = None
        if catalog is not None:
            await catalog.close()
        if backends is not None:
            await close_backends(backends, self._blob_store_given)
        if sessions is not None:
            await sessions.close()

    # -- what an open store has ------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            raise ArtifactStoreError("store is not open")
        return self._catalog

    @property
    def sessions(self) -> SessionProvider:
        if self._sessions is None:
            raise ArtifactStoreError("store is not open")
        return self._sessions

    @property
    def staging(self) -> Staging:
        if self._staging is None:
            raise ArtifactStoreError("store is not open")
        return self._staging

    @property
    def space(self) -> DiskSpace:
        """Free space of the local disks this store writes to, and its reserve."""
        if self._space is None:
            raise ArtifactStoreError("store is not open")
        return self._space

    @property
    def backends(self) -> dict[str, BlobStore]:
        """Every configured backend's blob store, by backend id."""
        if self._backends is None:
            raise ArtifactStoreError("store is not open")
        return self._backends

    def blob_backend(self, backend: str | None = None) -> BlobStore:
        """The blob store of *backend* (None: the default backend).

        Raises:
            ProviderError: *backend* is not configured in this store (e.g. content written
                under another configuration).
        """
        store = self.backends.get(backend or self.default_backend)
        if store is None:
            raise ProviderError(
                f"storage backend {backend!r} is not configured in this store "
                f"(configured: {', '.join(self.backends)})"
            )
        return store

    def signing_key(self) -> bytes:
        """The HMAC key of presigned URLs: configured, else kept in the data directory (or, for
        an ephemeral store, made once per process)."""
        if self._signing_key is None:
            self._signing_key = load_signing_key(self.settings, persistent=self.persistent)
        return self._signing_key

    def to_metadata(self, record: ArtifactRecord) -> ArtifactMetadata:
        return ArtifactMetadata.from_record(record, session_provider=self.settings.session_provider)
