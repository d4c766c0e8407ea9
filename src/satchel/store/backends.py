"""The blob backends one store configures (see :mod:`satchel.core.routing` for the rules)."""

from __future__ import annotations

import asyncio

from satchel.blobs.base import BlobStore
from satchel.blobs.registry import create_blob_store
from satchel.config import Settings
from satchel.core.routing import RoutingTable

__all__ = ["close_backends", "make_backend", "open_backends"]


def make_backend(settings: Settings, backend: str) -> BlobStore:
    """The blob store of *backend* (a normalised id), configured from *settings*."""
    if backend == "filesystem":
        root = settings.resolved_fs_root()
        return create_blob_store(backend, root=root, fsync=settings.fsync)
    if backend == "sqlite":
        return create_blob_store(backend, path=settings.resolved_sqlite_blob_path())
    if backend == "s3":
        return create_blob_store(backend, **settings.s3_blob_options())
    return create_blob_store(backend)


async def open_backends(
    settings: Settings, routing: RoutingTable, given: BlobStore | None
) -> dict[str, BlobStore]:
    """One blob store per configured backend; *given* (if any) serves the default backend.

    Backends are made in a worker thread (one may create directories or open files); if one
    fails, those already made are closed again.
    """
    made: dict[str, BlobStore] = {}
    try:
        for backend in routing.backends:
            if given is not None and backend == routing.default_backend:
                made[backend] = given
            else:
                made[backend] = await asyncio.to_thread(make_backend, settings, backend)
    except BaseException:
        await close_backends(made, given)
        raise
    return made


async def close_backends(stores: dict[str, BlobStore], given: BlobStore | None) -> None:
    """Close every store of *stores* but the one the caller gave (it stays the caller's)."""
    for store in stores.values():
        if store is not given:
            await store.close()
