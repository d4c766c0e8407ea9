"""A full disk is one error of the tree (507), whichever layer notices it, and the library
refuses new content below its reserve while reads, updates and deletes keep working.
(The whole scenario on a real full tmpfs is tests/server/test_disk_full.py.)"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.exc import OperationalError
from tests.store.internals import context_of

from satchel import ArtifactStore, InsufficientStorageError
from satchel.catalog.catalog import _catalog_error
from satchel.core.errors import error_for_status, is_disk_full
from satchel.core.requests import MultipartUploadInitRequest


def _sqlite_full(tmp_path: Path) -> sqlite3.Error:
    """A real SQLITE_FULL: a database capped at two pages."""
    conn = sqlite3.connect(tmp_path / "capped.db")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 2")
    try:
        conn.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,))
    except sqlite3.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError("the capped database took 100 kB")


def test_every_kind_of_full_disk_is_recognised(tmp_path: Path) -> None:
    full = _sqlite_full(tmp_path)
    assert is_disk_full(full)
    wrapped = OperationalError("INSERT", {}, full)  # as SQLAlchemy raises it
    assert is_disk_full(wrapped)
    assert isinstance(_catalog_error(wrapped), InsufficientStorageError)
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    locked = OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    assert not is_disk_full(locked)
    assert _catalog_error(locked).status_code == 503
    assert error_for_status(507) is InsufficientStorageError
    assert InsufficientStorageError.status_code == 507


def test_sqlalchemy_surfaces_sqlite_full_as_the_tree_expects(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'capped2.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x BLOB)")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA max_page_count = 2")
        with pytest.raises(OperationalError) as caught:
            conn.exec_driver_sql("INSERT INTO t VALUES (?)", (b"x" * 100_000,))
    engine.dispose()
    assert isinstance(_catalog_error(caught.value), InsufficientStorageError)


@pytest.mark.parametrize("blob_backend", ["filesystem", "sqlite"])
async def test_below_the_reserve_new_content_is_refused_and_the_rest_works(
    tmp_path: Path, blob_backend: str
) -> None:
    stat = os.statvfs(tmp_path)
    free = stat.f_bavail * stat.f_frsize
    store = ArtifactStore(storage_provider=blob_backend, data_dir=tmp_path / "var")
    async with store:
        kept = await store.store(b"kept", mime="text/plain", summary="before")
        # Pretend the disk is nearly full: a reserve larger than what is free.
        context_of(store).space.reserve_bytes = free + 2**40
        with pytest.raises(InsufficientStorageError, match="disk is full"):
            await store.store(b"new", mime="text/plain")
        with pytest.raises(InsufficientStorageError):
            await store.update_file(kept, data=b"replaced")
        upload = await store.initiate_multipart_upload(
            MultipartUploadInitRequest(filename="m.bin", mime_type="application/x-test")
        )
        with pytest.raises(InsufficientStorageError):
            await store.upload_part(upload["upload_id"], 1, b"p")
        assert await store.read_file(kept) == b"kept"
        await store.update_metadata(kept, summary="after")
        assert (await store.metadata(kept)).summary == "after"
        assert (await store.get_stats())["total_artifacts"] == 1
        health = await store.health()
        assert health["status"] == "degraded"
        assert health["checks"]["disk"]["status"] == "full"
        assert await store.delete(kept)
