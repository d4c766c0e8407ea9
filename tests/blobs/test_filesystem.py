"""Filesystem-specific behaviour of FilesystemBlobStore: layout, permissions, temp files."""

from __future__ import annotations

import ctypes
import mmap
import os
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from satchel.blobs import filesystem
from satchel.blobs.filesystem import FilesystemBlobStore
from satchel.core.errors import InvalidRequestError, TooLargeError
from satchel.testing.blobstore import MiB, digest_of, make_data, read_all, split, stream


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[FilesystemBlobStore]:
    blob_store = FilesystemBlobStore(tmp_path / "blobs")
    yield blob_store
    await blob_store.close()


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in (root / "sha256").rglob("*") if path.is_file())


async def test_layout(store: FilesystemBlobStore) -> None:
    data = make_data(5000, seed=1)
    info = await store.put_stream(stream([data]))
    hexdigest = info.digest.removeprefix("sha256:")
    expected = store.root / "sha256" / hexdigest[:2] / hexdigest[2:4] / hexdigest
    assert stored_files(store.root) == [expected]
    assert expected.read_bytes() == data


async def test_stored_file_is_read_only(store: FilesystemBlobStore) -> None:
    info = await store.put_stream(stream([b"read only please"]))
    (path,) = stored_files(store.root)
    assert path.name == info.hex
    assert stat.S_IMODE(path.stat().st_mode) & 0o222 == 0


async def test_no_temp_files_after_success(store: FilesystemBlobStore) -> None:
    data = make_data(MiB + 1, seed=2)
    await store.put_stream(stream(split(data, 100_000)))
    await store.put_stream(stream([data]))  # the duplicate's temp file goes too
    assert os.listdir(store.root / "tmp") == []


async def test_no_temp_files_after_failures(store: FilesystemBlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield make_data(MiB, seed=3)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put_stream(broken())
    with pytest.raises(TooLargeError):
        await store.put_stream(stream([b"x" * 100]), max_bytes=99)
    with pytest.raises(InvalidRequestError):
        await store.put_stream(stream([b"abc"]), expected_digest=digest_of(b"abd"))
    assert os.listdir(store.root / "tmp") == []
    assert stored_files(store.root) == []


async def test_reopened_store_sees_blob(tmp_path: Path) -> None:
    data = make_data(MiB + 17, seed=4)
    first = FilesystemBlobStore(tmp_path / "blobs")
    info = await first.put_stream(stream([data]))
    await first.close()
    second = FilesystemBlobStore(tmp_path / "blobs")
    try:
        assert await second.head(info.digest) == info.__class__(info.digest, len(data))
        assert await read_all(second, info.digest) == data
        assert [b.digest for b in (await second.list_page()).blobs] == [info.digest]
        again = await second.put_stream(stream([data]))
        assert again.created is False
    finally:
        await second.close()


async def test_stale_temp_files_are_removed_on_open(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    FilesystemBlobStore(root)
    stale, fresh = root / "tmp" / "old.part", root / "tmp" / "new.part"
    stale.write_bytes(b"left by a crash")
    fresh.write_bytes(b"maybe another process is writing")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    FilesystemBlobStore(root)
    assert os.listdir(root / "tmp") == ["new.part"]


def _resident_pages(path: Path) -> int:
    """How many of *path*'s pages the page cache holds: mincore(2) on a mapping of the file,
    which reads nothing."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = (
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long,
    )  # fmt: skip
    libc.mincore.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p)
    libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    size = path.stat().st_size
    vector = ctypes.create_string_buffer(-(-size // mmap.PAGESIZE))
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if address in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap failed")
        try:
            if libc.mincore(address, size, vector) != 0:
                raise OSError(ctypes.get_errno(), "mincore failed")
        finally:
            libc.munmap(address, size)
    finally:
        os.close(fd)
    return sum(byte & 1 for byte in vector.raw)


def _evict_from_page_cache(path: Path) -> None:
    """Drop *path* from the page cache, and make sure it is gone: the kernel may keep pages
    while they are still being written back, so ask again until none is resident (5 s)."""
    deadline = time.monotonic() + 5
    while True:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        if _resident_pages(path) == 0:
            return
        assert time.monotonic() < deadline, f"the kernel keeps {path} in the page cache"
        time.sleep(0.05)


async def test_small_reads_from_the_page_cache_stay_on_the_loop(
    store: FilesystemBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small read the page cache can serve is done without an I/O thread; one that would
    wait on the disk (evicted with POSIX_FADV_DONTNEED) goes to a thread and reads the same."""
    data = make_data(20_000)
    info = await store.put_stream(stream([data]))
    hops: list[str] = []
    original = filesystem.in_thread

    async def counting(func: object, *args: object, **kwargs: object) -> object:
        hops.append(getattr(func, "__name__", "?"))
        return await original(func, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(filesystem, "in_thread", counting)
    (path,) = stored_files(store.root)
    _evict_from_page_cache(path)
    assert await read_all(store, info.digest) == data
    assert hops == ["read"]  # not cached: read on an I/O thread
    hops.clear()
    # a plain read settles the kernel's read-ahead state (a page still marked for read-ahead
    # also makes RWF_NOWAIT say "would block")
    path.read_bytes()
    assert await read_all(store, info.digest) == data
    assert await read_all(store, info.digest, 100, 5_000) == data[100:5_000]
    assert hops == []


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


async def test_big_reads_read_ahead_and_release_the_file_however_they_end(
    store: FilesystemBlobStore,
) -> None:
    """Chunks above the inline size are read one ahead on a thread while the previous one is
    consumed: every range comes back exact, and a reader that stops early (or fails) leaves no
    descriptor open and no thread still reading."""
    data = make_data(3 * MiB + 12_345)
    info = await store.put_stream(stream([data]))
    before = _open_fds()
    for start, end in ((0, None), (1, len(data) - 1), (200_000, 1_300_001), (MiB, MiB + 100)):
        got = await read_all(store, info.digest, start, end, chunk_size=100_000)
        assert got == data[start:end]
    chunks = store.open_range(info.digest, chunk_size=200_000)
    assert await anext(chunks) == data[:200_000]  # the second chunk is now being read ahead
    await chunks.aclose()
    assert _open_fds() == before
