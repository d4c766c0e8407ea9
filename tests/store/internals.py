"""What tests inspect beneath the contract: the embedded store's parts (its catalog, blob
backends and staging), or, for the remote client, the server's directories opened from the test
process. None of this is API; tests that need it say why (``embedded_only`` or a remote that
exposes the same through :class:`InspectableRemote`)."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import update

from satchel import ArtifactStore, Settings
from satchel.blobs import BlobStore, create_blob_store
from satchel.blobs.filesystem import FilesystemBlobStore
from satchel.blobs.staging import FileStaging, Staging
from satchel.catalog import Catalog
from satchel.catalog.tables import blob_bytes
from satchel.client import RemoteArtifactStore
from satchel.store.context import StoreContext
from satchel.store.inline import InlineBlobs

__all__ = [
    "InspectableRemote",
    "blobs_of",
    "catalog_of",
    "context_of",
    "files_of",
    "rewrite_blob",
    "staging_of",
]


class InspectableRemote(RemoteArtifactStore):
    """The remote client, plus ``blobs`` and ``staging``: the server's blob and staging
    directories opened from the test process, so tests can check which bytes the server keeps
    (the tests only read them)."""

    server_settings: Settings
    _server_catalog: Catalog | None = None

    @property
    def blobs(self) -> BlobStore:
        """The server's blob files, with the small blobs its catalog keeps in front of them."""
        root = self.server_settings.resolved_fs_root()
        files = create_blob_store("filesystem", root=root, fsync=False)
        if not self.server_settings.inline_max_bytes:
            return files
        if self._server_catalog is None:
            url = self.server_settings.resolved_database_url(persistent=True)
            self._server_catalog = Catalog(url)
        return InlineBlobs(files, self._server_catalog, "filesystem")

    async def close(self) -> None:
        if self._server_catalog is not None:
            await self._server_catalog.close()
            self._server_catalog = None
        await super().close()

    @property
    def staging(self) -> FileStaging:
        return FileStaging(self.server_settings.resolved_staging_dir(), fsync=False)


def context_of(store: ArtifactStore) -> StoreContext:
    """The shared state of an embedded store (settings, clock, catalog, backends, staging)."""
    context: StoreContext = store._context
    return context


def blobs_of(store: Any) -> BlobStore:
    """The default blob backend of *store* (the server's, for an InspectableRemote)."""
    if isinstance(store, InspectableRemote):
        return store.blobs
    return context_of(store).blob_backend()


def staging_of(store: Any) -> Staging:
    """The upload staging area of *store* (the server's, for an InspectableRemote)."""
    if isinstance(store, InspectableRemote):
        return store.staging
    return context_of(store).staging


def catalog_of(store: ArtifactStore) -> Catalog:
    return context_of(store).catalog


def files_of(store: Any) -> BlobStore:
    """The default backend's own blob store: for the filesystem backend, its files without the
    small blobs the catalog keeps in front of them (``satchel.store.inline``)."""
    blobs = blobs_of(store)
    return blobs.inner if isinstance(blobs, InlineBlobs) else blobs


async def rewrite_blob(store: ArtifactStore, digest: str, data: bytes) -> None:
    """Replace the bytes kept for *digest* behind the store's back, wherever they are (the
    catalog's ``blob_bytes`` row or the blob's file), as a failing disk would."""
    blobs = blobs_of(store)
    if isinstance(blobs, InlineBlobs) and await blobs.kept(digest) is not None:
        async with catalog_of(store).write() as writer:
            await writer.raw.execute(
                update(blob_bytes)
                .where(blob_bytes.c.digest == digest, blob_bytes.c.backend == blobs.backend)
                .values(data=data)
            )
        return
    files = files_of(store)
    assert isinstance(files, FilesystemBlobStore)
    path = files._path(digest)
    os.chmod(path, 0o644)
    path.write_bytes(data)
