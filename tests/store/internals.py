"""What tests inspect beneath the contract: the embedded store's parts (its catalog, blob
backends and staging), or, for the remote client, the server's directories opened from the test
process. None of this is API; tests that need it say why (``embedded_only`` or a remote that
exposes the same through :class:`InspectableRemote`)."""

from __future__ import annotations

from typing import Any

from satchel import ArtifactStore, Settings
from satchel.blobs import BlobStore, create_blob_store
from satchel.blobs.staging import FileStaging, Staging
from satchel.catalog import Catalog
from satchel.client import RemoteArtifactStore
from satchel.store.context import StoreContext

__all__ = ["InspectableRemote", "blobs_of", "catalog_of", "context_of", "staging_of"]


class InspectableRemote(RemoteArtifactStore):
    """The remote client, plus ``blobs`` and ``staging``: the server's blob and staging
    directories opened from the test process, so tests can check which bytes the server keeps
    (the tests only read them)."""

    server_settings: Settings

    @property
    def blobs(self) -> BlobStore:
        root = self.server_settings.resolved_fs_root()
        return create_blob_store("filesystem", root=root, fsync=False)

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
