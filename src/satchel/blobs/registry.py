"""Backend registry: provider names (Satchel's and seed 000's aliases) to lazily loaded classes."""

from __future__ import annotations

import importlib
from typing import Any

from satchel.blobs.base import BlobStore
from satchel.core.errors import InvalidRequestError, NotSupportedError

__all__ = ["PROVIDER_ALIASES", "create_blob_store", "keeps_data", "normalise_provider"]

PROVIDER_ALIASES: dict[str, str] = {
    "memory": "memory",
    "vfs-memory": "memory",
    "vfs": "memory",
    "filesystem": "filesystem",
    "fs": "filesystem",
    "local": "filesystem",  # seed 001's backend id
    "vfs-filesystem": "filesystem",
    "sqlite": "sqlite",
    "vfs-sqlite": "sqlite",
    "s3": "s3",
    "vfs-s3": "s3",
    "ibm_cos": "s3",
    "ibm-cos": "s3",
}

_MODULES: dict[str, tuple[str, str, str | None]] = {
    "memory": ("satchel.blobs.memory", "MemoryBlobStore", None),
    "filesystem": ("satchel.blobs.filesystem", "FilesystemBlobStore", None),
    "sqlite": ("satchel.blobs.sqlite", "SQLiteBlobStore", None),
    "s3": ("satchel.blobs.s3", "S3BlobStore", "satchel[s3]"),
}


_VOLATILE = frozenset({"memory"})


def keeps_data(backend: str) -> bool:
    """Whether the backend called *backend* keeps its bytes after the process ends (all but
    ``memory``): a store can only persist when its blobs do."""
    return normalise_provider(backend) not in _VOLATILE


def normalise_provider(name: str) -> str:
    """Map a provider name or alias (``vfs-filesystem``, ``ibm_cos``…) to a backend name."""
    try:
        return PROVIDER_ALIASES[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(PROVIDER_ALIASES))
        raise InvalidRequestError(f"unknown storage provider {name!r}; known: {known}") from None


def create_blob_store(name: str, **options: Any) -> BlobStore:
    """Instantiate the backend called *name* with *options*, importing its module only now."""
    backend = normalise_provider(name)
    module_name, class_name, extra = _MODULES[backend]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise NotSupportedError(
                f"the {backend} blob backend is not part of this version of Satchel"
            ) from exc
        hint = f" (install it with: pip install '{extra}')" if extra else ""
        raise NotSupportedError(f"the {backend} blob backend is not available{hint}") from exc
    store: BlobStore = getattr(module, class_name)(**options)
    return store
