"""SQLite-specific behaviour of SQLiteBlobStore: persistence, crash clean-up, bounded memory."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import sys
import textwrap
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

import satchel
from satchel.blobs.sqlite import CHUNK_SIZE, SQLiteBlobStore
from satchel.core.errors import BlobNotFoundError, ProviderError
from satchel.core.models import BlobInfo
from satchel.testing.blobstore import MiB, make_data, read_all, split, stream


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def staged(path: Path) -> tuple[int, int]:
    """(staging rows, chunk rows that belong to no blob)."""
    (rows,) = query(path, "SELECT count(*) FROM staging")
    (chunks,) = query(
        path, "SELECT count(*) FROM chunks WHERE content NOT IN (SELECT content FROM blobs)"
    )
    return int(str(rows[0])), int(str(chunks[0]))


async def test_reopened_store_sees_blob(tmp_path: Path) -> None:
    path = tmp_path / "blobs.db"
    data = make_data(2 * MiB + 99, seed=1)
    first = SQLiteBlobStore(path)
    info = await first.put_stream(stream(split(data, 300_000)))
    await first.close()
    second = SQLiteBlobStore(path)
    try:
        assert await second.head(info.digest) == BlobInfo(info.digest, len(data))
        assert await read_all(second, info.digest, MiB - 1, MiB + 1) == data[MiB - 1 : MiB + 1]
        assert await read_all(second, info.digest) == data
        assert (await second.put_stream(stream([data]))).created is False
    finally:
        await second.close()


async def test_chunk_rows_have_fixed_size(tmp_path: Path) -> None:
    store = SQLiteBlobStore(tmp_path / "blobs.db")
    try:
        await store.put_stream(stream(split(make_data(5 * MiB + 10, seed=2), 77_777)))
    finally:
        await store.close()
    sizes = query(tmp_path / "blobs.db", "SELECT seq, length(data) FROM chunks ORDER BY seq")
    assert sizes == [
        (0, CHUNK_SIZE),
        (1, CHUNK_SIZE),
        (2, CHUNK_SIZE),
        (3, CHUNK_SIZE),
        (4, CHUNK_SIZE),
        (5, 10),
    ]


_CRASHING_PUT = textwrap.dedent(
    """
    import asyncio, os, sys
    from satchel.blobs.sqlite import SQLiteBlobStore

    async def chunks():
        for i in range(6):
            yield bytes([i]) * (1024 * 1024)
        os._exit(17)  # the process dies mid-upload, after a batch of chunk rows was committed

    async def main():
        store = SQLiteBlobStore(sys.argv[1])
        await store.put_stream(chunks())

    asyncio.run(main())
    """
)


async def test_staging_rows_of_a_crashed_process_are_removed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "blobs.db"
    store = SQLiteBlobStore(path)
    kept = await store.put_stream(stream([make_data(MiB + 5, seed=3)]))
    await store.close()
    env = {**os.environ, "PYTHONPATH": str(Path(satchel.__file__).parent.parent)}
    crashing = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CRASHING_PUT, str(path), env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(crashing.communicate(), timeout=120)
    assert crashing.returncode == 17, stderr.decode()
    staging_rows, orphan_chunks = staged(path)
    assert staging_rows == 1
    assert orphan_chunks >= 4

    reopened = SQLiteBlobStore(path)
    try:
        assert staged(path) == (0, 0)
        assert [b.digest for b in (await reopened.list_page()).blobs] == [kept.digest]
        assert await reopened.head(kept.digest) == BlobInfo(kept.digest, MiB + 5)
    finally:
        await reopened.close()


async def test_sweep_keeps_uploads_that_may_be_live(tmp_path: Path) -> None:
    path = tmp_path / "blobs.db"
    await SQLiteBlobStore(path).close()  # creates the schema
    live = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(120)"
    )
    try:
        now = time.time()
        rows = [
            (1, live.pid, "other-process", now),  # another process, still running: kept
            (2, os.getpid(), "earlier-process", now),  # our pid, reused: that writer is gone
            (3, live.pid, "other-process", now - 3 * 24 * 3600),  # idle for days: gone
        ]
        with closing(sqlite3.connect(path)) as conn, conn:
            conn.executemany("INSERT INTO staging VALUES (?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO chunks VALUES (?, 0, ?)", [(c, b"x") for c, *_ in rows])
        store = SQLiteBlobStore(path)
        await store.close()
        assert query(path, "SELECT content FROM staging") == [(1,)]
        assert query(path, "SELECT content FROM chunks") == [(1,)]
    finally:
        live.kill()
        await live.wait()


async def test_blob_deleted_while_read(tmp_path: Path) -> None:
    store = SQLiteBlobStore(tmp_path / "blobs.db")
    try:
        data = make_data(3 * MiB, seed=4)
        info = await store.put_stream(stream([data]))
        reader = store.open_range(info.digest)
        assert await anext(reader) == data[:MiB]
        assert await store.delete(info.digest) is True
        with pytest.raises(BlobNotFoundError):
            await anext(reader)
        assert staged(tmp_path / "blobs.db") == (0, 0)
    finally:
        await store.close()


async def test_closed_store_raises_provider_error(tmp_path: Path) -> None:
    store = SQLiteBlobStore(tmp_path / "blobs.db")
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(ProviderError):
        await store.head("sha256:" + "0" * 64)
    with pytest.raises(ProviderError):
        await store.put_stream(stream([b"data"]))


def test_unusable_path_raises_provider_error(tmp_path: Path) -> None:
    garbage = tmp_path / "not-a-database.db"
    garbage.write_bytes(b"this is not an sqlite file" * 1000)
    with pytest.raises(ProviderError):
        SQLiteBlobStore(garbage)
    with pytest.raises(ProviderError):
        SQLiteBlobStore(tmp_path)  # a directory


async def test_creates_missing_parent_directory(tmp_path: Path) -> None:
    store = SQLiteBlobStore(tmp_path / "a" / "b" / "blobs.db")
    try:
        assert (await store.check())["status"] == "ok"
    finally:
        await store.close()


async def test_large_blob_streams_in_bounded_memory(tmp_path: Path) -> None:
    size, piece = 64 * MiB, 64 * 1024
    block = make_data(piece, seed=5)
    expected = hashlib.sha256()
    for _ in range(size // piece):
        expected.update(block)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(size // piece):
            yield block

    store = SQLiteBlobStore(tmp_path / "blobs.db")
    tracemalloc.start()
    try:
        info = await store.put_stream(chunks())
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        actual, total = hashlib.sha256(), 0
        async for part in store.open_range(info.digest):
            actual.update(part)
            total += len(part)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await store.close()
    assert info.size == size == total
    assert info.digest == "sha256:" + expected.hexdigest() == "sha256:" + actual.hexdigest()
    assert put_peak < 16 * MiB, put_peak
    assert read_peak < 16 * MiB, read_peak
