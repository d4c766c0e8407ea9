"""Every blob backend in the tree against the shared BlobStore conformance suite."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from satchel.blobs.base import BlobStore
from satchel.blobs.filesystem import FilesystemBlobStore
from satchel.blobs.memory import MemoryBlobStore
from satchel.blobs.sqlite import SQLiteBlobStore
from satchel.testing.blobstore import BlobStoreConformance


class TestMemoryBlobStore(BlobStoreConformance):
    @pytest.fixture
    async def blob_store(self) -> AsyncIterator[BlobStore]:
        store = MemoryBlobStore()
        yield store
        await store.close()


class TestFilesystemBlobStore(BlobStoreConformance):
    @pytest.fixture
    async def blob_store(self, tmp_path: Path) -> AsyncIterator[BlobStore]:
        store = FilesystemBlobStore(tmp_path / "blobs")
        yield store
        await store.close()

    async def leftovers(self, store: BlobStore) -> list[str]:
        assert isinstance(store, FilesystemBlobStore)
        return sorted(os.listdir(store.root / "tmp"))


class TestSQLiteBlobStore(BlobStoreConformance):
    @pytest.fixture
    async def blob_store(self, tmp_path: Path) -> AsyncIterator[BlobStore]:
        store = SQLiteBlobStore(tmp_path / "blobs.db")
        yield store
        await store.close()

    async def leftovers(self, store: BlobStore) -> list[str]:
        assert isinstance(store, SQLiteBlobStore)
        await store.check()  # queued behind any clean-up the store has not finished yet
        with closing(sqlite3.connect(store.path)) as conn:
            staged = conn.execute("SELECT content FROM staging").fetchall()
            orphans = conn.execute(
                "SELECT DISTINCT content FROM chunks WHERE content NOT IN"
                " (SELECT content FROM blobs)"
            ).fetchall()
        return [f"staging {c}" for (c,) in staged] + [f"chunks {c}" for (c,) in orphans]
