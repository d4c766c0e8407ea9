"""Filesystem backend under failure: cancelled writes, a full disk."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import satchel.blobs.filesystem as filesystem_module
from satchel.blobs.filesystem import FilesystemBlobStore
from satchel.core.errors import InsufficientStorageError
from satchel.testing.blobstore import MiB, digest_of, make_data, read_all, split, stream


async def _stream(*parts: bytes, pause: float = 0.0) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
        await asyncio.sleep(pause)


async def test_cancelled_put_never_writes_into_another_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = filesystem_module._TempFile.write

    def slow_write(self: filesystem_module._TempFile, data: bytes) -> None:
        if data.startswith(b"AAAA"):
            time.sleep(0.4)  # a slow disk: the put is cancelled while this thread runs
        real_write(self, data)

    monkeypatch.setattr(filesystem_module._TempFile, "write", slow_write)
    store = FilesystemBlobStore(tmp_path / "blobs", fsync=False)
    doomed = asyncio.create_task(store.put_stream(_stream(b"AAAA" * 1024)))
    await asyncio.sleep(0.1)
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    # A second put opens a new temp file, which may get the cancelled put's descriptor number.
    info = await store.put_stream(_stream(b"B" * 100, b"C" * 100, pause=0.5))
    stored = b"".join([chunk async for chunk in store.open_range(info.digest)])
    assert stored == b"B" * 100 + b"C" * 100
    assert info.digest == "sha256:" + hashlib.sha256(stored).hexdigest()
    assert os.listdir(tmp_path / "blobs" / "tmp") == []


async def test_full_disk_maps_to_insufficient_storage_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(self: object, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(filesystem_module._TempFile, "write", no_space)
    store = FilesystemBlobStore(tmp_path / "blobs")
    with pytest.raises(InsufficientStorageError, match="disk is full"):
        await store.put_stream(_stream(b"data"))
    assert os.listdir(tmp_path / "blobs" / "tmp") == []
    assert (await store.list_page()).blobs == []


async def test_errors_of_the_callers_stream_pass_through_unchanged(tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"first"
        raise ConnectionResetError("client went away")

    store = FilesystemBlobStore(tmp_path / "blobs")
    with pytest.raises(ConnectionResetError):
        await store.put_stream(broken())
    assert os.listdir(tmp_path / "blobs" / "tmp") == []


async def test_a_big_stream_written_while_it_arrives_is_exact_and_fails_cleanly(
    tmp_path: Path,
) -> None:
    """Chunks are hashed and written on two threads while the next arrives, and a big blob is
    flushed as it goes: the stored bytes and digest are exact; a stream failing past several
    flushes (so hashing, writing and a flush may all be in flight) leaves no temp file."""
    store = FilesystemBlobStore(tmp_path / "blobs")
    data = make_data(20 * MiB + 7)
    info = await store.put_stream(stream(split(data, MiB)))
    assert info.digest == digest_of(data)
    assert info.size == len(data)
    assert await read_all(store, info.digest) == data

    async def breaks_late() -> AsyncIterator[bytes]:
        for index, part in enumerate(split(make_data(30 * MiB), MiB)):
            if index == 17:
                raise ConnectionResetError("client went away")
            yield part

    with pytest.raises(ConnectionResetError):
        await store.put_stream(breaks_late())
    assert os.listdir(tmp_path / "blobs" / "tmp") == []
    assert [blob.digest for blob in (await store.list_page()).blobs] == [info.digest]
    await store.close()
